import Foundation

/// Tables of the cluster itself, the same SQL on both engines.
enum ClusterSchema {
    static let nodes = """
        CREATE TABLE cluster_node (node TEXT PRIMARY KEY, startedAt TEXT NOT NULL, heartbeatAt TEXT NOT NULL,
                                   leader INTEGER NOT NULL DEFAULT 0, address TEXT NOT NULL DEFAULT '')
        """
    /// Who holds a delivery in flight, and until when (renewed while it sends).
    static let deliveryLease = [
        "ALTER TABLE delivery ADD COLUMN leasedBy TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE delivery ADD COLUMN leaseUntil TEXT",
        "CREATE INDEX delivery_lease ON delivery (state, leasedBy, leaseUntil)",
        """
        CREATE TABLE delivery_slot (destination TEXT NOT NULL, slot INTEGER NOT NULL, holder TEXT NOT NULL DEFAULT '',
                                    leaseUntil TEXT, PRIMARY KEY (destination, slot))
        """,
    ]
}

/// One gateway node as the index last heard of it.
public struct ClusterNodeStatus: Sendable, Equatable {
    public var node: String
    public var startedAt: Date
    public var heartbeatAt: Date
    public var leader: Bool
    /// Where its DICOM and HTTP listeners are (for operators).
    public var address: String

    /// Whether it was heard from within `window` seconds of `now`.
    public func isAlive(now: Date = Date(), window: TimeInterval = 10) -> Bool {
        now.timeIntervalSince(heartbeatAt) <= window
    }
}

extension CacheIndex {
    /// Says this node is alive (and whether it leads). A relaxed write: a lost heartbeat is
    /// only sent again.
    public func recordHeartbeat(node: String, startedAt: Date, leader: Bool, address: String, now: Date = Date()) throws {
        try writeRelaxed { db in
            try db.execute("""
                INSERT INTO cluster_node (node, startedAt, heartbeatAt, leader, address) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (node) DO UPDATE SET startedAt = excluded.startedAt, heartbeatAt = excluded.heartbeatAt,
                                                 leader = excluded.leader, address = excluded.address
                """, [node, startedAt, now, leader, address])
            // A node that stopped leading (or died while leading) no longer shows as leader once another leads.
            if leader { try db.execute("UPDATE cluster_node SET leader = 0 WHERE node <> ? AND leader = 1", [node]) }
        }
    }

    /// Every node the index knows, by name.
    public func clusterNodes() throws -> [ClusterNodeStatus] {
        try read { db in
            try db.fetchAll("SELECT node, startedAt, heartbeatAt, leader, address FROM cluster_node ORDER BY node").map { row in
                ClusterNodeStatus(node: row["node"], startedAt: row["startedAt"], heartbeatAt: row["heartbeatAt"],
                                  leader: row["leader"], address: row["address"])
            }
        }
    }
}
