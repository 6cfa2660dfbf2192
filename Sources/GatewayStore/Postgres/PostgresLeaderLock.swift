import Foundation
import Logging

/// The cluster's leader lock: a PostgreSQL session advisory lock held on a connection of its
/// own. The server releases it when that session ends, so a node that dies (kill -9, power,
/// network) loses it as soon as its connection is gone, and the next `poll` of another node
/// takes it.
public final class PostgresLeaderLock: @unchecked Sendable {
    // Safe: used by one task at a time (the leadership service's loop).
    private let settings: PostgresIndexSettings
    private let logger: Logger
    private var connection: PostgresIndexConnection?
    private var held = false
    /// The advisory lock key (any constant the index's migrations do not use).
    static let key: Int64 = 0x4447_574C_4541  // "DGWLEA"

    public init(settings: PostgresIndexSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Tries to take the lock, or checks it is still held; true while this node holds it.
    public func poll() -> Bool {
        do {
            if connection?.isOpen != true {
                held = false
                connection = try PostgresIndexConnection(
                    endpoint: settings.endpoint, password: settings.password,
                    connectTimeout: .seconds(Int64(settings.connectTimeoutSeconds)), logger: logger)
            }
            guard let connection else { return false }
            if held {
                // Still our session: the lock is ours as long as it lives.
                _ = try connection.fetchValue("SELECT 1")
            } else {
                held = try connection.fetchValue(Bool.self, "SELECT pg_try_advisory_lock(?)", [Self.key]) ?? false
            }
        } catch {
            if held { logger.warning("lost the cluster leader lock", metadata: ["error": "\(error)"]) }
            held = false
            connection?.close()
            connection = nil
        }
        return held
    }

    /// Gives the lock up (graceful stop): another node takes over at once.
    public func release() {
        if held, let connection { _ = try? connection.execute("SELECT pg_advisory_unlock(?)", [Self.key]) }
        held = false
        connection?.close()
        connection = nil
    }
}
