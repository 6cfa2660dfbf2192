import Foundation
import GRDB

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
}

extension CacheIndex {
    /// Takes up to `limit` due deliveries for a destination, highest priority first, then series
    /// and instance order, and marks them in flight. Re-selected per batch, so newly queued stat
    /// work overtakes a routine backlog at the next batch.
    public func leaseDeliveries(destination: String, limit: Int, now: Date = Date()) throws -> [DeliveryWork] {
        var work: [DeliveryWork] = []
        try write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT d.id, d.priority, d.attempts, d.edits, i.path, i.sopClassUID, i.transferSyntax, i.sopUID
                FROM delivery d JOIN instance i ON i.id = d.instanceRef
                WHERE d.destination = ? AND d.state IN ('queued', 'failed') AND d.nextAttemptAt <= ?
                ORDER BY d.priority DESC, i.seriesRef, CAST(i.instanceNumber AS INTEGER), d.id
                LIMIT ?
                """, arguments: [destination, now, limit])
            work = rows.map {
                DeliveryWork(id: $0["id"], priorityRank: $0["priority"], attempts: $0["attempts"], editsJSON: $0["edits"],
                             path: $0["path"], sopClassUID: $0["sopClassUID"], transferSyntax: $0["transferSyntax"], sopUID: $0["sopUID"])
            }
            // The batch goes out together only within one class: stop at the first lower class.
            if let top = work.first?.priorityRank { work = work.filter { $0.priorityRank == top } }
            for w in work {
                try db.execute(sql: "UPDATE delivery SET state = 'inflight', updatedAt = ? WHERE id = ?", arguments: [now, w.id])
            }
        }
        return work
    }

    /// Records the outcome of one delivery. A failure is retried after `retryAt`, or is `dead`.
    public func finishDelivery(id: Int64, succeeded: Bool, error: String = "", retryAt: Date? = nil, now: Date = Date()) {
        committer.enqueue { db in
            if succeeded {
                try db.execute(sql: "UPDATE delivery SET state = 'done', attempts = attempts + 1, lastError = '', updatedAt = ? WHERE id = ?",
                               arguments: [now, id])
            } else if let retryAt {
                try db.execute(sql: """
                    UPDATE delivery SET state = 'failed', attempts = attempts + 1, lastError = ?, nextAttemptAt = ?, updatedAt = ? WHERE id = ?
                    """, arguments: [error, retryAt, now, id])
            } else {
                try db.execute(sql: "UPDATE delivery SET state = 'dead', attempts = attempts + 1, lastError = ?, updatedAt = ? WHERE id = ?",
                               arguments: [error, now, id])
            }
        }
    }

    /// Puts leased deliveries back (a batch that could not start), due at `retryAt`.
    public func releaseDeliveries(ids: [Int64], error: String, retryAt: Date) {
        guard !ids.isEmpty else { return }
        committer.enqueue { db in
            for id in ids {
                try db.execute(sql: "UPDATE delivery SET state = 'failed', lastError = ?, nextAttemptAt = ?, updatedAt = ? WHERE id = ?",
                               arguments: [error, retryAt, Date(), id])
            }
        }
    }

    /// After a crash, deliveries that were in flight go back to the queue (at-least-once).
    public func requeueInFlightDeliveries() throws {
        try write { db in try db.execute(sql: "UPDATE delivery SET state = 'queued' WHERE state = 'inflight'") }
    }
}
