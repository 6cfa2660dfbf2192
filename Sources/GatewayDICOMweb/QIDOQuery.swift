import DicomCore
import GatewayStore

/// A QIDO-RS search (PS3.18 10.6) as the index runs it: the level, the identifier (matching keys
/// with values, return keys empty, exactly as a C-FIND identifier), `limit`/`offset` and whether
/// `fuzzymatching` was asked for (answered with a Warning: the gateway matches literally).
public struct QIDOQuery: Sendable, Equatable {
    public var level: QueryLevel
    public var identifier: DicomAttributes
    public var limit: Int
    public var offset: Int
    public var fuzzyMatching: Bool

    /// At most this many matches in one answer (as for C-FIND); `limit` is held to it.
    public static let maximumLimit = 10_000

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// What every answer holds at its level (PS3.18 Table 10.6.3-3, with what OHIF's lists read).
    public static func defaultKeys(_ level: QueryLevel) -> [DicomTag] {
        let study: [DicomTag] = [
            .studyDate, .studyTime, .accessionNumber, .modalitiesInStudy, DicomTag(0x0008, 0x0090), .patientName, .patientID,
            .patientBirthDate, .patientSex, .studyInstanceUID, .studyID, .studyDescription, DicomTag(0x0020, 0x1206),
            .numberOfStudyRelatedInstances,
        ]
        let series: [DicomTag] = [.studyInstanceUID, .modality, .seriesInstanceUID, .seriesNumber, .seriesDescription,
                                  DicomTag(0x0020, 0x1209)]
        let instance: [DicomTag] = [.studyInstanceUID, .seriesInstanceUID, .sopClassUID, .sopInstanceUID, .instanceNumber]
        switch level {
        case .patient, .study: return study
        case .series: return series
        case .image: return instance
        }
    }

    /// Every key the index can return at `level` (`includefield=all`).
    static func allKeys(_ level: QueryLevel) -> [DicomTag] {
        DicomDictionary.entries.map(\.tag).filter { tag in
            guard let key = CacheQuery.indexedKey(tag) else { return false }
            return CacheQuery.isAtOrBelow(level, key.level)
        }
    }

    /// A tag named by its keyword (`PatientName`) or its 8 hex digits (`00100010`); nil otherwise.
    public static func tag(_ name: Substring) -> DicomTag? {
        if name.count == 8, let raw = UInt32(name, radix: 16) { return DicomTag(UInt16(raw >> 16), UInt16(raw & 0xFFFF)) }
        return DicomDictionary.tag(forKeyword: String(name))
    }

    /// Parses the query parameters of a search at `level`; `fixed` are the UIDs of the path
    /// (`/studies/{study}/series`). Parameters that name no attribute are ignored (PS3.18 8.3.4);
    /// a value the gateway cannot honour is refused, never answered with everything.
    public static func parse(level: QueryLevel, parameters: [(name: String, value: String)],
                             fixed: [DicomTag: String] = [:]) throws(Invalid) -> QIDOQuery {
        var query = QIDOQuery(level: level, identifier: DicomAttributes(), limit: maximumLimit, offset: 0, fuzzyMatching: false)
        for tag in defaultKeys(level) { query.identifier[tag] = "" }
        for (name, value) in parameters {
            switch name.lowercased() {
            case "limit":
                guard let n = Int(value), n >= 0 else { throw Invalid(description: "limit=\(value) is not a whole number") }
                query.limit = min(n, maximumLimit)
            case "offset":
                guard let n = Int(value), n >= 0 else { throw Invalid(description: "offset=\(value) is not a whole number") }
                query.offset = n
            case "fuzzymatching":
                switch value.lowercased() {
                case "true": query.fuzzyMatching = true
                case "false": query.fuzzyMatching = false
                default: throw Invalid(description: "fuzzymatching=\(value) is neither true nor false")
                }
            case "includefield":
                for field in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !field.isEmpty {
                    if field.lowercased() == "all" {
                        for tag in allKeys(level) where query.identifier[tag] == nil { query.identifier[tag] = "" }
                    } else if let tag = tag(Substring(field)), query.identifier[tag] == nil {
                        query.identifier[tag] = ""  // returned empty when the index does not hold it
                    }
                }
            default:
                guard let tag = tag(Substring(name)) else { continue }  // not an attribute: ignored
                try query.match(tag, value, name: name)
            }
        }
        for (tag, uid) in fixed { query.identifier[tag] = uid }
        return query
    }

    private mutating func match(_ tag: DicomTag, _ value: String, name: String) throws(Invalid) {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            identifier[tag] = ""  // an empty value asks for the attribute to be returned
            return
        }
        guard let key = CacheQuery.indexedKey(tag), !key.isCount else {
            throw Invalid(description: "matching on \(name) is not supported (it can be returned with includefield)")
        }
        guard CacheQuery.isAtOrBelow(level, key.level) else {
            throw Invalid(description: "\(name) is below the \(level == .image ? "instance" : level.rawValue.lowercased()) level searched")
        }
        // UID lists may be written with commas (PS3.18 8.3.4.1) or backslashes.
        identifier[tag] = key.isUID ? trimmed.replacingOccurrences(of: ",", with: "\\") : trimmed
    }
}
