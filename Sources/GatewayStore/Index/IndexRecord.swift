/// A row type of the index with its own table: read from a row, inserted column by column.
public protocol IndexRecord {
    static var indexTable: String { get }
    init(row: IndexRow)
}

enum IndexRecordSQL {
    /// `INSERT INTO table (columns) VALUES (?, ...) RETURNING id`: the same text on both engines.
    static func insert(into table: String, columns: [String]) -> String {
        "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ") RETURNING id"
    }
}

extension IndexDatabase {
    /// The records of a query (its columns named as the record's).
    public func fetchAll<R: IndexRecord>(_ type: R.Type, _ sql: String, _ arguments: IndexArguments = [],
                                         cached: Bool = true) throws -> [R] {
        var records: [R] = []
        try forEach(sql, arguments, cached: cached) { records.append(R(row: $0)); return true }
        return records
    }

    /// The first record of a query, or nil.
    public func fetchOne<R: IndexRecord>(_ type: R.Type, _ sql: String, _ arguments: IndexArguments = [],
                                         cached: Bool = true) throws -> R? {
        try fetchOne(sql, arguments, cached: cached).map { R(row: $0) }
    }
}
