import Logging
import NIOCore
import PostgresNIO

/// One PostgreSQL session for the index, synchronous: made for GatewayStore's committer and reader
/// threads (plain Threads, never Swift concurrency's pool), which block on each statement as they
/// do with SQLite. Not thread-safe: one thread uses a connection at a time.
///
/// Statements are written with `?` placeholders, as for SQLite, and numbered here (`$1`...).
/// Every statement is sent as an extended query (parse, bind, execute) with its values bound,
/// never spliced into the text. After a `.connectionLost` error the connection is dead
/// (`isOpen` false): make a new one.
public final class PostgresIndexConnection: IndexDatabase {
    public let endpoint: PostgresEndpoint
    private let connection: PostgresConnection
    private let logger: Logger
    private var closed = false
    /// Each statement's numbered text, translated once per connection (the hot statements run per instance).
    private var numberedStatements: [String: (sql: String, count: Int, names: [String])] = [:]
    public private(set) var isInTransaction = false

    /// Connects and logs in (password authentication: MD5 or SCRAM-SHA-256 as the server asks).
    public init(
        endpoint: PostgresEndpoint, password: String?, connectTimeout: TimeAmount = .seconds(10),
        logger: Logger = Logger(label: "dicom-gateway.index.postgres")
    ) throws(PostgresIndexError) {
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.user, password: password,
            database: endpoint.database, tls: .disable)
        configuration.options.connectTimeout = connectTimeout
        self.endpoint = endpoint
        self.logger = logger
        do {
            connection = try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration,
                id: 1, logger: logger
            ).wait()
        } catch {
            throw PostgresIndexError.from(error, endpoint: endpoint, operation: "connect", sql: nil)
        }
    }

    deinit { close() }

    /// False once closed or after the connection was lost.
    public var isOpen: Bool { !closed && !connection.isClosed }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = try? connection.close().wait()
    }

    // MARK: Statements (IndexDatabase)

    public var dialect: IndexDialect { .postgres }

    /// Runs a statement; returns the number of rows it inserted, updated or deleted
    /// (what SQLite's `changes()` answers).
    @discardableResult
    public func executeStatement(_ sql: String, _ arguments: IndexArguments, cached: Bool) throws -> Int {
        try run(sql, arguments, operation: "execute").affected
    }

    public func forEachRow(_ sql: String, _ arguments: IndexArguments, cached: Bool, _ body: (IndexRow) throws -> Bool) throws {
        for row in try run(sql, arguments, operation: "query").rows {
            guard try body(row) else { return }
        }
    }

    /// Runs an INSERT that ends in `RETURNING id` (PostgreSQL has no last_insert_rowid()) and returns the id.
    public func insertReturningID(_ sql: String, _ arguments: IndexArguments) throws -> Int64 {
        guard let id = try run(sql, arguments, operation: "insert").rows.first?.values.first?.int64 else {
            throw usage("the statement returned no integer id (it must end in RETURNING id)", sql: sql)
        }
        return id
    }

    /// Runs each statement of a script in turn (the extended protocol takes one statement at a time).
    public func executeScript(_ sql: String) throws {
        for statement in SQLPlaceholders.statements(sql) { try run(statement, [], operation: "execute") }
    }

    // MARK: Notifications

    /// LISTENs on `channel` (a constant identifier, never caller input): `heard` receives each
    /// notification's payload, on the connection's event loop, for as long as the connection lives.
    public func listen(_ channel: String, heard: @escaping @Sendable (String) -> Void) throws(PostgresIndexError) {
        connection.addListener(channel: channel) { _, message in heard(message.payload) }
        try run("LISTEN \(channel)", [], operation: "LISTEN")
    }

    // MARK: Transactions

    public func begin() throws(PostgresIndexError) {
        try run("BEGIN", [], operation: "BEGIN")
        isInTransaction = true
    }

    public func commit() throws(PostgresIndexError) {
        defer { isInTransaction = false }
        try run("COMMIT", [], operation: "COMMIT")
    }

    public func rollback() throws(PostgresIndexError) {
        defer { isInTransaction = false }
        try run("ROLLBACK", [], operation: "ROLLBACK")
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func inTransaction<T>(_ body: (PostgresIndexConnection) throws -> T) throws -> T {
        try begin()
        do {
            let result = try body(self)
            try commit()
            return result
        } catch {
            if isOpen { try? rollback() }
            throw error
        }
    }

    /// Runs `body` inside a savepoint of the open transaction: released when it returns, rolled back to
    /// (and the error rethrown) when it throws, leaving the transaction usable. The group committer needs
    /// this: on PostgreSQL a failed statement aborts the whole transaction (SQLSTATE 25P02 for every
    /// statement after it) unless it ran under a savepoint.
    public func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT ticket", [], operation: "SAVEPOINT")
        do {
            let result = try body()
            try run("RELEASE SAVEPOINT ticket", [], operation: "RELEASE SAVEPOINT")
            return result
        } catch {
            if isOpen { _ = try? run("ROLLBACK TO SAVEPOINT ticket", [], operation: "ROLLBACK TO SAVEPOINT") }
            throw error
        }
    }

    // MARK: Internals

    @discardableResult
    private func run(_ sql: String, _ arguments: IndexArguments, operation: String) throws(PostgresIndexError)
        -> (rows: [IndexRow], affected: Int)
    {
        guard isOpen else {
            throw PostgresIndexError(kind: .connectionLost, endpoint: endpoint, operation: operation,
                                     message: "the connection is closed", sqlState: nil, sql: sql)
        }
        let numbered: (sql: String, count: Int, names: [String])
        if let known = numberedStatements[sql] {
            numbered = known
        } else {
            numbered = SQLPlaceholders.numbered(sql)
            if numberedStatements.count < 4096 { numberedStatements[sql] = numbered }
        }
        let values: [IndexValue]
        if numbered.names.isEmpty {
            guard numbered.count == arguments.positional.count, arguments.named.isEmpty else {
                throw usage("the statement has \(numbered.count) placeholders but \(arguments.positional.count) arguments", sql: sql)
            }
            values = arguments.positional
        } else {
            guard numbered.count == numbered.names.count, arguments.positional.isEmpty else {
                throw usage("the statement mixes ? and :name placeholders", sql: sql)
            }
            var named: [IndexValue] = []
            for name in numbered.names {
                guard let value = arguments.named[name] else { throw usage("no value for :\(name)", sql: sql) }
                named.append(value)
            }
            values = named
        }
        let text = numbered.sql
        var binds = PostgresBindings(capacity: values.count)
        for value in values { PostgresValueCoding.bind(value, to: &binds) }
        let result: PostgresQueryResult
        do {
            result = try connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger).wait()
        } catch {
            let failure = PostgresIndexError.from(error, endpoint: endpoint, operation: operation, sql: sql)
            if failure.kind == .connectionLost { close() }
            throw failure
        }
        var rows: [IndexRow] = []
        rows.reserveCapacity(result.rows.count)
        var columns: IndexColumns?
        for row in result.rows {
            var values: [IndexValue] = []
            values.reserveCapacity(row.count)
            for cell in row {
                do { values.append(try PostgresValueCoding.value(of: cell)) } catch {
                    throw usage("column \(cell.columnName): cannot read type \(cell.dataType)", sql: sql)
                }
            }
            if columns == nil { columns = IndexColumns(row.map(\.columnName)) }
            rows.append(IndexRow(columns: columns!, values: values))
        }
        return (rows, result.metadata.rows ?? 0)
    }

    private func usage(_ message: String, sql: String) -> PostgresIndexError {
        PostgresIndexError(kind: .usage, endpoint: endpoint, operation: "query", message: message, sqlState: nil, sql: sql)
    }
}
