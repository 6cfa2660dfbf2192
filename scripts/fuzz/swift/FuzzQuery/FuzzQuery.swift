// libFuzzer target: a C-FIND (and C-MOVE/C-GET) identifier built from the fuzzer's bytes is either
// refused by QueryKeyLimits, as the server refuses it, or matched against a small cache index
// without a crash, a thrown error or an answer that breaks the C-FIND rules checked below.
import DicomCore
import Foundation
import FuzzSupport
import GatewayStore
import Logging

/// The matching keys an identifier line can set: every key the index matches on, keys it
/// answers without matching (RetrieveAETitle, InstanceAvailability, SpecificCharacterSet,
/// QueryRetrieveLevel) and one it does not know (InstitutionName).
let keys: [DicomTag] = [
    .patientName, .patientID, .issuerOfPatientID, .patientBirthDate, .patientSex, DicomTag(0x0020, 0x1200),
    .studyInstanceUID, .studyDate, .studyTime, .accessionNumber, .studyID, .studyDescription, DicomTag(0x0008, 0x0090),
    .modalitiesInStudy, DicomTag(0x0020, 0x1206), .numberOfStudyRelatedInstances,
    .seriesInstanceUID, .modality, .seriesNumber, .seriesDescription, .bodyPartExamined, DicomTag(0x0020, 0x1209),
    .sopInstanceUID, .sopClassUID, .instanceNumber,
    .queryRetrieveLevel, .specificCharacterSet, .retrieveAETitle, .instanceAvailability, DicomTag(0x0008, 0x0080),
]
let levels: [QueryLevel] = [.patient, .study, .series, .image]

/// One fuzz input, decoded. Layout: a flags byte (bits 0-1 the level, bit 2 a patient issuer,
/// bit 3 also the C-MOVE/C-GET selection), then lines separated by LF, each a key index byte
/// (modulo `keys.count`) followed by the value.
struct QueryInput {
    var level: QueryLevel
    var patientIssuer: String?
    var alsoRetrieve: Bool
    var identifier: DicomAttributes

    init(_ reader: inout FuzzReader) {
        let flags = reader.byte()
        level = levels[Int(flags & 3)]
        patientIssuer = flags & 4 != 0 ? "RTH" : nil
        alsoRetrieve = flags & 8 != 0
        identifier = DicomAttributes()
        identifier[.queryRetrieveLevel] = level.rawValue
        while !reader.isAtEnd {
            let line = reader.bytes(upTo: 0x0A)
            guard let index = line.first else { continue }
            identifier[keys[Int(index) % keys.count]] = String(decoding: line.dropFirst(), as: UTF8.self)
        }
    }

    /// The bytes that decode to this input (for seeds).
    static func encode(flags: UInt8, _ lines: [(DicomTag, String)]) -> [UInt8] {
        var bytes = [flags]
        for (tag, value) in lines {
            bytes.append(UInt8(keys.firstIndex(of: tag)!))
            bytes += Array(value.utf8)
            bytes.append(0x0A)
        }
        return bytes
    }
}

/// The index, seeded once: patients in two trusts, four studies, six series, seven instances.
/// On /dev/shm when there is one: every commit is an fsync.
let cache: CacheIndex = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
    let root = base + "dgw-fuzz-query-\(getpid())"
    try? FileManager.default.removeItem(atPath: root)
    do {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let index = try CacheIndex(path: root + "/index.sqlite")
        var logger = Logger(label: "fuzz-query")
        logger.logLevel = .critical
        let ingestor = InstanceIngestor(index: index, paths: InstancePath(root: root), logger: logger)
        for (number, attributes) in seedInstances.enumerated() {
            let temporary = root + "/incoming-\(number)"
            FileManager.default.createFile(atPath: temporary, contents: Data(repeating: 0x5A, count: 64))
            _ = try ingestor.ingest(
                temporaryPath: temporary, attributes: attributes, sopClassUID: attributes[.sopClassUID]!,
                transferSyntax: "1.2.840.10008.1.2.1", origin: .init(callingAE: "FUZZSCU", peerHost: "127.0.0.1", node: nil),
                received: ReceivedFile(digest: (String(repeating: "0", count: 63) + "\(number)", 64)))
        }
        atexit { if let root = cacheRoot { try? FileManager.default.removeItem(atPath: root) } }
        cacheRoot = root
        return index
    } catch {
        fuzzFailure("cannot seed the index in \(root): \(error)")
    }
}()
nonisolated(unsafe) var cacheRoot: String?  // Safe: set once, before fuzzing starts; read at exit.

