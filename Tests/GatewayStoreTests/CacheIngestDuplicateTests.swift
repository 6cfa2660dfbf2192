import DicomCore
import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// `InstanceIngestor`: a second copy of a cached SOP instance, under each duplicate policy, and
/// the dataset digest that decides whether two copies are the same.
@Suite struct CacheIngestDuplicateTests {
    static let study = "1.2.826.0.1.3680043.8.1055.300.1"
    static let series = study + ".1"
    static let sop = series + ".1"
    static let origin = InstanceMetadata.Origin(callingAE: "MODALITY", peerHost: "127.0.0.1", node: nil)

    /// An ingestor applying one duplicate policy.
    struct Ingestor {
        let ingestor: InstanceIngestor
        let policy: InstanceIngestor.DuplicatePolicy
        func ingest(temporaryPath: String, attributes: DicomAttributes, sopClassUID: String, transferSyntax: String,
                    origin: InstanceMetadata.Origin) throws(StoreError) -> IngestResult {
            try ingestor.ingest(temporaryPath: temporaryPath, attributes: attributes, sopClassUID: sopClassUID,
                                transferSyntax: transferSyntax, origin: origin, duplicatePolicy: policy)
        }
    }

    static func ingestor(_ f: CacheFixture, _ policy: InstanceIngestor.DuplicatePolicy) -> Ingestor {
        Ingestor(ingestor: InstanceIngestor(index: f.index, paths: f.paths, logger: f.logger), policy: policy)
    }

    /// Writes a temporary incoming file and ingests it.
    static func ingest(_ ingestor: Ingestor, _ f: CacheFixture, _ bytes: Data,
                       from origin: InstanceMetadata.Origin = origin) throws -> (IngestResult, temporary: String) {
        try FileManager.default.createDirectory(atPath: f.paths.incomingDirectory, withIntermediateDirectories: true)
        let temporary = f.paths.incomingDirectory + "/\(UUID().uuidString).part"
        FileManager.default.createFile(atPath: temporary, contents: bytes)
        let attributes = CacheFixture.attributes(study: study, series: series, sop: sop)
        let result = try ingestor.ingest(
            temporaryPath: temporary, attributes: attributes, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
            transferSyntax: "1.2.840.10008.1.2.1", origin: origin)
        return (result, temporary)
    }

    static func storedPath(_ f: CacheFixture) -> String {
        f.paths.absolutePath(relative: f.paths.relativePath(study: study, series: series, sopInstance: sop))
    }

