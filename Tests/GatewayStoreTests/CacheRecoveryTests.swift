import DicomCore
import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// Start-up reconciliation of files and index after an unclean shutdown.
@Suite struct CacheRecoveryTests {
    static let study = "1.2.826.0.1.3680043.8.1055.400.1"

    struct Unparseable: Error {}

    /// A reader that knows the attributes of the files the test placed; anything else is unreadable.
    static func reader(_ known: [String: DicomAttributes]) -> (String) throws -> (DicomAttributes, sopClass: String, transferSyntax: String) {
        { path in
            guard let a = known[path] else { throw Unparseable() }
            return (a, "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1")
        }
    }

    static func recovery(_ f: CacheFixture) -> CacheRecovery { CacheRecovery(index: f.index, paths: f.paths, logger: f.logger) }

    static func markerPath(_ f: CacheFixture) -> String { f.root + "/.clean-shutdown" }

    /// Places a file under instances/ at the path the ingestor would use, without an index row.
    static func orphan(_ f: CacheFixture, _ a: DicomAttributes, bytes: Int = 700) throws -> String {
        let relative = f.paths.relativePath(
            study: a.string(.studyInstanceUID)!, series: a.string(.seriesInstanceUID)!, sopInstance: a.string(.sopInstanceUID)!)
        let path = f.paths.absolutePath(relative: relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: CacheFixture.fakePart10(dataset: Data(repeating: 7, count: bytes)))
        return path
    }

    @Test func afterAnUncleanShutdownAFileWithoutARowIsReindexed() throws {
        let f = try CacheFixture("recovery")
        let r = Self.recovery(f)
        r.markCleanShutdown()
        #expect(FileManager.default.fileExists(atPath: Self.markerPath(f)))
        try FileManager.default.removeItem(atPath: Self.markerPath(f))  // the crash

        let indexed = try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.1"))
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.2", instanceNumber: "2")
        let path = try Self.orphan(f, a)
        let report = try r.run(readAttributes: Self.reader([path: a]))

        #expect(!report.skipped)
        #expect(report.reindexed == 1)
        #expect(report.missingFiles == 0)
        let row = try #require(try f.index.instance(sopUID: Self.study + ".1.2"))
        #expect(f.paths.absolutePath(relative: row.path) == path)
        #expect(row.sha256 == (try DatasetDigest.sha256(ofFile: path)).digest)
        let study = try #require(try f.study(Self.study))
        #expect(study.instanceCount == 2)
        #expect(study.sizeBytes == indexed.sizeBytes + row.sizeBytes)
        let found = try f.find(.image, [.studyInstanceUID: Self.study, .sopInstanceUID: ""])
        #expect(found.values(.sopInstanceUID) == [Self.study + ".1.1", Self.study + ".1.2"])
    }

    @Test func unreadableOrphanIsReportedNotIndexed() throws {
        let f = try CacheFixture("recovery")
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.9")
        _ = try Self.orphan(f, a)
        let report = try Self.recovery(f).run(readAttributes: Self.reader([:]))
        #expect(report.unreadable == 1)
        #expect(report.reindexed == 0)
        #expect(try f.count("SELECT COUNT(*) FROM instance") == 0)
    }

    @Test func aRowWhoseFileIsGoneIsRemovedWithCountsUpdatedAndAudited() throws {
        let f = try CacheFixture("recovery")
        let keep = try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.1"), size: 1000)
        let lost = try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.2"), size: 3000)
        try FileManager.default.removeItem(atPath: f.absolutePath(lost))

        let report = try Self.recovery(f).run(readAttributes: Self.reader([:]))
        #expect(report.missingFiles == 1)
        #expect(report.reindexed == 0)
        #expect(try f.index.instance(sopUID: lost.sopUID) == nil)
        #expect(try f.index.instance(sopUID: keep.sopUID) != nil)
        let study = try #require(try f.study(Self.study))
        #expect(study.instanceCount == 1)
        #expect(study.sizeBytes == 1000)
        #expect(try f.count("SELECT instanceCount FROM series WHERE seriesUID = ?", [Self.study + ".1"]) == 1)
        let audit = try f.audit().filter { $0.event == "repair" }
        #expect(audit.count == 1)
        #expect(audit.first?.detail.contains(lost.path) == true, "\(audit)")
    }