/// Rows per level in the seeded index: patients, studies, series, instances.
let rowsPerLevel: [QueryLevel: Int] = [.patient: 3, .study: 4, .series: 6, .image: 7]

let seedInstances: [DicomAttributes] = {
    let s1 = "1.2.826.0.1.3680043.8.1055.100.1", s2 = "1.2.826.0.1.3680043.8.1055.100.2"
    let s3 = "1.2.826.0.1.3680043.8.1055.100.3", s4 = "1.2.826.0.1.3680043.8.1055.100.4"
    func instance(_ study: String, _ series: String, _ sop: String, patientID: String = "PID001", name: String = "Doe^Jane",
                  issuer: String = "RTH", modality: String = "CT", date: String = "20240102", time: String = "101500",
                  accession: String = "ACC001", description: String = "Head CT", number: String = "1") -> DicomAttributes {
        DicomAttributes([
            .studyInstanceUID: study, .seriesInstanceUID: series, .sopInstanceUID: sop, .sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
            .patientID: patientID, .patientName: name, .issuerOfPatientID: issuer, .modality: modality, .studyDate: date,
            .studyTime: time, .accessionNumber: accession, .studyDescription: description, .instanceNumber: number,
            .patientBirthDate: "19700101", .patientSex: "F", .studyID: "1", .seriesNumber: "1", .bodyPartExamined: "HEAD",
            .seriesDescription: "Axial [3mm] 50%_x", DicomTag(0x0008, 0x0090): "Ref^Doc",
        ])
    }
    return [
        instance(s1, s1 + ".1", s1 + ".1.1"),
        instance(s1, s1 + ".1", s1 + ".1.2", number: "2"),
        instance(s1, s1 + ".2", s1 + ".2.1", modality: "MR"),
        instance(s2, s2 + ".1", s2 + ".1.1", patientID: "PID002", name: "SMITH^John", issuer: "RGT", modality: "MR",
                 date: "20240215", time: "143000", accession: "acc002", description: "head mri"),
        instance(s3, s3 + ".1", s3 + ".1.1", modality: "CR", date: "20231231", time: "235959", accession: "ACC003",
                 description: "Chest"),
        instance(s4, s4 + ".1", s4 + ".1.1", patientID: "PID004", name: "Nobody^Known", modality: "OT", date: "", time: "",
                 accession: "", description: "Ünïcode ° *?[]%_\\"),
        instance(s4, s4 + ".1", s4 + ".1.2", patientID: "PID004", name: "Nobody^Known", modality: "OT", date: "", time: "",
                 accession: "", description: "Ünïcode ° *?[]%_\\", number: "10"),
    ]
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuery(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var reader = FuzzReader(data, size)
    let input = QueryInput(&reader)
    // The server refuses these before they reach the index (0xC000 range, with this comment).
    if let problem = QueryKeyLimits.problem(input.identifier) {
        if problem.utf8.count > 64 { fuzzFailure("Error Comment of \(problem.utf8.count) bytes (at most 64): \(problem)") }
        return 0
    }
    let query = CacheQuery(level: input.level, identifier: input.identifier, retrieveAETitle: "NETGW", patientIssuer: input.patientIssuer)
    var matches: [DicomAttributes] = []
    do {
        try query.run(in: cache) { matches.append($0); return true }
    } catch {
        fuzzFailure("C-FIND at \(input.level.rawValue) level threw: \(error)")
    }
    // Each answer holds exactly the keys asked for (SpecificCharacterSet is the server's to add) and the level.
    let expected = Set(input.identifier.tags).subtracting([.specificCharacterSet]).union([.queryRetrieveLevel])
    for match in matches {
        guard Set(match.tags) == expected else {
            fuzzFailure("an answer's keys \(match.tags) are not the keys asked for \(expected.sorted())")
        }
        guard match[.queryRetrieveLevel] == input.level.rawValue else { fuzzFailure("an answer at the wrong level") }
    }
    if matches.count > rowsPerLevel[input.level]! {
        fuzzFailure("\(matches.count) matches at \(input.level.rawValue) level; the index holds \(rowsPerLevel[input.level]!)")
    }
    if input.alsoRetrieve {
        do {
            let selected = try cache.instances(level: input.level, identifier: input.identifier, patientIssuer: input.patientIssuer)
            if selected.count > rowsPerLevel[.image]! { fuzzFailure("C-MOVE selected \(selected.count) instances of 7") }
            if Set(selected.map(\.sopUID)).count != selected.count { fuzzFailure("C-MOVE selected an instance twice") }
        } catch {
            fuzzFailure("C-MOVE/C-GET selection at \(input.level.rawValue) level threw: \(error)")
        }
    }
    return 0
}

/// Seeds: the matching rules of PS3.4 C.2.2.2 over the seeded index, one input each.
func writeSeeds(to directory: String) throws {
    let s1 = "1.2.826.0.1.3680043.8.1055.100.1", s2 = "1.2.826.0.1.3680043.8.1055.100.2"
    let seeds: [(UInt8, [(DicomTag, String)])] = [
        (1, [(.studyInstanceUID, ""), (.patientID, "PID001")]),
        (1, [(.studyInstanceUID, "\(s1)\\\(s2)"), (.patientName, "")]),
        (1, [(.studyDate, "20240101-20241231"), (.studyTime, "-1030"), (.modalitiesInStudy, "CT\\MR")]),
        (1, [(.patientName, "doe*"), (.accessionNumber, "ACC00?"), (.studyDescription, "*[3mm]*")]),
        (0, [(.patientID, "PID*"), (.issuerOfPatientID, "RTH"), (.patientBirthDate, "1970-"), (DicomTag(0x0020, 0x1200), "")]),
        (2, [(.seriesInstanceUID, ""), (.modality, "M?"), (.seriesDescription, "*50%_x"), (DicomTag(0x0020, 0x1209), "")]),
        (3, [(.sopInstanceUID, ""), (.instanceNumber, "1*"), (.retrieveAETitle, ""), (.instanceAvailability, "")]),
        (4 | 8 | 1, [(.studyInstanceUID, s1), (.patientID, "PID001")]),
        (8 | 3, [(.sopInstanceUID, "\(s1).1.1\\\(s1).1.2"), (.specificCharacterSet, "ISO_IR 192")]),
        (1, [(.studyDescription, "Ünïcode*"), (DicomTag(0x0008, 0x0090), "REF^*"), (DicomTag(0x0008, 0x0080), "X")]),
        // Large ones, near QueryKeyLimits, so the fuzzer mutates long inputs from the start.
        (2 | 8, [(.studyInstanceUID, (1...8_000).map { "1.2.\($0)" }.joined(separator: "\\")), (.seriesInstanceUID, "")]),
        (1, [(.studyDescription, Array(repeating: String(repeating: "*a", count: 16), count: 1_400).joined(separator: "\\"))]),
        (0, [(.patientName, Array(repeating: "x*" + String(repeating: "?", count: 31), count: 1_000).joined(separator: "\\"))]),
        (1, [(.accessionNumber, String(repeating: "A", count: QueryKeyLimits.maxValueBytes)),
             (.modalitiesInStudy, Array(repeating: "CT", count: 5_000).joined(separator: "\\"))]),
    ]
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (number, (flags, lines)) in seeds.enumerated() {
        let path = directory + "/seed-\(number)"
        guard FileManager.default.createFile(atPath: path, contents: Data(QueryInput.encode(flags: flags, lines))) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

@_cdecl("FuzzQuery_main")
public func fuzzQueryMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv, callback: { data, size in fuzzQuery(data ?? emptyInput, size) }) { arguments in
        guard arguments.first == "--write-seeds", arguments.count == 2 else { return nil }
        do { try writeSeeds(to: arguments[1]) } catch { print("cannot write seeds to \(arguments[1]): \(error)"); return 1 }
        return 0
    }
}
