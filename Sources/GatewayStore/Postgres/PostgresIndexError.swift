import PostgresNIO

/// Where an index connection points: never holds the password.
public struct PostgresEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String

    public init(host: String, port: Int = 5432, user: String, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
    }

    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
}

/// A failure of the PostgreSQL index, saying where (endpoint), what was being done, and the
/// server's own message and SQLSTATE when it sent one. Never carries the password nor bound
/// values (they may be patient data); the SQL text is kept apart (`sql`) for debugging.
public struct PostgresIndexError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// No connection could be made or the server refused the login.
        case connect
        /// The connection was lost (server stopped or killed, network): a new connection is needed.
        case connectionLost
        /// The server rejected the statement (syntax, constraint, ...): the connection is still usable
        /// (after ROLLBACK when inside a transaction).
        case statement
        /// The caller's statement and arguments do not fit (placeholder count, unreadable column type).
        case usage
    }

    public let kind: Kind
    public let endpoint: PostgresEndpoint
    /// What was being done: "connect", "query", "BEGIN", ...
    public let operation: String
    public let message: String
    /// The server's SQLSTATE (e.g. 28P01 wrong password, 23505 unique violation), when it sent one.
    public let sqlState: String?
    public let sql: String?

    public var description: String {
        var text = "PostgreSQL index at \(endpoint.host):\(endpoint.port) (database \(endpoint.database), "
            + "user \(endpoint.user)): \(operation) failed: \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    /// A unique or primary-key constraint was violated (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    static func from(_ error: any Error, endpoint: PostgresEndpoint, operation: String, sql: String?) -> Self {
        guard let psql = error as? PSQLError else {
            return Self(kind: operation == "connect" ? .connect : .connectionLost, endpoint: endpoint,
                        operation: operation, message: "\(error)", sqlState: nil, sql: sql)
        }
        if let info = psql.serverInfo {
            var message = info[.message] ?? "server error"
            if let detail = info[.detail] { message += "; \(detail)" }
            let state = info[.sqlState]
            // Class 08 (connection exception), 57P (operator intervention: shutdown, crash) end the session.
            let lost = state.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false
            let kind: Kind = operation == "connect" ? .connect : (lost ? .connectionLost : .statement)
            return Self(kind: kind, endpoint: endpoint, operation: operation, message: message, sqlState: state, sql: sql)
        }
        var message: String
        switch psql.code {
        case .connectionError: message = "cannot connect"
        case .serverClosedConnection: message = "the server closed the connection"
        case .clientClosedConnection: message = "the connection was already closed"
        case .uncleanShutdown: message = "the connection ended uncleanly"
        case .sslUnsupported: message = "the server does not support TLS"
        default: message = "\(psql.code)"
        }
        if let underlying = psql.underlying { message += ": \(underlying)" }
        let kind: Kind = operation == "connect" ? .connect : .connectionLost
        return Self(kind: kind, endpoint: endpoint, operation: operation, message: message, sqlState: nil, sql: sql)
    }
}
