import Foundation

/// One delivery handed to a worker: the instance file to send and the coercion to apply.
public struct DeliveryWork: Sendable, Equatable {
    public var id: Int64
    public var priorityRank: Int
    public var attempts: Int
    public var editsJSON: String
    /// Relative to the storage root.
    public var path: String
    public var sopClassUID: String
    public var transferSyntax: String
    public var sopUID: String
    /// The instance's row id (what a quarantine names).
    public var instanceID: Int64 = 0
    public var seriesRef: Int64
    public var queuedAt: Date
    /// The class it was taken at: its own, or one higher after waiting longer than `aging`.
    public var effectiveRank: Int
}

extension CacheIndex {
    /// Which deliveries a worker may take.
    public struct LeaseRequest: Sendable {
        public var destination: String
        public var limit: Int
        /// Only work of at least this class (2 for the lane kept for stat/urgent).
        public var minimumRank = 0
        /// Work queued before this moves up one class in the order (aging); nil: no aging.
        public var agedBefore: Date?
        /// The series the worker sent last: it continues first within its class.
        public var continuingSeries: Int64?
        /// For workers beside a stat/urgent lane: stat and urgent work only once it has waited
        /// since before this (the lane's overflow); nil: any.
        public var priorityOverflowBefore: Date?
        public var now = Date()

        public init(destination: String, limit: Int, minimumRank: Int = 0, agedBefore: Date? = nil,
                    continuingSeries: Int64? = nil, priorityOverflowBefore: Date? = nil, now: Date = Date()) {
            self.priorityOverflowBefore = priorityOverflowBefore
            self.destination = destination
            self.limit = limit
            self.minimumRank = minimumRank
            self.agedBefore = agedBefore
            self.continuingSeries = continuingSeries
            self.now = now
        }
    }

