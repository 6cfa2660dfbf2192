import DicomCore
import Foundation

/// C-FIND over the index with the matching rules of PS3.4 C.2.2.2: single value, universal
/// (empty), wildcard `*` and `?`, ranges of dates and times (open or closed), lists of UIDs,
/// case-insensitive person names. Matches stream to `onMatch`; return false there to stop.
public struct CacheQuery: Sendable {
    public let level: QueryLevel
    public let identifier: DicomAttributes
    /// RetrieveAETitle (0008,0054) to put in answers that ask for it.
    public let retrieveAETitle: String
    /// When set, only patients of exactly this issuer match (also the empty one, which the
    /// IssuerOfPatientID key cannot ask for: empty is universal matching there).
    public let patientIssuer: String?

    public init(level: QueryLevel, identifier: DicomAttributes, retrieveAETitle: String, patientIssuer: String? = nil) {
        self.level = level
        self.identifier = identifier
        self.retrieveAETitle = retrieveAETitle
        self.patientIssuer = patientIssuer
    }

    /// Builds the SQL and its arguments. Attributes below the query level are ignored (PS3.4
    /// C.4.1.1.3.1: they are not valid keys); unknown attributes are returned empty.
    func sql(_ dialect: IndexDialect = .sqlite) -> (String, IndexArguments) {
        var conditions: [String] = []
        var arguments: [IndexValueConvertible] = []
        for (tag, rawValue) in identifier {
            guard let attribute = QueryAttributes.byTag[tag], attribute.level.depth <= level.depth else { continue }
            let value = rawValue.trimmingDicomPadding()
            guard !value.isEmpty, value != "*" else { continue }  // universal matching
            if let (condition, args) = Self.condition(attribute, value, dialect) {
                conditions.append(condition)
                arguments.append(contentsOf: args)
            }
        }
        if let patientIssuer {
            conditions.append("p.issuer = ?")
            arguments.append(patientIssuer)
        }
        let from: String
        switch level {
        case .patient: from = "patient p"
        case .study: from = "study s JOIN patient p ON p.id = s.patientRef"
        case .series: from = "series se JOIN study s ON s.id = se.studyRef JOIN patient p ON p.id = s.patientRef"
        case .image:
            from = "instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef JOIN patient p ON p.id = s.patientRef"
        }
        let columns = QueryAttributes.all.filter { $0.level.depth <= level.depth }
        let select = columns.map { "\($0.column) AS \"\($0.tag.rawValue)\"" }.joined(separator: ", ")
        var sql = "SELECT \(select) FROM \(from)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        return (sql, IndexArguments(arguments))
    }

    static func condition(_ a: QueryAttribute, _ value: String, _ dialect: IndexDialect = .sqlite) -> (String, [IndexValueConvertible])? {
        switch a.kind {
        case .count:
            return nil
        case .uid:
            let list = value.split(separator: "\\").map { String($0).trimmingDicomPadding() }.filter { !$0.isEmpty }
            if list.count == 1 { return ("\(a.column) = ?", [list[0]]) }
            return ("\(a.column) IN (\(Array(repeating: "?", count: list.count).joined(separator: ",")))", list)
        case .date, .time:
            if let dash = value.firstIndex(of: "-") {
                let low = String(value[..<dash]), high = String(value[value.index(after: dash)...])
                var parts: [String] = []
                var args: [IndexValueConvertible] = []
                if !low.isEmpty { parts.append("\(a.column) >= ?"); args.append(low) }
                if !high.isEmpty {
                    // A time range's upper bound includes everything within it (1030 covers 103059.99).
                    parts.append("\(a.column) <= ?")
                    args.append(a.kind == .time ? high + "\u{7F}" : high)
                }
                parts.append("\(a.column) <> ''")
                return ("(" + parts.joined(separator: " AND ") + ")", args)
            }
            return textCondition(a.column, value, caseInsensitive: false, dialect)
        case .personName:
            return textCondition(a.column, value, caseInsensitive: true, dialect)
        case .text:
            return textCondition(a.column, value, caseInsensitive: false, dialect)
        case .modalities:
            let list = value.split(separator: "\\").map(String.init)
            let placeholders = Array(repeating: "?", count: list.count).joined(separator: ",")
            return ("EXISTS (SELECT 1 FROM series m WHERE m.studyRef = s.id AND m.modality IN (\(placeholders)))", list)
        }
    }