    static func instanceFiles(_ f: CacheFixture) -> [String] {
        let base = f.root + "/instances"
        return (FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".dcm") }
    }

    static func superseded(_ f: CacheFixture) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: f.root + "/superseded")) ?? []).map { f.root + "/superseded/" + $0 }
    }

    static let original = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jane"))
    static let different = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Janet", payload: 300))

    @Test func firstCopyIsStoredAtItsDerivedPathAndIndexed() throws {
        let f = try CacheFixture("ingest")
        let (result, temporary) = try Self.ingest(Self.ingestor(f, .keep), f, Self.original)
        #expect(result == .stored)
        #expect(!FileManager.default.fileExists(atPath: temporary), "the temporary file is consumed")
        #expect(FileManager.default.contents(atPath: Self.storedPath(f)) == Self.original)
        let row = try #require(try f.index.instance(sopUID: Self.sop))
        #expect(row.sizeBytes == Int64(Self.original.count))
        #expect(row.sha256 == (try DatasetDigest.sha256(ofFile: Self.storedPath(f))).digest)
        #expect(try f.study(Self.study)?.instanceCount == 1)
    }

    /// Recovery re-indexes a file that was never acknowledged without knowing its sender; the
    /// sender's resend (identical bytes) gives the instance and its study their origin node.
    @Test func anIdenticalResendFromAKnownNodeGivesAnUnknownOriginItsNode() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .keep)
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        #expect(f.index.studyIdentity(studyUID: Self.study)?.originNode == nil)
        let trust = InstanceMetadata.Origin(callingAE: "TRUSTA_PACS", peerHost: "127.0.0.1", node: "TRUST_A")
        #expect(try Self.ingest(ingestor, f, Self.original, from: trust).0 == .identicalDuplicate)
        #expect(try f.index.instance(sopUID: Self.sop)?.originNode == "TRUST_A")
        #expect(f.index.studyIdentity(studyUID: Self.study)?.originNode == "TRUST_A")
        // A later copy from another node does not move an origin that is known.
        let other = InstanceMetadata.Origin(callingAE: "TRUSTB_PACS", peerHost: "127.0.0.1", node: "TRUST_B")
        #expect(try Self.ingest(ingestor, f, Self.original, from: other).0 == .identicalDuplicate)
        #expect(f.index.studyIdentity(studyUID: Self.study)?.originNode == "TRUST_A")
    }

    @Test func identicalBytesAreAnIdenticalDuplicateAndLeaveOneFile() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .reject)
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        let (result, temporary) = try Self.ingest(ingestor, f, Self.original)
        #expect(result == .identicalDuplicate, "identical bytes are accepted even under the reject policy")
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(Self.instanceFiles(f).count == 1)
        #expect(try f.count("SELECT COUNT(*) FROM instance") == 1)
        #expect(try f.study(Self.study)?.instanceCount == 1, "a duplicate must not be counted twice")
    }

    @Test func sameDatasetUnderADifferentFileMetaHeaderIsAnIdenticalDuplicate() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .reject)
        let dataset = CacheFixture.dataset(patientName: "Doe^Jane")
        #expect(try Self.ingest(ingestor, f, CacheFixture.fakePart10(sourceAE: "A", dataset: dataset)).0 == .stored)
        let second = CacheFixture.fakePart10(sourceAE: "ANOTHER_SENDER", dataset: dataset)
        #expect(try Self.ingest(ingestor, f, second).0 == .identicalDuplicate)
    }

    @Test func differentBytesUnderKeepAreAcknowledgedButTheCachedCopyStays() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .keep)
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        let before = try #require(try f.index.instance(sopUID: Self.sop))
        let (result, temporary) = try Self.ingest(ingestor, f, Self.different)
        #expect(result == .keptExisting)
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(FileManager.default.contents(atPath: Self.storedPath(f)) == Self.original)
        #expect(try f.index.instance(sopUID: Self.sop) == before, "the row describes the kept copy")
        #expect(Self.instanceFiles(f).count == 1)
        #expect(try f.audit().contains { $0.event == "duplicate" && $0.outcome == "kept cached copy" })
    }

    @Test func differentBytesUnderRejectAreRefusedAndTheCachedCopyStays() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .reject)
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        let (result, temporary) = try Self.ingest(ingestor, f, Self.different)
        #expect(result == .rejectedDuplicate)
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(FileManager.default.contents(atPath: Self.storedPath(f)) == Self.original)
        #expect(try f.audit().contains { $0.event == "duplicate" && $0.outcome == "refused" })
    }

    @Test func differentBytesUnderReplaceAreInstalledAndThePreviousCopyIsKeptAside() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .replace)
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        let (result, temporary) = try Self.ingest(ingestor, f, Self.different)
        #expect(result == .replaced)
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(FileManager.default.contents(atPath: Self.storedPath(f)) == Self.different)
        let kept = Self.superseded(f)
        #expect(kept.count == 1)
        #expect(kept.first.flatMap { FileManager.default.contents(atPath: $0) } == Self.original)
        let row = try #require(try f.index.instance(sopUID: Self.sop))
        #expect(row.sha256 == (try DatasetDigest.sha256(ofFile: Self.storedPath(f))).digest)
        #expect(row.sizeBytes == Int64(Self.different.count))
        #expect(try f.audit().contains { $0.event == "duplicate" && $0.outcome == "replaced" })
    }

    /// The cache size retention works from must follow a replacement of different size.
    @Test func replaceKeepsTheStudySizeEqualToItsInstancesSizes() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .replace)
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        #expect(try Self.ingest(ingestor, f, Self.different).0 == .replaced)
        let instances = try f.index.read { db in
            try db.fetchValue(Int64.self, "SELECT SUM(sizeBytes) FROM instance") ?? -1
        }
        #expect(instances == Int64(Self.different.count))
        #expect(try f.study(Self.study)?.sizeBytes == instances,
                "study.sizeBytes must be updated when a replacement has a different size")
    }

    /// Each replaced copy must be kept, even when two replacements happen within the same second.
    @Test func everyReplacedCopyIsKeptWhenReplacedTwiceInQuickSuccession() throws {
        let f = try CacheFixture("ingest")
        let ingestor = Self.ingestor(f, .replace)
        let third = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Joan", payload: 500))
        #expect(try Self.ingest(ingestor, f, Self.original).0 == .stored)
        #expect(try Self.ingest(ingestor, f, Self.different).0 == .replaced)
        #expect(try Self.ingest(ingestor, f, third).0 == .replaced)
        #expect(FileManager.default.contents(atPath: Self.storedPath(f)) == third)
        let kept = Set(Self.superseded(f).compactMap { FileManager.default.contents(atPath: $0) })
        #expect(kept.contains(Self.original), "the first copy must be preserved under superseded/")
        #expect(kept.contains(Self.different), "the second copy must be preserved under superseded/ (names collide within one second)")
    }

    @Test func missingUIDsAreRefusedAndTheTemporaryFileRemoved() throws {
        let f = try CacheFixture("ingest")
        try FileManager.default.createDirectory(atPath: f.paths.incomingDirectory, withIntermediateDirectories: true)
        let temporary = f.paths.incomingDirectory + "/x.part"
        FileManager.default.createFile(atPath: temporary, contents: Self.original)
        var attributes = CacheFixture.attributes(study: Self.study, series: Self.series, sop: Self.sop)
        attributes[.seriesInstanceUID] = nil
        #expect(throws: StoreError.self) {
            try Self.ingestor(f, .keep).ingest(
                temporaryPath: temporary, attributes: attributes, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                transferSyntax: "1.2.840.10008.1.2.1", origin: Self.origin)
        }
        #expect(!FileManager.default.fileExists(atPath: temporary))
        #expect(try f.count("SELECT COUNT(*) FROM instance") == 0)
    }
}