    /// Takes up to `limit` due deliveries for a destination and marks them in flight: the highest
    /// class first (after aging), then the series the worker was sending, then series and instance
    /// order. A series another worker has in flight is left to it, so a series travels over one
    /// association in instance order. Re-selected per batch, so newly queued stat work overtakes a
    /// routine backlog at the next batch.
    public func leaseDeliveries(_ request: LeaseRequest) throws -> [DeliveryWork] {
        var work: [DeliveryWork] = []
        // Aging lifts waiting work one class in the order, never to stat.
        let aged = request.agedBefore ?? Date.distantPast
        // A reader answers "nothing due" without taking the writer from ingest (one statement: no
        // transaction around it, which on PostgreSQL would cost two more round trips).
        let overflow = request.priorityOverflowBefore ?? Date.distantFuture
        let anyDue = try readStatement { db in
            try db.fetchValue(Bool.self, """
                SELECT EXISTS (SELECT 1 FROM delivery d JOIN instance i ON i.id = d.instanceRef
                               WHERE d.destination = :destination AND d.state IN ('queued', 'failed') AND d.nextAttemptAt <= :now
                                 AND d.priority >= :minimumRank AND (d.priority < 2 OR d.createdAt <= :overflow)
                                 AND i.seriesRef NOT IN (\(Self.seriesInFlight)))
                """, ["destination": request.destination, "now": request.now, "minimumRank": request.minimumRank,
                                 "overflow": overflow]) ?? false
        }
        guard anyDue else { return [] }
        try writeRelaxed { db in
            let rows = try db.fetchAll("""
                SELECT d.id, d.priority, d.attempts, d.edits, d.createdAt, i.path, i.sopClassUID, i.transferSyntax, i.sopUID,
                       i.seriesRef, i.id AS instanceID,
                       CASE WHEN d.createdAt <= :aged AND d.priority < 2 THEN d.priority + 1 ELSE d.priority END AS effective
                FROM delivery d JOIN instance i ON i.id = d.instanceRef
                WHERE d.destination = :destination AND d.state IN ('queued', 'failed') AND d.nextAttemptAt <= :now
                  AND d.priority >= :minimumRank AND (d.priority < 2 OR d.createdAt <= :overflow)
                  AND i.seriesRef NOT IN (SELECT i2.seriesRef FROM delivery d2 JOIN instance i2 ON i2.id = d2.instanceRef
                                          WHERE d2.destination = :destination AND d2.state = 'inflight')
                ORDER BY effective DESC, CASE WHEN i.seriesRef = :series THEN 0 ELSE 1 END, i.seriesRef,
                         \(db.dialect.integer("i.instanceNumber")), d.id
                LIMIT :limit \(db.dialect == .postgres ? "FOR UPDATE OF d SKIP LOCKED" : "")
                """, ["destination": request.destination, "now": request.now, "minimumRank": request.minimumRank,
                                 "aged": aged, "series": request.continuingSeries ?? -1, "limit": request.limit,
                                 "overflow": overflow])
            // The batch goes out together only within one class: stop at the first lower class.
            let top: Int? = rows.first?["effective"]
            work = rows.filter { $0["effective"] == top }.map {
                DeliveryWork(id: $0["id"], priorityRank: $0["priority"], attempts: $0["attempts"], editsJSON: $0["edits"],
                             path: $0["path"], sopClassUID: $0["sopClassUID"], transferSyntax: $0["transferSyntax"], sopUID: $0["sopUID"],
                             instanceID: $0["instanceID"], seriesRef: $0["seriesRef"], queuedAt: $0["createdAt"], effectiveRank: $0["effective"])
            }
            // Other nodes skip these rows while this transaction holds them (PostgreSQL), then see them
            // in flight, leased by this node until `leaseUntil` (renewed while it sends).
            let (holder, until) = leaseTerms(now: request.now)
            if !work.isEmpty {
                // One statement for the batch (one round trip on PostgreSQL, however large the batch).
                let ids = work.map { _ in "?" }.joined(separator: ", ")
                let values: [(any IndexValueConvertible)?] = [request.now, holder, until] + work.map { $0.id }
                try db.execute("UPDATE delivery SET state = 'inflight', updatedAt = ?, leasedBy = ?, leaseUntil = ? WHERE id IN (\(ids))",
                               IndexArguments(values))
            }
        }
        return work
    }

    /// Work of a class above `rank` for `destination`: the highest class due (queued, or failed
    /// and due for retry; not in a series another worker is sending) and the highest being sent by
    /// another worker; -1 for none. A worker sending lower-class work stops for either: due work
    /// it takes next itself; stat/urgent work beside a lane gets the link to itself (a destination
    /// that accepts one association at a time needs that).
    public func higherClassWork(destination: String, above rank: Int, now: Date = Date()) -> (dueRank: Int, inFlightRank: Int) {
        let row = try? readStatement { db in
            try db.fetchOne("""
                SELECT (SELECT COALESCE(MAX(d.priority), -1) FROM delivery d JOIN instance i ON i.id = d.instanceRef
                        WHERE d.destination = :d AND d.priority > :r AND d.state IN ('queued', 'failed') AND d.nextAttemptAt <= :now
                          AND i.seriesRef NOT IN (\(Self.seriesInFlight))) AS due,
                       (SELECT COALESCE(MAX(priority), -1) FROM delivery
                        WHERE destination = :d AND priority > :r AND state = 'inflight') AS inFlight
                """, ["d": destination, "r": rank, "now": now, "destination": destination])
        }
        guard let row = row ?? nil else { return (-1, -1) }
        return (row["due"], row["inFlight"])
    }

    /// Series of `:destination` being sent by some worker (SQL, for NOT IN).
    static let seriesInFlight = """
        SELECT i2.seriesRef FROM delivery d2 JOIN instance i2 ON i2.id = d2.instanceRef
        WHERE d2.destination = :destination AND d2.state = 'inflight'
        """

