import Foundation

/// A webhook notification waiting to be sent (the outbox `worklist_notification`).
public struct WorklistNotification: Sendable, Equatable {
    public var id: Int64
    public var event: String
    public var payload: String
    public var attempts: Int
}

extension CacheIndex {
    /// The class name of a priority rank, as the API and webhook spell it.
    public static func className(ofRank rank: Int) -> String {
        switch rank { case 3: "stat"; case 2: "urgent"; case 0: "bulk"; default: "routine" }
    }

    /// Writes a notification in the caller's transaction: event, item, study, origin, site,
    /// deadline and class. Never a patient's name or ID.
    static func enqueueNotification(_ event: String, item: WorklistItem, detail: String, now: Date, _ db: any IndexDatabase) throws {
        let iso = ISO8601DateFormatter()
        var body: [String: Any] = [
            "event": event, "item_id": item.id, "study_instance_uid": item.studyUID, "origin": item.origin ?? NSNull(),
            "site": item.site ?? NSNull(), "deadline": iso.string(from: item.deadline), "class": className(ofRank: item.priority),
            "state": item.state.rawValue, "skill": item.skill, "time": iso.string(from: now),
        ]
        if !detail.isEmpty { body["detail"] = detail }
        if let orphan = item.orphan { body["orphan"] = orphan.rawValue }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        try db.execute("""
            INSERT INTO worklist_notification(event, itemRef, payload, createdAt, nextAttemptAt) VALUES (?, ?, ?, ?, ?)
            """, [event, item.id, String(decoding: data, as: UTF8.self), now.epoch, now.epoch])
    }

    /// Notifications due now, oldest first.
    public func dueWorklistNotifications(now: Date = Date(), limit: Int = 50) throws -> [WorklistNotification] {
        try read { db in
            try db.fetchAll("""
                SELECT id, event, payload, attempts FROM worklist_notification WHERE deliveredAt IS NULL AND nextAttemptAt <= ?
                ORDER BY id LIMIT ?
                """, [now.epoch, limit]).map {
                WorklistNotification(id: $0["id"], event: $0["event"], payload: $0["payload"], attempts: $0["attempts"])
            }
        }
    }

    /// The webhook accepted it (or there is none to send to: `note` says so).
    public func worklistNotificationSent(_ id: Int64, note: String = "", now: Date = Date()) throws {
        try writeRelaxed { db in
            try db.execute("UPDATE worklist_notification SET deliveredAt = ?, lastError = ? WHERE id = ?",
                           [now.epoch, note, id])
        }
    }

    /// Not accepted: try again at `retryAt`.
    public func worklistNotificationFailed(_ id: Int64, error: String, retryAt: Date) throws {
        try writeRelaxed { db in
            try db.execute("UPDATE worklist_notification SET attempts = attempts + 1, lastError = ?, nextAttemptAt = ? WHERE id = ?",
                           [error, retryAt.epoch, id])
        }
    }

    /// Notifications not yet accepted (for `/metrics` and the dashboard).
    public func pendingWorklistNotifications() throws -> Int {
        try read { db in try db.fetchValue(Int.self, "SELECT COUNT(*) FROM worklist_notification WHERE deliveredAt IS NULL") ?? 0 }
    }
}
