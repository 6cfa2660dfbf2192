import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// The leaner pieces of the C-STORE acknowledgement path (issue 15 point 4): flusher threads
/// reused rather than started per instance, and index dates written without a DateFormatter in
/// exactly GRDB's stored form.
@Suite struct AcknowledgementPathTests {
    @Test func indexDatesAreGRDBsStoredText() throws {
        let dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_764_892_800.123),
            Date(timeIntervalSince1970: 951_782_400.5),  // 29 Feb 2000
            Date(timeIntervalSince1970: 4_102_444_799.999), Date(),
            // Fractions either side of half a millisecond, and one that carries into the next day.
            Date(timeIntervalSince1970: 1_764_892_800.0004), Date(timeIntervalSince1970: 1_764_892_800.0006),
            Date(timeIntervalSince1970: 1_764_892_800.9996), Date(timeIntervalSince1970: 1_764_979_199.9996),
        ] + (1...200).map { Date(timeIntervalSince1970: 1_764_892_800 + Double($0) * 0.012_345_67) }
        for date in dates {
            guard case .string(let grdb) = date.databaseValue.storage else {
                Issue.record("GRDB stores dates as text")
                continue
            }
            #expect(IndexDate.text(date) == grdb, "\(date.timeIntervalSince1970)")
        }
    }

    @Test func flushesReuseTheirThreads() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flush-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let threads = FlushThreads(limit: 4)
        var flushes: [PendingFlush] = []
        for round in 0..<50 {
            let path = "\(directory)/\(round).dcm"
            try Data(repeating: UInt8(round), count: 4096).write(to: URL(fileURLWithPath: path))
            let flush = PendingFlush.unstarted(path)
            threads.run(flush)
            try flush.wait()  // one after another, as one association's instances go
            flushes.append(flush)
        }
        #expect(threads.threadCount == 1)
        // Many at once: every flush completes, and never more threads than the limit.
        let many = (0..<40).map { i -> PendingFlush in
            let flush = PendingFlush.unstarted("\(directory)/\(i % 50).dcm")
            threads.run(flush)
            return flush
        }
        for flush in many { try flush.wait() }
        #expect(threads.threadCount <= 4)
        // A file that is not there: the flush reports it rather than hanging.
        let missing = PendingFlush.unstarted("\(directory)/missing.dcm")
        threads.run(missing)
        #expect(throws: StoreError.self) { try missing.wait() }
    }
}
