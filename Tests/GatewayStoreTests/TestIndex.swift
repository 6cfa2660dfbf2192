import Foundation
import GatewayTestSupport
@testable import GatewayStore

/// The index engine a test runs on: SQLite by default; PostgreSQL when DICOM_GATEWAY_TEST_INDEX
/// is `postgres` (scripts/test runs the store suites a second time so), each test on a database
/// of its own on the process's PostgreSQL server.
enum TestIndex {
    static var dialect: IndexDialect {
        ProcessInfo.processInfo.environment["DICOM_GATEWAY_TEST_INDEX"] == "postgres" ? .postgres : .sqlite
    }

    /// Where a test's index lives: a file path, or a database name on the shared server.
    struct Place {
        let sqlitePath: String
        let database: String?
    }

    /// A new place for an index under `root` (nothing is created on SQLite until it is opened).
    static func place(root: String, label: String = "t") throws -> Place {
        switch dialect {
        case .sqlite: Place(sqlitePath: root + "/index.sqlite", database: nil)
        case .postgres: Place(sqlitePath: root + "/index.sqlite", database: try PostgresServer.shared.createDatabase(prefix: label))
        }
    }

    /// Opens (or opens again) the index at `place`.
    static func open(_ place: Place) throws -> CacheIndex {
        guard let database = place.database else { return try CacheIndex(path: place.sqlitePath) }
        let server = PostgresServer.shared
        let settings = PostgresIndexSettings(
            endpoint: PostgresEndpoint(host: server.host, port: server.port, user: server.user, database: database),
            password: server.password)
        return CacheIndex(store: try PostgresIndexStore(settings: settings))
    }
}
