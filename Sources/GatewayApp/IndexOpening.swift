import Foundation
import GatewayConfig
import GatewayStore
import Logging

extension Gateway {
    /// The cache index the configuration names: the embedded SQLite file (default), or the
    /// PostgreSQL database shared by the cluster's nodes (`index.url`), migrated on open.
    public static func openIndex(_ configuration: GatewayConfiguration, logger: Logger) throws -> CacheIndex {
        guard let location = configuration.index.postgres else {
            return try CacheIndex(path: configuration.storage.indexPath.path)
        }
        var password: String?
        if let file = configuration.index.passwordFile {
            do {
                password = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw StoreError("cannot read index.password_file \(file.path): \(error.localizedDescription)")
            }
        }
        let settings = PostgresIndexSettings(
            endpoint: PostgresEndpoint(host: location.host, port: location.port, user: location.user, database: location.database),
            password: password, connectTimeoutSeconds: configuration.index.connectTimeoutSeconds,
            readers: configuration.index.readers)
        let index = CacheIndex(store: try PostgresIndexStore(settings: settings, logger: logger))
        logger.info("index on PostgreSQL", metadata: ["index": "\(location)", "node": "\(configuration.cluster.nodeID)"])
        return index
    }
}

extension InstancePath {
    /// The cache's paths for this configuration: a cluster node's own work under `nodes/<node>/`
    /// when the index is on PostgreSQL (shared storage), the storage root itself otherwise.
    init(_ configuration: GatewayConfiguration) {
        self.init(root: configuration.storage.path.path,
                  node: configuration.index.postgres == nil ? nil : configuration.cluster.nodeID)
    }
}
