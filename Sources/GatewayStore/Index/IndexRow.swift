/// One result row: values by position and by column name.
public struct IndexRow: Sendable, Hashable {
    public let columns: IndexColumns
    public let values: [IndexValue]

    public init(columns: IndexColumns, values: [IndexValue]) {
        self.columns = columns
        self.values = values
    }

    public init(columns: [String], values: [IndexValue]) {
        self.init(columns: IndexColumns(columns), values: values)
    }

    public var count: Int { values.count }

    /// The value at `index` as `T`. A NULL or a value of another type read as a non-optional
    /// type is a programming error (the schema says what a column holds), as with GRDB.
    public subscript<T: IndexValueConvertible>(index: Int) -> T {
        Self.decode(values[index], column: columns.names[index])
    }

    /// The value of the column `name` as `T` (see the subscript by position). Names are matched
    /// exactly, then ignoring case: PostgreSQL folds unquoted identifiers to lower case.
    public subscript<T: IndexValueConvertible>(name: String) -> T {
        guard let i = columns.index(of: name) else {
            if let absent = T.fromIndexValue(.null) { return absent }
            preconditionFailure("the index row has no column \(name) (it has \(columns.names.joined(separator: ", ")))")
        }
        return Self.decode(values[i], column: name)
    }

    /// The raw value of column `name`; `.null` when the row has no such column.
    public func value(_ name: String) -> IndexValue {
        columns.index(of: name).map { values[$0] } ?? .null
    }

    /// Whether the row has a column `name`.
    public func has(_ name: String) -> Bool { columns.index(of: name) != nil }

    private static func decode<T: IndexValueConvertible>(_ value: IndexValue, column: String) -> T {
        if let decoded = T.fromIndexValue(value) { return decoded }
        preconditionFailure("index column \(column) holds \(value.kindName), not \(T.self)")
    }
}

/// The column names of a statement's rows, shared by all of them.
public final class IndexColumns: Sendable, Hashable {
    public let names: [String]
    private let lowered: [String]

    public init(_ names: [String]) {
        self.names = names
        lowered = names.map { $0.lowercased() }
    }

    public func index(of name: String) -> Int? {
        if let i = names.firstIndex(of: name) { return i }
        let lower = name.lowercased()
        return lowered.firstIndex(of: lower)
    }

    public static func == (a: IndexColumns, b: IndexColumns) -> Bool { a.names == b.names }
    public func hash(into hasher: inout Hasher) { hasher.combine(names) }
}

extension IndexValue {
    var kindName: String {
        switch self {
        case .null: "NULL"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .blob: "a blob"
        }
    }
}
