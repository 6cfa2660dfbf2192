import Foundation
import GatewayStore
import GRDB

/// The index of a `GatewayProcess`, read by the test while the gateway runs: its SQLite file
/// (read-only), or its PostgreSQL database when the suite runs on PostgreSQL
/// (DICOM_GATEWAY_TEST_INDEX=postgres). Rows come back as `IndexRow` either way.
extension GatewayProcess {
    /// The index section the gateway's file gets when the suite runs on PostgreSQL (nil: SQLite).
    static func postgresIndexYAML(directory: TestDirectory, label: String) throws -> (yaml: String, database: String)? {
        guard ProcessInfo.processInfo.environment["DICOM_GATEWAY_TEST_INDEX"] == "postgres" else { return nil }
        let server = PostgresServer.shared
        let database = try server.createDatabase(prefix: label)
        let passwordFile = directory.path + "/pg.password"
        try (server.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        return ("""
            index: { url: "postgresql://\(server.user)@\(server.host):\(server.port)/\(database)", password_file: \(passwordFile) }
            cluster: { node_id: gw-test }

            """, database)
    }

    /// Every row of `sql` (`?` placeholders) in the gateway's index.
    func indexRows(_ sql: String, _ arguments: IndexArguments = []) throws -> [IndexRow] {
        if let database = postgresDatabase {
            let server = PostgresServer.shared
            let connection = try PostgresIndexConnection(
                endpoint: PostgresEndpoint(host: server.host, port: server.port, user: server.user, database: database),
                password: server.password)
            defer { connection.close() }
            return try connection.fetchAll(sql, arguments, cached: false)
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: storageRoot + "/index.sqlite", configuration: configuration)
        return try queue.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments.sqliteArguments).map(IndexRow.init) }
    }
}
