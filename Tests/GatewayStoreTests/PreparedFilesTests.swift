import DicomCore
import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// Files prepared in advance for incoming instances (one flush per acknowledgement), and their
/// reconciliation after a crash.
@Suite struct PreparedFilesTests {
    static let study = "1.2.826.0.1.3680043.8.1055.410.1"

    /// The next prepared file, waiting for the pool's thread to make the first batch.
    static func take(_ pool: PreparedFiles) throws -> String {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let path = pool.take() { return path }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw StoreError("no prepared file within 10 s")
    }

    static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".dcm") }.sorted()
    }

    @Test func filesAreHandedOutEmptyAndOnceAndCloseRemovesTheUnusedOnes() throws {
        let f = try CacheFixture("prepared")
        let pool = PreparedFiles(root: f.root, batch: 8, perDirectory: 20, logger: f.logger)
        pool.start()
        var taken: [String] = []
        for _ in 0..<30 { taken.append(try Self.take(pool)) }  // more than one directory's worth
        #expect(Set(taken).count == 30, "a prepared file was handed out twice")
        for path in taken {
            #expect(path.hasPrefix(pool.runDirectory + "/"), "\(path)")
            #expect(f.paths.preparedRelative(path).map(PreparedFiles.isPrepared(relative:)) == true)
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue == 0)
        }
        #expect(Self.files(in: pool.runDirectory + "/0000").count == 20, "the first directory holds perDirectory files")
        FileManager.default.createFile(atPath: taken[0], contents: Data("instance".utf8))
        pool.close()
        // Every file not handed out is gone; the handed-out ones stay (their takers own them).
        let left = Self.files(in: pool.runDirectory + "/0000").map { pool.runDirectory + "/0000/" + $0 }
            + Self.files(in: pool.runDirectory + "/0001").map { pool.runDirectory + "/0001/" + $0 }
        #expect(Set(left) == Set(taken))
        #expect(pool.take() == nil)
        pool.close()  // twice is harmless
    }

    @Test func anInstanceReceivedIntoAPreparedFileIsIndexedWhereItIs() throws {
        let f = try CacheFixture("prepared")
        let pool = PreparedFiles(root: f.root, batch: 4, logger: f.logger)
        pool.start()
        defer { pool.close() }
        let path = try Self.take(pool)
        let bytes = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jane", payload: 3000))
        FileManager.default.createFile(atPath: path, contents: bytes)
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.1")
        let ingestor = InstanceIngestor(index: f.index, paths: f.paths, logger: f.logger)
        let result = try ingestor.ingest(temporaryPath: path, attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                                         transferSyntax: "1.2.840.10008.1.2.1", origin: .init(callingAE: "CT1", peerHost: "127.0.0.1", node: nil))
        #expect(result == .stored)
        let row = try #require(try f.index.instance(sopUID: Self.study + ".1.1"))
        #expect(f.paths.absolutePath(relative: row.path) == path, "the row names the prepared file")
        #expect(FileManager.default.contents(atPath: path) == bytes, "the file was not moved or changed")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/instances"), "nothing renamed into instances/")
    }

    @Test func aReplacementInAPreparedFileMovesTheRowToItAndKeepsTheOldCopy() throws {
        let f = try CacheFixture("prepared")
        let pool = PreparedFiles(root: f.root, batch: 4, logger: f.logger)
        pool.start()
        defer { pool.close() }
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.7")
        let ingestor = InstanceIngestor(index: f.index, paths: f.paths, logger: f.logger)
        let origin = InstanceMetadata.Origin(callingAE: "CT1", peerHost: "127.0.0.1", node: nil)
        let first = try Self.take(pool), second = try Self.take(pool)
        let old = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jane", payload: 500))
        let new = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Janet", payload: 700))
        FileManager.default.createFile(atPath: first, contents: old)
        FileManager.default.createFile(atPath: second, contents: new)
        #expect(try ingestor.ingest(temporaryPath: first, attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                                    transferSyntax: "1.2.840.10008.1.2.1", origin: origin) == .stored)
        #expect(try ingestor.ingest(temporaryPath: second, attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                                    transferSyntax: "1.2.840.10008.1.2.1", origin: origin, duplicatePolicy: .replace) == .replaced)
        let row = try #require(try f.index.instance(sopUID: Self.study + ".1.7"))
        #expect(f.paths.absolutePath(relative: row.path) == second, "the row names the new prepared file")
        #expect(row.sizeBytes == Int64(new.count))
        #expect(!FileManager.default.fileExists(atPath: first), "the old file is unindexed and gone")
        let kept = try FileManager.default.contentsOfDirectory(atPath: f.root + "/superseded")
        #expect(kept.count == 1)
        #expect(FileManager.default.contents(atPath: f.root + "/superseded/" + kept[0]) == old)
    }

    /// A second copy received into a prepared file is a duplicate like any other (on PostgreSQL the
    /// write finds it, without a lookup first): identical bytes leave one row, one counted
    /// instance and no second file; different bytes under `keep` leave the cached copy, and a
    /// resend's new route is queued for the copy kept.
    @Test func duplicatesInPreparedFilesLeaveTheCachedCopyAndItsRow() throws {
        let f = try CacheFixture("prepared")
        let pool = PreparedFiles(root: f.root, batch: 4, logger: f.logger)
        pool.start()
        defer { pool.close() }
        let sop = Self.study + ".1.9"
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: sop)
        let ingestor = InstanceIngestor(index: f.index, paths: f.paths, logger: f.logger)
        let origin = InstanceMetadata.Origin(callingAE: "CT1", peerHost: "127.0.0.1", node: "TRUST_A")
        let original = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jane", payload: 500))
        let different = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Janet", payload: 700))
        func receive(_ bytes: Data, deliveries: [PendingDelivery] = []) throws -> (IngestResult, String) {
            let path = try Self.take(pool)
            FileManager.default.createFile(atPath: path, contents: bytes)
            let result = try ingestor.ingest(temporaryPath: path, attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                                             transferSyntax: "1.2.840.10008.1.2.1", origin: origin, duplicatePolicy: .keep,
                                             deliveries: deliveries)
            return (result, path)
        }
        let (first, firstPath) = try receive(original)
        #expect(first == .stored)
        let row = try #require(try f.index.instance(sopUID: sop))
        let (again, againPath) = try receive(original, deliveries: [PendingDelivery(destination: "HUB", route: "r", priorityRank: 1)])
        #expect(again == .identicalDuplicate)
        #expect(!FileManager.default.fileExists(atPath: againPath), "the second copy's file is removed")
        #expect(FileManager.default.contents(atPath: firstPath) == original)
        #expect(try f.index.instance(sopUID: sop) == row, "the row still names the first copy")
        #expect(try f.count("SELECT COUNT(*) FROM instance") == 1)
        #expect(try f.study(Self.study)?.instanceCount == 1, "a duplicate is not counted twice")
        #expect(try f.index.deliveries(DeliverySelection(states: ["queued"], destination: "HUB")).count == 1,
                "the resend's route is queued for the cached copy")
        let (changed, changedPath) = try receive(different)
        #expect(changed == .keptExisting)
        #expect(!FileManager.default.fileExists(atPath: changedPath))
        #expect(FileManager.default.contents(atPath: firstPath) == original, "the cached copy stays")
        #expect(try f.index.instance(sopUID: sop) == row)
        #expect(try f.audit().contains { $0.event == "duplicate" && $0.outcome == "kept cached copy" })
    }

    /// Writes a prepared file by hand, indexed or not.
    static func place(_ f: CacheFixture, _ name: String, bytes: Data?, row sop: String?) throws -> (relative: String, path: String) {
        let relative = "files/20261204T000000-1/0000/\(name).dcm"
        let path = f.paths.absolutePath(relative: relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if let bytes { FileManager.default.createFile(atPath: path, contents: bytes) }
        if let sop {
            let data = bytes ?? CacheFixture.fakePart10(dataset: Data(repeating: 1, count: 100))
            let scratch = f.root + "/scratch-\(name)"
            FileManager.default.createFile(atPath: scratch, contents: data)
            let (digest, size) = try DatasetDigest.sha256(ofFile: scratch)
            try FileManager.default.removeItem(atPath: scratch)
            let metadata = InstanceMetadata(
                attributes: CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: sop),
                sopClassUID: "1.2.840.10008.5.1.4.1.1.2", transferSyntax: "1.2.840.10008.1.2.1", path: relative, sizeBytes: size,
                sha256: digest, origin: .init(callingAE: "CT1", peerHost: "127.0.0.1", node: nil))
            try f.index.write { db in try CacheIndex.insert(metadata, into: db) }
        }
        return (relative, path)
    }

    @Test func afterACrashPreparedFilesAndTheirRowsAreReconciled() throws {
        let f = try CacheFixture("prepared")
        let good = CacheFixture.fakePart10(dataset: Data(repeating: 0x41, count: 2000))
        let unused = try Self.place(f, "00000", bytes: Data(), row: nil)
        let unacknowledged = try Self.place(f, "00001", bytes: good, row: nil)
        let kept = try Self.place(f, "00002", bytes: good, row: Self.study + ".1.2")
        // Indexed, but the flush had not finished: the file is shorter than the row says...
        let truncated = try Self.place(f, "00003", bytes: good, row: Self.study + ".1.3")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: truncated.path))
        try handle.truncate(atOffset: 1000)
        try handle.close()
        // ...or as long, with other bytes (a torn write).
        let torn = try Self.place(f, "00004", bytes: good, row: Self.study + ".1.4")
        var tornBytes = good
        tornBytes[tornBytes.count - 10] ^= 0xFF
        FileManager.default.createFile(atPath: torn.path, contents: tornBytes)
        let missing = try Self.place(f, "00005", bytes: nil, row: Self.study + ".1.5")

        let report = try CacheRecovery(index: f.index, paths: f.paths, logger: f.logger).run(force: true) { _ in
            throw StoreError("nothing under instances/ to re-index")
        }
        #expect(report.discardedFiles == 1)
        #expect(report.incompleteFiles == 2)
        #expect(report.missingFiles == 1)
        #expect(report.reindexed == 0)
        #expect(!FileManager.default.fileExists(atPath: unused.path))
        #expect(!FileManager.default.fileExists(atPath: unacknowledged.path))
        #expect(!FileManager.default.fileExists(atPath: truncated.path))
        #expect(!FileManager.default.fileExists(atPath: torn.path))
        #expect(FileManager.default.contents(atPath: kept.path) == good)
        let rows = try f.index.read { db in try db.fetchValues(String.self, "SELECT path FROM instance ORDER BY path") }
        #expect(rows == [kept.relative], "only the complete file keeps its row; \(missing.relative) is gone too")
        #expect(try f.study(Self.study)?.instanceCount == 1)
        let repairs = try f.audit().filter { $0.event == "repair" }
        #expect(repairs.count == 3)
    }
}