@Suite struct CacheDatasetDigestTests {
    static func write(_ data: Data, _ dir: String, _ name: String) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    @Test func digestIgnoresTheFileMetaHeader() throws {
        let f = try CacheFixture("digest")
        let dataset = CacheFixture.dataset(patientName: "Doe^Jane")
        let a = Self.write(CacheFixture.fakePart10(sourceAE: "A", dataset: dataset), f.root, "a.dcm")
        let b = Self.write(CacheFixture.fakePart10(sourceAE: "A_MUCH_LONGER_AE", dataset: dataset), f.root, "b.dcm")
        #expect(FileManager.default.contents(atPath: a) != FileManager.default.contents(atPath: b))
        let (da, sa) = try DatasetDigest.sha256(ofFile: a)
        let (db, sb) = try DatasetDigest.sha256(ofFile: b)
        #expect(da == db)
        #expect(sa == Int64(FileManager.default.contents(atPath: a)!.count), "size is the whole file's")
        #expect(sb > sa)
    }

    @Test func digestIsTheSHA256OfTheDatasetBytes() throws {
        let f = try CacheFixture("digest")
        // ASCII-only dataset bytes, so the SHA-256 of the text equals that of the bytes.
        let dataset = Data("(dataset bytes that follow the meta header)".utf8)
        let path = Self.write(CacheFixture.fakePart10(dataset: dataset), f.root, "a.dcm")
        #expect(try DatasetDigest.sha256(ofFile: path).digest == InstancePath.sha256Hex("(dataset bytes that follow the meta header)"))
    }

    @Test func digestDistinguishesDifferentDatasets() throws {
        let f = try CacheFixture("digest")
        let a = Self.write(CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jane")), f.root, "a.dcm")
        let b = Self.write(CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jana")), f.root, "b.dcm")
        #expect(try DatasetDigest.sha256(ofFile: a).digest != DatasetDigest.sha256(ofFile: b).digest)
    }

    @Test func aFileWithoutMetaHeaderIsHashedWhole() throws {
        let f = try CacheFixture("digest")
        let text = "raw dataset without preamble"
        let path = Self.write(Data(text.utf8), f.root, "raw.dcm")
        let (digest, size) = try DatasetDigest.sha256(ofFile: path)
        #expect(digest == InstancePath.sha256Hex(text))
        #expect(size == Int64(text.utf8.count))
    }

    @Test func anUnreadableFileThrows() {
        #expect(throws: StoreError.self) { try DatasetDigest.sha256(ofFile: "/nonexistent/\(UUID().uuidString).dcm") }
    }
}
