/// Which SQL engine holds the index.
public enum IndexDialect: String, Sendable {
    case sqlite
    case postgres
}

extension IndexDialect {
    /// `expression` (text) as an integer the way SQLite's CAST reads it: its leading integer
    /// (after blanks), 0 when there is none. PostgreSQL's cast refuses such text outright.
    public func integer(_ expression: String) -> String {
        switch self {
        case .sqlite: "CAST(\(expression) AS INTEGER)"
        case .postgres: "COALESCE(substring(\(expression) from '^ *[+-]?[0-9]{1,18}')::bigint, 0)"
        }
    }
}

/// One index connection inside a transaction (or a single-statement read), as GatewayStore's
/// code sees it on either engine: SQLite through GRDB, or PostgreSQL through postgres-nio.
/// Statements use `?` (by position) or `:name` placeholders; values are always bound, never
/// spliced into the text. Used by one thread at a time, and only inside the closure it was
/// handed to.
public protocol IndexDatabase: AnyObject {
    var dialect: IndexDialect { get }

    /// Runs a statement; returns the number of rows it inserted, updated or deleted.
    /// `cached`: keep the statement prepared on this connection (the SQL of the hot paths); pass
    /// false for SQL built from a request (query keys), which would fill the cache.
    @discardableResult
    func executeStatement(_ sql: String, _ arguments: IndexArguments, cached: Bool) throws -> Int

    /// Calls `body` with each row of a query until it returns false.
    func forEachRow(_ sql: String, _ arguments: IndexArguments, cached: Bool, _ body: (IndexRow) throws -> Bool) throws

    /// Runs an INSERT that ends in `RETURNING id` and returns the new row's id.
    func insertReturningID(_ sql: String, _ arguments: IndexArguments) throws -> Int64

    /// Runs `body` in a savepoint of the open transaction: undone alone when it throws, leaving the
    /// transaction usable (PostgreSQL aborts the whole transaction at a failed statement otherwise).
    func inSavepoint<T>(_ body: () throws -> T) throws -> T

    /// Runs SQL text of several statements without arguments (schema migrations).
    func executeScript(_ sql: String) throws
}

extension IndexDatabase {
    @discardableResult
    public func execute(_ sql: String, _ arguments: IndexArguments = [], cached: Bool = true) throws -> Int {
        try executeStatement(sql, arguments, cached: cached)
    }

    public func forEach(_ sql: String, _ arguments: IndexArguments = [], cached: Bool = true,
                        _ body: (IndexRow) throws -> Bool) throws {
        try forEachRow(sql, arguments, cached: cached, body)
    }

    /// All rows of a query.
    public func fetchAll(_ sql: String, _ arguments: IndexArguments = [], cached: Bool = true) throws -> [IndexRow] {
        var rows: [IndexRow] = []
        try forEach(sql, arguments, cached: cached) { rows.append($0); return true }
        return rows
    }

    /// The first row, or nil when there is none.
    public func fetchOne(_ sql: String, _ arguments: IndexArguments = [], cached: Bool = true) throws -> IndexRow? {
        var first: IndexRow?
        try forEach(sql, arguments, cached: cached) { first = $0; return false }
        return first
    }

    /// The first column of the first row as `T`; nil when there is no row or it holds NULL.
    public func fetchValue<T: IndexValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: IndexArguments = [],
                                                     cached: Bool = true) throws -> T? {
        guard let row = try fetchOne(sql, arguments, cached: cached), let value = row.values.first else { return nil }
        return T.fromIndexValue(value)
    }

    /// The first column of the first row as it is stored; nil when there is no row.
    public func fetchValue(_ sql: String, _ arguments: IndexArguments = [], cached: Bool = true) throws -> IndexValue? {
        try fetchOne(sql, arguments, cached: cached)?.values.first
    }

    /// The first column of every row as `T` (rows holding NULL are left out).
    public func fetchValues<T: IndexValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: IndexArguments = [],
                                                      cached: Bool = true) throws -> [T] {
        var values: [T] = []
        try forEach(sql, arguments, cached: cached) { row in
            if let first = row.values.first, let value = T.fromIndexValue(first) { values.append(value) }
            return true
        }
        return values
    }

    /// Whether a query returns any row.
    public func exists(_ sql: String, _ arguments: IndexArguments = [], cached: Bool = true) throws -> Bool {
        try fetchOne(sql, arguments, cached: cached) != nil
    }
}