    /// DICOM wildcard matching (`*`, `?`): Person Names ignoring case, other text exactly. On
    /// SQLite: LIKE (case-insensitive for ASCII) and GLOB (case-sensitive); on PostgreSQL: ILIKE
    /// and LIKE (which is case-sensitive there), with `%`, `_` and `\` in the value escaped.
    static func textCondition(_ column: String, _ value: String, caseInsensitive: Bool,
                              _ dialect: IndexDialect = .sqlite) -> (String, [IndexValueConvertible]) {
        let hasWildcard = value.contains("*") || value.contains("?")
        if caseInsensitive {
            if !hasWildcard { return ("lower(\(column)) = lower(?)", [value]) }
            let pattern = likePattern(value)
            return ("\(column) \(dialect == .postgres ? "ILIKE" : "LIKE") ? ESCAPE '\\'", [pattern])
        }
        if !hasWildcard { return ("\(column) = ?", [value]) }
        if dialect == .postgres {
            return ("\(column) LIKE ? ESCAPE '\\'", [likePattern(value)])
        }
        let pattern = value.replacingOccurrences(of: "[", with: "[[]")
        return ("\(column) GLOB ?", [pattern])
    }

    /// A DICOM wildcard value as a LIKE pattern with `\\` as its escape: `*` -> `%`, `?` -> `_`.
    static func likePattern(_ value: String) -> String {
        var pattern = ""
        for ch in value {
            switch ch {
            case "*": pattern += "%"
            case "?": pattern += "_"
            case "%", "_", "\\": pattern += "\\\(ch)"
            default: pattern.append(ch)
            }
        }
        return pattern
    }

    /// Runs the query; each match holds exactly the requested keys (plus the level).
    public func run(in index: CacheIndex, onMatch: (DicomAttributes) -> Bool) throws {
        let (sql, arguments) = sql(index.dialect)
        let requested = identifier.tags
        try index.read { db in
            // Not cached: the statement's text follows the query's keys.
            try db.forEach(sql, arguments, cached: false) { row in
                var match = DicomAttributes()
                for tag in requested {
                    if tag == .queryRetrieveLevel { continue }
                    if tag == .specificCharacterSet { continue }
                    if let a = QueryAttributes.byTag[tag], a.level.depth <= level.depth {
                        match[tag] = String.fromIndexValue(row.value("\(tag.rawValue)")) ?? ""
                    } else if tag == .retrieveAETitle {
                        match[tag] = retrieveAETitle
                    } else if tag == DicomTag(0x0008, 0x0056) {
                        match[tag] = "ONLINE"
                    } else {
                        match[tag] = ""
                    }
                }
                match[.queryRetrieveLevel] = level.rawValue
                return onMatch(match)
            }
        }
    }
}

extension CacheIndex {
    /// The instances a C-MOVE/C-GET identifier selects, in study/series/instance order: by its
    /// UIDs, PatientID and IssuerOfPatientID (and `patientIssuer` exactly, when given).
    public func instances(level: QueryLevel, identifier: DicomAttributes, patientIssuer: String? = nil) throws -> [InstanceRecord] {
        var conditions: [String] = []
        var arguments: [IndexValueConvertible] = []
        for (tag, raw) in identifier {
            guard let a = QueryAttributes.byTag[tag], a.kind == .uid || tag == .patientID || tag == .issuerOfPatientID,
                  a.level.depth <= level.depth else { continue }
            let value = raw.trimmingDicomPadding()
            guard !value.isEmpty, let (c, args) = CacheQuery.condition(a, value, dialect) else { continue }
            conditions.append(c)
            arguments.append(contentsOf: args)
        }
        guard !conditions.isEmpty else { return [] }  // never "move everything" on an empty identifier
        if let patientIssuer {
            conditions.append("p.issuer = ?")
            arguments.append(patientIssuer)
        }
        let sql = """
            SELECT i.* FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
            JOIN patient p ON p.id = s.patientRef WHERE \(conditions.joined(separator: " AND "))
            ORDER BY s.id, se.id, \(dialect.integer("i.instanceNumber")), i.id
            """
        return try read { db in try db.fetchAll(InstanceRecord.self, sql, IndexArguments(arguments), cached: false) }
    }

    /// Marks studies as just used (retention evicts the least recently used first).
    public func touch(studyUIDs: Set<String>) {
        guard !studyUIDs.isEmpty else { return }
        let list = Array(studyUIDs)
        enqueue { db in
            try db.execute(
                "UPDATE study SET lastAccessAt = ? WHERE studyUID IN (\(Array(repeating: "?", count: list.count).joined(separator: ",")))",
                IndexArguments([Date()] + list), cached: false)
        }
    }
}

extension CacheQuery {
    /// The level whose index record holds `tag` when the index can match and return it (nil: it
    /// answers it empty and cannot match on it), and whether it is a UID (lists allowed).
    public static func indexedKey(_ tag: DicomTag) -> (level: QueryLevel, isUID: Bool, isCount: Bool)? {
        QueryAttributes.byTag[tag].map { ($0.level, $0.kind == .uid, $0.kind == .count) }
    }

    /// Whether `level` is `other` or below it (an image is below a series, a series below a study).
    public static func isAtOrBelow(_ level: QueryLevel, _ other: QueryLevel) -> Bool { other.depth <= level.depth }
}
