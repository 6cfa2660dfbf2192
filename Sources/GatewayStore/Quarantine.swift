import Foundation

/// Instances and deliveries taken out of automatic processing because processing them may crash
/// the gateway again: an instance that breaks the input limits (`limits:`), or an operation that
/// was running when the process died of a fatal signal. Quarantined work is never leased,
/// retried, sent or retrieved by itself; an operator lists it (`queue list --state quarantined`,
/// the API, the dashboard) and may replay a delivery explicitly once the cause is understood.
extension CacheIndex {
    /// Quarantines one delivery with a reason (e.g. "the gateway crashed (signal 11) while sending it").
    public func quarantineDelivery(id: Int64, reason: String, now: Date = Date()) throws {
        try write { db in
            try db.execute("""
                UPDATE delivery SET state = 'quarantined', lastError = ?, updatedAt = ?, requeueAfterFlight = 0
                WHERE id = ? AND state <> 'done'
                """, [reason, now, id])
        }
    }

    /// Quarantines an instance and every delivery of it not yet done. Returns the deliveries quarantined.
    @discardableResult
    public func quarantineInstance(id: Int64, reason: String, now: Date = Date()) throws -> Int {
        var changed = 0
        try write { db in
            try db.execute("UPDATE instance SET quarantine = ?, limitsChecked = 1 WHERE id = ?", [reason, id])
            let rowsChanged = try db.execute("""
                UPDATE delivery SET state = 'quarantined', lastError = ?, updatedAt = ?, requeueAfterFlight = 0
                WHERE instanceRef = ? AND state NOT IN ('done', 'cancelled')
                """, [reason, now, id])
            changed = rowsChanged
        }
        return changed
    }

    /// The quarantine reason of an instance, nil when it is not quarantined (or unknown).
    public func quarantineReason(instanceID: Int64) -> String? {
        try? read { db in try db.fetchValue(String.self, "SELECT quarantine FROM instance WHERE id = ?", [instanceID]) }
    }

    /// Whether the instance's file is known to be within the input limits (false for a file cached
    /// before they existed and not checked yet), and its quarantine reason if any.
    public func limitsState(instanceID: Int64) -> (checked: Bool, quarantine: String?) {
        let row = try? read { db in
            try db.fetchOne("SELECT limitsChecked, quarantine FROM instance WHERE id = ?", [instanceID])
        }
        guard let row else { return (true, nil) }
        return (row["limitsChecked"] as Bool? ?? true, row["quarantine"])
    }

    /// Instance ids and SOP Instance UIDs quarantined, newest first (at most `limit`).
    public func quarantinedInstances(limit: Int = 1000) throws -> [(id: Int64, sopUID: String, reason: String)] {
        try read { db in
            try db.fetchAll("""
                SELECT id, sopUID, quarantine FROM instance WHERE quarantine IS NOT NULL ORDER BY id DESC LIMIT ?
                """, [limit]).map { ($0["id"], $0["sopUID"], $0["quarantine"]) }
        }
    }

    /// Instances cached before the input limits existed, whose files have not been checked yet;
    /// with `outstandingOnly`, only those with deliveries still to send (checked before any worker starts).
    public func instancesAwaitingLimitsCheck(after lastID: Int64, limit: Int, outstandingOnly: Bool = false) throws
        -> [(id: Int64, path: String)]
    {
        try read { db in
            let outstanding = outstandingOnly
                ? "AND EXISTS (SELECT 1 FROM delivery d WHERE d.instanceRef = instance.id AND d.state IN ('queued', 'inflight', 'failed', 'dead'))"
                : ""
            return try db.fetchAll("""
                SELECT id, path FROM instance WHERE limitsChecked = 0 AND quarantine IS NULL AND id > ? \(outstanding) ORDER BY id LIMIT ?
                """, [lastID, limit]).map { ($0["id"], $0["path"]) }
        }
    }

    /// Records that these instances' files are within the limits.
    public func markLimitsChecked(ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try write { db in
            for id in ids { try db.execute("UPDATE instance SET limitsChecked = 1 WHERE id = ?", [id]) }
        }
    }
}
