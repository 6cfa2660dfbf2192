import DicomCore
import Foundation
import GRDB
import Logging
@testable import GatewayStore

/// A cache (index + storage root) in a scratch directory, populated by hand: no network, no DCMTK.
final class CacheFixture: @unchecked Sendable {
    // Safe: each test owns its fixture and uses it from one thread.
    let root: String
    let index: CacheIndex
    /// Where the index is (to open it again, as a restart would).
    let place: TestIndex.Place
    let paths: InstancePath
    let logger: Logger

    init(_ label: String = "cache") throws {
        root = NSTemporaryDirectory() + "dgw-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        place = try TestIndex.place(root: root, label: label)
        index = try TestIndex.open(place)
        paths = InstancePath(root: root)
        var logger = Logger(label: "cache-test")
        logger.logLevel = .critical
        self.logger = logger
    }

    deinit {
        index.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Attributes of one instance; every key can be overridden.
    static func attributes(
        study: String, series: String, sop: String, patientID: String = "PID001", patientName: String = "Doe^Jane",
        issuer: String? = nil, modality: String = "CT", studyDate: String = "20240102", studyTime: String = "101010",
        accession: String = "ACC001", description: String = "Head CT", instanceNumber: String = "1",
        extra: [DicomTag: String] = [:]
    ) -> DicomAttributes {
        var a = DicomAttributes()
        a[.studyInstanceUID] = study
        a[.seriesInstanceUID] = series
        a[.sopInstanceUID] = sop
        a[.sopClassUID] = "1.2.840.10008.5.1.4.1.1.2"
        a[.patientID] = patientID
        a[.patientName] = patientName
        if let issuer { a[.issuerOfPatientID] = issuer }
        a[.modality] = modality
        a[.studyDate] = studyDate
        a[.studyTime] = studyTime
        a[.accessionNumber] = accession
        a[.studyDescription] = description
        a[.instanceNumber] = instanceNumber
        for (tag, value) in extra { a[tag] = value }
        return a
    }

    /// Indexes an instance (and, unless `writeFile` is false, writes `size` bytes at its path).
    @discardableResult
    func add(_ attributes: DicomAttributes, size: Int = 1000, receivedAt: Date = Date(), writeFile: Bool = true) throws -> InstanceMetadata {
        let relative = paths.relativePath(
            study: attributes.string(.studyInstanceUID)!, series: attributes.string(.seriesInstanceUID)!,
            sopInstance: attributes.string(.sopInstanceUID)!)
        if writeFile {
            let absolute = paths.absolutePath(relative: relative)
            try FileManager.default.createDirectory(
                atPath: (absolute as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: absolute, contents: Self.fakePart10(dataset: Data(repeating: 0x5A, count: size)))
        }
        let metadata = InstanceMetadata(
            attributes: attributes, sopClassUID: "1.2.840.10008.5.1.4.1.1.2", transferSyntax: "1.2.840.10008.1.2.1",
            path: relative, sizeBytes: Int64(size), sha256: UUID().uuidString,
            origin: .init(callingAE: "TESTSCU", peerHost: "127.0.0.1", node: nil), receivedAt: receivedAt)
        try index.write { db in try CacheIndex.insert(metadata, into: db) }
        return metadata
    }

    func absolutePath(_ m: InstanceMetadata) -> String { paths.absolutePath(relative: m.path) }

    func count(_ sql: String, _ arguments: IndexArguments = []) throws -> Int {
        try index.read { db in try db.fetchValue(Int.self, sql, arguments) ?? -1 }
    }

    func study(_ uid: String) throws -> StudyRecord? {
        try index.read { db in try db.fetchOne(StudyRecord.self, "SELECT * FROM study WHERE studyUID = ?", [uid]) }
    }

    func audit() throws -> [AuditRecord] {
        index.flush()
        return try index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit ORDER BY id") }
    }

    /// Runs a C-FIND over the index and returns every match.
    func find(_ level: QueryLevel, _ keys: [DicomTag: String]) throws -> [DicomAttributes] {
        var identifier = DicomAttributes(keys)
        identifier[.queryRetrieveLevel] = level.rawValue
        var matches: [DicomAttributes] = []
        try CacheQuery(level: level, identifier: identifier, retrieveAETitle: "NETGW").run(in: index) { matches.append($0); return true }
        return matches
    }

    // MARK: Part 10 bytes built by hand

    /// 128-byte preamble, `DICM`, a file meta group (explicit VR LE) carrying `sourceAE`, then `dataset`.
    static func fakePart10(sourceAE: String = "SENDER", dataset: Data) -> Data {
        var meta = Data()
        meta += element(0x0002, 0x0010, "UI", padded("1.2.840.10008.1.2.1", with: 0))
        meta += element(0x0002, 0x0016, "AE", padded(sourceAE, with: 0x20))
        var file = Data(repeating: 0, count: 128)
        file += Data("DICM".utf8)
        file += element(0x0002, 0x0000, "UL", le32(UInt32(meta.count)))
        file += meta
        file += dataset
        return file
    }

    /// A small explicit VR LE dataset with a patient name (any bytes would do for the digest).
    static func dataset(patientName: String, payload: Int = 64) -> Data {
        var d = Data()
        d += element(0x0010, 0x0010, "PN", padded(patientName, with: 0x20))
        d += element(0x0010, 0x0020, "LO", padded("PID001", with: 0x20))
        d += Data(repeating: 0x11, count: payload)
        return d
    }

    static func element(_ group: UInt16, _ elementNumber: UInt16, _ vr: String, _ value: Data) -> Data {
        var d = Data()
        d += le16(group)
        d += le16(elementNumber)
        d += Data(vr.utf8)
        d += le16(UInt16(value.count))
        d += value
        return d
    }

    static func padded(_ text: String, with pad: UInt8) -> Data {
        var d = Data(text.utf8)
        if d.count % 2 == 1 { d.append(pad) }
        return d
    }

    static func le16(_ v: UInt16) -> Data { Data([UInt8(v & 0xFF), UInt8(v >> 8)]) }
    static func le32(_ v: UInt32) -> Data { Data((0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) }) }
}

extension Array where Element == DicomAttributes {
    /// The values of one attribute across matches, sorted.
    func values(_ tag: DicomTag) -> [String] { map { $0[tag] ?? "<absent>" }.sorted() }
}
