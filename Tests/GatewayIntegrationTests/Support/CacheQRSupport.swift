import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig

/// Helpers for the query/retrieve, audit and disk-space tests of the cache (files named Cache*).
enum CacheQR {
    /// A study as sent: its UID and, per series UID, the files sent.
    struct SentStudy {
        let uid: String
        var series: [String: [String]]
        var files: [String] { series.keys.sorted().flatMap { series[$0]! } }
        var sopUIDs: [String] { series.keys.sorted().flatMap { s in (1...series[s]!.count).map { "\(s).\($0)" } } }
    }

    /// One series of `count` instances in `dir/<unique>` (TestData names files by study UID, so
    /// each series gets a directory of its own).
    static func series(
        _ gw: GatewayUnderTest, study: String, series: String, count: Int, patientID: String, patientName: String,
        modality: String, date: String, time: String, accession: String, description: String, rows: Int = 4
    ) throws -> [String] {
        try TestData.study(
            in: gw.directory.sub("in-\(UUID().uuidString.prefix(8))"), count: count, studyUID: study, patientID: patientID,
            modality: modality, description: description, studyDate: date, rows: rows, columns: rows, seriesUID: series,
            extra: [.patientName: patientName, .studyTime: time, .accessionNumber: accession])
    }

    /// The three studies the query tests run against:
    /// A: PID-A Doe^Jane 20240105 101500 ACC-A, series .1 CT x2 and .2 MR x1;
    /// B: PID-B Smith^John 20240215 143000 ACC-B, series .1 MR x2;
    /// C: PID-A Doe^Jane 20231231 080000 ACC-C, series .1 CR x1.
    struct QueryFixture {
        let a: SentStudy, b: SentStudy, c: SentStudy
    }

    static func sendQueryFixture(to gw: GatewayUnderTest) async throws -> QueryFixture {
        let (ua, ub, uc) = (TestData.newUID(), TestData.newUID(), TestData.newUID())
        let a = SentStudy(uid: ua, series: [
            ua + ".1": try series(gw, study: ua, series: ua + ".1", count: 2, patientID: "PID-A", patientName: "Doe^Jane",
                                  modality: "CT", date: "20240105", time: "101500", accession: "ACC-A", description: "Head CT"),
            ua + ".2": try series(gw, study: ua, series: ua + ".2", count: 1, patientID: "PID-A", patientName: "Doe^Jane",
                                  modality: "MR", date: "20240105", time: "101500", accession: "ACC-A", description: "Head CT"),
        ])
        let b = SentStudy(uid: ub, series: [
            ub + ".1": try series(gw, study: ub, series: ub + ".1", count: 2, patientID: "PID-B", patientName: "Smith^John",
                                  modality: "MR", date: "20240215", time: "143000", accession: "ACC-B", description: "Knee MR"),
        ])
        let c = SentStudy(uid: uc, series: [
            uc + ".1": try series(gw, study: uc, series: uc + ".1", count: 1, patientID: "PID-A", patientName: "Doe^Jane",
                                  modality: "CR", date: "20231231", time: "080000", accession: "ACC-C", description: "Chest"),
        ])
        try await storescu(gw, a.files + b.files + c.files)
        return QueryFixture(a: a, b: b, c: c)
    }

    /// Runs blocking work (a peer process, the harness's boot) on a thread of its own: blocking one
    /// of Swift's cooperative threads (2 on a 2-core machine) can starve the gateway's own `run`
    /// task when suites run in parallel.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            let thread = Thread { c.resume(with: Result { try body() }) }
            thread.start()
        }
    }

    /// Boots the gateway and waits until it answers a C-ECHO (its listener task really runs).
    static func boot(_ label: String, configure: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in }) async throws
        -> GatewayUnderTest
    {
        let gw = try await offPool { try GatewayUnderTest(label: label, configure: configure) }
        guard await gw.answersEcho(timeout: 30) else { throw TestFailure("gateway on \(gw.port) does not answer C-ECHO") }
        return gw
    }

    /// A DCMTK tool run to completion off the cooperative pool.
    static func dcmtk(_ tool: String, _ args: [String], in dir: TestDirectory) async throws -> (status: Int32, output: String) {
        try await offPool { try DCMTK.run(tool, args, in: dir) }
    }

    /// Sends files with DCMTK's storescu; throws when storescu fails.
    static func storescu(_ gw: GatewayUnderTest, _ files: [String], callingAE: String = "MODALITY1") async throws {
        let before = gw.storedFiles().count
        let (status, out) = try await dcmtk("storescu", ["-aet", callingAE, "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: gw.directory)
        guard status == 0, gw.storedFiles().count >= before + files.count else {
            throw TestFailure("storescu failed (\(status)), \(gw.storedFiles().count) file(s) stored:\n\(out)")
        }
    }

    /// findscu with `-X`: every pending response is written as rsp0001.dcm... and read back.
    static func findscu(_ gw: GatewayUnderTest, model: String, _ keys: [String], callingAE: String = "REPORTER1") async throws
        -> (matches: [DicomAttributes], output: String)
    {
        let dir = gw.directory.sub("find-\(UUID().uuidString.prefix(8))")
        let args = ["-v", model, "-aet", callingAE, "-aec", "NETGW", "-X", "-od", dir, "127.0.0.1", "\(gw.port)"]
            + keys.flatMap { ["-k", $0] }
        let (_, out) = try await dcmtk("findscu", args, in: gw.directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("rsp") }.sorted()
        let matches = try names.map { try DicomFile.readAttributes(dir + "/" + $0) }
        return (matches, out)
    }

    /// Every DICOM file in `dir`, by SOP Instance UID.
    static func filesBySOP(in dir: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let path = dir + "/" + name
            if let sop = try? DicomFile.readAttributes(path).string(.sopInstanceUID) { result[sop] = path }
        }
        return result
    }

    /// Polls `condition` until it holds or `timeout` seconds pass (work finishing on the gateway's
    /// association thread after the peer has exited); returns the last result.
    static func eventually(timeout: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension Array where Element == DicomAttributes {
    /// One attribute's (trimmed) values across responses, sorted.
    func cacheValues(_ tag: DicomTag) -> [String] { map { $0.string(tag) ?? "" }.sorted() }
}

/// A real tmpfs mounted for one test (root only).
enum CacheTmpfs {
    /// Whether this sandbox lets us mount a tmpfs (tried once).
    static let canMount: Bool = {
        let dir = NSTemporaryDirectory() + "dgw-mountprobe-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]) == 0 else { return false }
        unmount(dir)
        return true
    }()

    static func mount(_ dir: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", dir]) == 0 else {
            throw TestFailure("mount -t tmpfs at \(dir) failed")
        }
    }

    /// Unmounts (lazily when something still holds a file open).
    static func unmount(_ dir: String) {
        if run("/bin/umount", [dir]) != 0 { _ = run("/bin/umount", ["-l", dir]) }
    }

    @discardableResult
    static func run(_ tool: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}

extension DicomAttributes {
    /// The data set's attributes without the file meta group (0002,xxxx), which differs per writer.
    func cacheWithoutFileMeta() -> DicomAttributes {
        DicomAttributes(storage.filter { $0.key.group != 0x0002 })
    }
}
