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
    /// Which node fetches a study from its source (pull-through and pulls), and until when
    /// (renewed with its delivery leases): the others wait for it instead of fetching again.
    static let fetchClaim = """
        CREATE TABLE fetch_claim (studyUID TEXT PRIMARY KEY, holder TEXT NOT NULL DEFAULT '', leaseUntil TEXT)
        """
}

/// One gateway node as the index last heard of it.
public struct ClusterNodeStatus: Sendable, Equatable {
    public var node: String
    public var startedAt: Date
    public var heartbeatAt: Date
    public var leader: Bool
    /// Where its DICOM and HTTP listeners are (for operators).
    public var address: String
    /// What it holds now: deliveries it is sending, destinations' association slots ("HUB#0"),
    /// studies it is fetching from their sources.
    public var deliveriesInFlight = 0
    public var slots: [String] = []
    public var fetching = 0

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
            var nodes = try db.fetchAll("SELECT node, startedAt, heartbeatAt, leader, address FROM cluster_node ORDER BY node").map { row in
                ClusterNodeStatus(node: row["node"], startedAt: row["startedAt"], heartbeatAt: row["heartbeatAt"],
                                  leader: row["leader"], address: row["address"])
            }
            guard dialect == .postgres else { return nodes }  // a node alone leases nothing
            var inFlight: [String: Int] = [:], fetching: [String: Int] = [:], slots: [String: [String]] = [:]
            for row in try db.fetchAll("""
                SELECT leasedBy AS node, count(*) AS n FROM delivery WHERE state = 'inflight' AND leasedBy <> '' GROUP BY leasedBy
                """) { inFlight[row["node"]] = row["n"] }
            for row in try db.fetchAll("SELECT holder AS node, count(*) AS n FROM fetch_claim WHERE holder <> '' GROUP BY holder") {
                fetching[row["node"]] = row["n"]
            }
            for row in try db.fetchAll("""
                SELECT holder, destination, slot FROM delivery_slot WHERE holder <> '' ORDER BY destination, slot
                """) { slots[row["holder"], default: []].append("\(row["destination"] as String)#\(row["slot"] as Int)") }
            for i in nodes.indices {
                nodes[i].deliveriesInFlight = inFlight[nodes[i].node] ?? 0
                nodes[i].fetching = fetching[nodes[i].node] ?? 0
                nodes[i].slots = slots[nodes[i].node] ?? []
            }
            return nodes
        }
    }
}