    @Test func aStudyWhoseLastFileIsGoneDisappearsWithItsPatient() throws {
        let f = try CacheFixture("recovery")
        let other = "1.2.826.0.1.3680043.8.1055.400.2"
        let lost = try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.1", patientID: "GONE"))
        try f.add(CacheFixture.attributes(study: other, series: other + ".1", sop: other + ".1.1", patientID: "STAYS"))
        try FileManager.default.removeItem(atPath: f.absolutePath(lost))
        _ = try Self.recovery(f).run(readAttributes: Self.reader([:]))
        #expect(try f.study(Self.study) == nil)
        #expect(try f.study(other) != nil)
        #expect(try f.count("SELECT COUNT(*) FROM patient WHERE patientID = 'GONE'") == 0)
        #expect(try f.count("SELECT COUNT(*) FROM series WHERE seriesUID = ?", [Self.study + ".1"]) == 0)
    }

    /// When a series loses its only instance, the study's series count and modalities must follow.
    @Test func aSeriesWhoseOnlyFileIsGoneLeavesTheStudyCountsAndModalitiesConsistent() throws {
        let f = try CacheFixture("recovery")
        try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.1", modality: "CT"))
        let mr = try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".2", sop: Self.study + ".2.1", modality: "MR"))
        #expect(try f.study(Self.study)?.seriesCount == 2)
        try FileManager.default.removeItem(atPath: f.absolutePath(mr))

        let report = try Self.recovery(f).run(readAttributes: Self.reader([:]))
        #expect(report.missingFiles == 1)
        #expect(try f.count("SELECT COUNT(*) FROM series WHERE seriesUID = ?", [Self.study + ".2"]) == 0)
        let study = try #require(try f.study(Self.study))
        #expect(study.instanceCount == 1)
        #expect(study.seriesCount == 1, "NumberOfStudyRelatedSeries must drop with the removed series")
        #expect(study.modalities == "CT", "ModalitiesInStudy must no longer list MR")
        #expect(try f.find(.study, [.studyInstanceUID: "", .modalitiesInStudy: "MR"]).isEmpty)
    }

    @Test func withTheCleanShutdownMarkerRecoverySkipsAndConsumesTheMarker() throws {
        let f = try CacheFixture("recovery")
        let r = Self.recovery(f)
        let lost = try f.add(CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.1"))
        try FileManager.default.removeItem(atPath: f.absolutePath(lost))
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.2")
        let path = try Self.orphan(f, a)
        r.markCleanShutdown()

        let report = try r.run(readAttributes: Self.reader([path: a]))
        #expect(report.skipped)
        #expect(report.reindexed == 0 && report.missingFiles == 0)
        #expect(try f.index.instance(sopUID: Self.study + ".1.2") == nil, "a skipped run touches nothing")
        #expect(try f.index.instance(sopUID: lost.sopUID) != nil)
        #expect(!FileManager.default.fileExists(atPath: Self.markerPath(f)), "the marker is consumed: a crash now must reconcile next time")

        // The next start without a marker reconciles.
        let second = try r.run(readAttributes: Self.reader([path: a]))
        #expect(!second.skipped)
        #expect(second.reindexed == 1)
        #expect(second.missingFiles == 1)
    }

    @Test func forceReconcilesEvenAfterACleanShutdown() throws {
        let f = try CacheFixture("recovery")
        let r = Self.recovery(f)
        let a = CacheFixture.attributes(study: Self.study, series: Self.study + ".1", sop: Self.study + ".1.3")
        let path = try Self.orphan(f, a)
        r.markCleanShutdown()
        let report = try r.run(force: true, readAttributes: Self.reader([path: a]))
        #expect(!report.skipped)
        #expect(report.reindexed == 1)
    }
}
