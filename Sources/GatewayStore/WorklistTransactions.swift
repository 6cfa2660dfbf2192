import Foundation

/// UPS-RS (PS3.4 CC.1.1) over the worklist: the Transaction UID of the performer that claimed an
/// item, and the changes only that performer may make (complete, cancel). Each change is one
/// durable transaction with its history row and audit entry, as the other worklist changes.
extension CacheIndex {
    /// Records `transactionUID` on item `id`, in progress and holding none yet. False when the
    /// item is not in progress or another transaction holds it (a concurrent claim won).
    public func setWorklistTransaction(_ id: Int64, transactionUID: String, actor: String, now: Date = Date()) throws -> Bool {
        var set = false
        try write { db in
            let rowsChanged = try db.execute("""
                UPDATE worklist_item SET transactionUID = ?, updatedAt = ? WHERE id = ? AND state = 'in_progress' AND transactionUID IS NULL
                """, [transactionUID, now.epoch, id])
            set = rowsChanged == 1
            if set { try Worklist.event(id, "ups-claimed", actor: actor, detail: "UPS-RS: IN PROGRESS with a Transaction UID", now, db) }
        }
        return set
    }

    /// The performer holding `transactionUID` completed item `id`: it is `reported` (by `actor`),
    /// as when a report arrives; the report itself still goes home when it comes. Throws
    /// `WorklistConflict` when the item is not in progress under that Transaction UID.
    public func completeWorklistItem(_ id: Int64, transactionUID: String, actor: String, now: Date = Date()) throws {
        try write { db in
            let item = try Self.heldItem(id, transactionUID: transactionUID, verb: "completed", db)
            try db.execute("""
                UPDATE worklist_item SET state = 'reported', reportedAt = ?, reportedBy = ?, transactionUID = NULL, orphan = NULL,
                  flag = '', updatedAt = ? WHERE id = ?
                """, [now.epoch, actor, now.epoch, id])
            try Worklist.event(id, "reported", actor: actor, site: item.site ?? "", detail: "UPS-RS: COMPLETED", now, db)
            var audit = AuditRecord(event: "worklist", actor: actor, studyUID: item.studyUID, outcome: "completed",
                                    detail: "item \(id) completed by UPS-RS (\(actor))", time: now)
            try audit.insert(db)
        }
    }

    /// The performer holding `transactionUID` cancelled item `id` (nobody needs to report it):
    /// as ``cancelWorklistItem(_:actor:reason:now:)``, under the Transaction UID's check.
    public func cancelHeldWorklistItem(_ id: Int64, transactionUID: String, actor: String, reason: String, now: Date = Date()) throws {
        try write { db in
            let item = try Self.heldItem(id, transactionUID: transactionUID, verb: "cancelled", db)
            if let site = item.site { try Self.cancelWorklistCopies(studyUID: item.studyUID, site: site, now: now, db) }
            try db.execute("""
                UPDATE worklist_item SET state = 'cancelled', cancelledAt = ?, transactionUID = NULL, flag = '', updatedAt = ? WHERE id = ?
                """, [now.epoch, now.epoch, id])
            try Worklist.event(id, "cancelled", actor: actor, site: item.site ?? "", detail: reason, now, db)
            var audit = AuditRecord(event: "worklist", actor: actor, studyUID: item.studyUID, outcome: "cancelled",
                                    detail: "item \(id) cancelled by UPS-RS (\(actor)): \(reason)", time: now)
            try audit.insert(db)
        }
    }

    private static func heldItem(_ id: Int64, transactionUID: String, verb: String, _ db: any IndexDatabase) throws -> WorklistItem {
        guard let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [id]) else {
            throw WorklistConflict(itemID: id, state: .cancelled, site: nil, message: "worklist item \(id) does not exist")
        }
        guard item.state == .inProgress else {
            throw WorklistConflict(itemID: id, state: item.state, site: item.site,
                                   message: "worklist item \(id) is \(item.state.rawValue); only an item in progress can be \(verb)")
        }
        guard item.transactionUID == transactionUID else {
            throw WorklistConflict(itemID: id, state: item.state, site: item.site,
                                   message: "the Transaction UID is not the one that claimed worklist item \(id)")
        }
        return item
    }
}
