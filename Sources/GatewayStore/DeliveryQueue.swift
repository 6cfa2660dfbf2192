import Foundation

/// A delivery to queue with an instance: where it goes, by which route, how urgently, and the
/// coercion to apply to the copy sent (JSON object of "gggg,eeee" to value, null removes).
public struct PendingDelivery: Sendable, Equatable {
    public var destination: String
    public var route: String
    /// 3 stat, 2 urgent, 1 routine, 0 bulk.
    public var priorityRank: Int
    public var editsJSON: String

    public init(destination: String, route: String, priorityRank: Int, editsJSON: String = "{}") {
        self.destination = destination
        self.route = route
        self.priorityRank = priorityRank
        self.editsJSON = editsJSON
    }
}

/// Depth and age of the queue for one destination and priority.
public struct QueueDepth: Sendable, Equatable {
    public var destination: String
    public var priorityRank: Int
    public var state: String
    public var count: Int
    public var oldest: Date
}

extension CacheIndex {
    static func insertDeliveries(_ deliveries: [PendingDelivery], instanceRef: Int64, now: Date, _ db: any IndexDatabase) throws {
        for d in deliveries {
            try db.execute("""
                INSERT INTO delivery(instanceRef, destination, route, priority, state, nextAttemptAt, edits, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, [instanceRef, d.destination, d.route, d.priorityRank, now, d.editsJSON, now, now])
        }
    }

    /// The deliveries the routes ask for a replaced instance's new content: new rows are queued;
    /// an existing row takes the new coercion (the new content's identity edits) and route, and
    /// keeps the higher class. Its state is `requeueDeliveries`' business.
    static func refreshDeliveries(_ deliveries: [PendingDelivery], instanceRef: Int64, now: Date, _ db: any IndexDatabase) throws {
        for d in deliveries {
            try db.execute("""
                INSERT INTO delivery(instanceRef, destination, route, priority, state, nextAttemptAt, edits, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)
                ON CONFLICT(instanceRef, destination) DO UPDATE SET
                  edits = excluded.edits, route = excluded.route, priority = CASE WHEN excluded.priority > delivery.priority THEN excluded.priority ELSE delivery.priority END, updatedAt = excluded.updatedAt
                """, [instanceRef, d.destination, d.route, d.priorityRank, now, d.editsJSON, now, now])
        }
    }

    /// The instance's content was replaced: every delivery of it goes out again, with a fresh retry
    /// budget (a dead one too: the new content may be accepted). One a worker is sending now (the
    /// old content) is marked instead, and its outcome puts it back in the queue (see
    /// `finishDelivery`). One an operator cancelled stays cancelled, and the node that sent the
    /// new content gets nothing back. Runs inside the replacing transaction.
    static func requeueDeliveries(ofReplacedInstance instanceRef: Int64, sender: String?, now: Date, _ db: any IndexDatabase) throws {
        // The node that sent the new content has it already.
        let sender = sender ?? ""
        try db.execute("""
            UPDATE delivery SET state = 'queued', attempts = 0, nextAttemptAt = ?, updatedAt = ?, requeueAfterFlight = 0
            WHERE instanceRef = ? AND state NOT IN ('inflight', 'cancelled') AND destination <> ?
            """, [now, now, instanceRef, sender])
        try db.execute("""
            UPDATE delivery SET requeueAfterFlight = 1, attempts = 0, updatedAt = ? WHERE instanceRef = ? AND state = 'inflight'
              AND destination <> ?
            """, [now, instanceRef, sender])
    }

    /// Whether any instance of the study still has a delivery that is not done (retention keeps it).
    public func hasUndeliveredWork(studyUID: String) -> Bool {
        (try? read { db in
            try db.fetchValue(Bool.self, """
                SELECT EXISTS (SELECT 1 FROM delivery d JOIN instance i ON i.id = d.instanceRef
                JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                WHERE s.studyUID = ? AND d.state NOT IN ('done', 'cancelled'))
                """, [studyUID])
        }) ?? true
    }

    /// Every destination that has deliveries in the index, in any state (a node taken out of the
    /// configuration keeps its rows until they are cancelled).
    public func deliveryDestinations() throws -> Set<String> {
        try read { db in Set(try db.fetchValues(String.self, "SELECT DISTINCT destination FROM delivery")) }
    }

    /// Depth and oldest entry per destination, priority and state (done and cancelled deliveries excluded).
    public func queueDepths() throws -> [QueueDepth] {
        try read { db in
            try db.fetchAll("""
                SELECT destination, priority, state, COUNT(*) AS n, MIN(createdAt) AS oldest FROM delivery
                WHERE state NOT IN ('done', 'cancelled') GROUP BY destination, priority, state ORDER BY destination, priority DESC, state
                """).map {
                QueueDepth(destination: $0["destination"], priorityRank: $0["priority"], state: $0["state"], count: $0["n"],
                           oldest: $0["oldest"])
            }
        }
    }
}
