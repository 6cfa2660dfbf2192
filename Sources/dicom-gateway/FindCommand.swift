import ArgumentParser
import DicomCore
import DicomNetwork
import Foundation

struct Find: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Query a peer with C-FIND.",
        discussion: """
            Keys are KEYWORD=VALUE (matching) or KEYWORD (return key), e.g.
              dicom-gateway find PACS@127.0.0.1:104 --level study -k PatientID=123 -k StudyDate=20240101-20241231 -k StudyDescription
            """)

    @Argument(help: "The peer, AE@HOST:PORT.") var peer: String
    @Option(help: "Query level: patient, study, series or image.") var level: String = "study"
    @Option(help: "Information model: patient or study (root).") var model: QueryModel = .studyRoot
    @Option(name: [.customShort("k"), .long], help: "KEYWORD=VALUE or KEYWORD (gggg,eeee works too).") var key: [String] = []
    @Flag(help: "Print matches as JSON.") var json = false
    @Option(help: "DIMSE priority: high, medium or low.") var priority: DIMSEPriority = .medium
    @OptionGroup var scu: SCUOptions

    func run() async throws {
        let node = try scu.node(peer)
        guard let queryLevel = QueryLevel(parsing: level) else { throw ValidationError("unknown level '\(level)' (patient, study, series, image)") }
        var keys = try parseKeys(key)
        keys[.queryRetrieveLevel] = queryLevel.rawValue
        for tag in QueryKeys.defaultReturnKeys(for: queryLevel) where keys[tag] == nil { keys[tag] = "" }
        let client = try scu.client()
        let (matches, result): ([DicomAttributes], DIMSEResult)
        do {
            (matches, result) = try await client.find(node, model: model, keys: keys, priority: priority)
        } catch let error as DicomNetworkError {
            throw CommandFailure("C-FIND at \(node) failed: \(error)")
        }
        let columns = keys.tags.filter { $0 != .queryRetrieveLevel && $0 != .specificCharacterSet }
        if json {
            let rows = matches.map { m in
                Dictionary(uniqueKeysWithValues: columns.map { ($0.keyword ?? $0.description, m.string($0) ?? "") })
            }
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            printTable(matches, columns: columns)
            print("\(matches.count) match(es); final status \(result.status)")
        }
        if !result.status.isSuccess { throw ExitCode(1) }
    }
}

/// Parses `-k` arguments into query keys.
func parseKeys(_ items: [String]) throws -> DicomAttributes {
    var keys = DicomAttributes()
    for item in items {
        let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard let tag = DicomTag(parsing: name) else {
            throw ValidationError("unknown attribute '\(name)': use a keyword such as PatientID or a tag gggg,eeee")
        }
        keys[tag] = parts.count > 1 ? String(parts[1]) : ""
    }
    return keys
}

enum QueryKeys {
    static func defaultReturnKeys(for level: QueryLevel) -> [DicomTag] {
        switch level {
        case .patient: return [.patientName, .patientID, .patientBirthDate, .patientSex]
        case .study:
            return [.patientName, .patientID, .studyDate, .accessionNumber, .modalitiesInStudy, .studyDescription,
                    .studyInstanceUID, .numberOfStudyRelatedInstances]
        case .series: return [.studyInstanceUID, .seriesInstanceUID, .modality, .seriesNumber, .seriesDescription]
        case .image: return [.studyInstanceUID, .seriesInstanceUID, .sopInstanceUID, .sopClassUID, .instanceNumber]
        }
    }
}

func printTable(_ rows: [DicomAttributes], columns: [DicomTag]) {
    let headers = columns.map { $0.keyword ?? $0.description }
    var widths = headers.map(\.count)
    let cells = rows.map { row in columns.map { row.string($0) ?? "" } }
    for line in cells { for (i, c) in line.enumerated() { widths[i] = min(64, max(widths[i], c.count)) } }
    func render(_ values: [String]) -> String {
        zip(values, widths).map { v, w in v.count >= w ? String(v.prefix(w)) : v + String(repeating: " ", count: w - v.count) }
            .joined(separator: "  ")
    }
    print(render(headers))
    for line in cells { print(render(line)) }
}