    /// Records the outcome of one delivery. A failure is retried after `retryAt`, or is `dead`.
    /// A success may complete a step of the study's timeline (`delivered`, `report_returned`).
    /// A delivery whose instance was replaced while it was being sent (`requeueAfterFlight`) sent
    /// the old content: whatever its outcome, it goes back in the queue, due now with a fresh
    /// budget, so the new content goes out next.
    public func finishDelivery(id: Int64, succeeded: Bool, error: String = "", retryAt: Date? = nil, now: Date = Date()) {
        relaxed { db in
            // The usual case first, in one statement: sent, and not replaced meanwhile.
            if succeeded, try db.execute("""
                UPDATE delivery SET state = 'done', attempts = attempts + 1, lastError = '', updatedAt = ? WHERE id = ? AND requeueAfterFlight = 0
                """, [now, id]) > 0 {
                try CacheIndex.recordDeliveryMilestones(deliveryID: id, now: now, db)
                return
            }
            let rowsChanged = try db.execute("""
                UPDATE delivery SET state = 'queued', requeueAfterFlight = 0, attempts = 0, lastError = ?, nextAttemptAt = ?, updatedAt = ?
                WHERE id = ? AND requeueAfterFlight = 1
                """, [succeeded ? "" : error, now, now, id])
            if rowsChanged > 0 || succeeded { return }
            if let retryAt {
                try db.execute("""
                    UPDATE delivery SET state = 'failed', attempts = attempts + 1, lastError = ?, nextAttemptAt = ?, updatedAt = ? WHERE id = ?
                    """, [error, retryAt, now, id])
            } else {
                try db.execute("UPDATE delivery SET state = 'dead', attempts = attempts + 1, lastError = ?, updatedAt = ? WHERE id = ?",
                               [error, now, id])
            }
        }
    }

    /// Puts leased deliveries back (a batch that could not start), due at `retryAt`; no attempt is spent.
    /// Their next send reads the cached file as it is then, so a pending `requeueAfterFlight` is cleared.
    public func releaseDeliveries(ids: [Int64], error: String, retryAt: Date) {
        guard !ids.isEmpty else { return }
        relaxed { db in
            for id in ids {
                try db.execute("""
                    UPDATE delivery SET state = 'failed', lastError = ?, nextAttemptAt = ?, updatedAt = ?, requeueAfterFlight = 0 WHERE id = ?
                    """, [error, retryAt, Date(), id])
            }
        }
    }

    /// Puts leased deliveries back untouched and due now (a batch cut short for more urgent work;
    /// as in `releaseDeliveries`, a pending `requeueAfterFlight` is cleared).
    public func unleaseDeliveries(ids: [Int64]) {
        guard !ids.isEmpty else { return }
        relaxed { db in
            for id in ids {
                try db.execute("""
                    UPDATE delivery SET state = 'queued', updatedAt = ?, requeueAfterFlight = 0 WHERE id = ? AND state = 'inflight'
                    """, [Date(), id])
            }
        }
    }

    /// A relaxed write; if it fails, the durable group commit takes it instead, so the outcome is
    /// not dropped.
    private func relaxed(_ work: @escaping (any IndexDatabase) throws -> Void) {
        do {
            try writeRelaxed(work)
        } catch {
            enqueue { db in try work(db) }
        }
    }

    /// After a crash, deliveries that were in flight go back to the queue (at-least-once); their
    /// next send is of the current content, so a pending `requeueAfterFlight` is cleared.
    /// In a cluster, only this node's own leases: other nodes' go back when they expire (`reclaimExpiredLeases`).
    public func requeueInFlightDeliveries() throws {
        let node = node
        try write { db in
            if db.dialect == .postgres {
                try db.execute("UPDATE delivery SET state = 'queued', requeueAfterFlight = 0, leasedBy = '' WHERE state = 'inflight' AND leasedBy = ?",
                               [node])
            } else {
                try db.execute("UPDATE delivery SET state = 'queued', requeueAfterFlight = 0 WHERE state = 'inflight'")
            }
        }
    }
}
