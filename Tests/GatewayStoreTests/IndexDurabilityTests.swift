import Foundation
import GRDB
import GatewayStore
import Testing

/// A committed index row must survive a power cut, not only a crash.
@Suite struct IndexDurabilityTests {
    @Test func writerCommitsWithSynchronousFullInWALMode() throws {
        let dir = NSTemporaryDirectory() + "dgw-durability-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = try CacheIndex(path: dir + "/index.sqlite")
        #expect(try index.writerSynchronousLevel() == 2)
        let mode = try index.read { db in try db.fetchValue(String.self, "PRAGMA journal_mode") }
        #expect(mode == "wal")
        index.close()
    }
}
