import Foundation

/// An allocation to write: the site, how its images go, and why it won.
public struct WorklistAssignment: Sendable {
    public var site: String
    /// Send the study's images to the site now (false: the site retrieves them on demand).
    public var pushImages: Bool
    /// Identity edits (JSON) for the copies sent to the site.
    public var edits: String
    /// The decision, as JSON, for `worklist explain` and the API.
    public var explanation: String
    /// `allocated`, `reallocated`, `reassigned` or `claimed`.
    public var event: String
    public var actor: String
    public var detail: String
    /// For a claim: the reporter who took it (the item is then `in_progress`).
    public var reporter: String?
    /// Tell the webhook (reallocations).
    public var notify: Bool

    public init(site: String, pushImages: Bool, edits: String, explanation: String = "", event: String, actor: String,
                detail: String = "", reporter: String? = nil, notify: Bool = false) {
        self.site = site
        self.pushImages = pushImages
        self.edits = edits
        self.explanation = explanation
        self.event = event
        self.actor = actor
        self.detail = detail
        self.reporter = reporter
        self.notify = notify
    }
}

/// Changing worklist items. Each change is one durable transaction with its history row, its
/// audit entry and, where the webhook must hear of it, its notification.
extension CacheIndex {
    /// Gives item `id` to `assignment.site` if its state is one of `from`: the previous site's
    /// unsent worklist copies are cancelled, the study's images are queued to the new site at the
    /// item's class (unless it pulls on demand). Throws `WorklistConflict` when the state does not allow it.
    @discardableResult
    public func assignWorklistItem(_ id: Int64, _ assignment: WorklistAssignment, from states: Set<WorklistState>,
                                   now: Date = Date()) throws -> WorklistItem {
        var result: WorklistItem?
        // Straight on the writer, not through the group committer: an allocation is one small
        // transaction whose caller waits for it, and the committer's two thread hand-offs and
        // savepoint cost more than its fsync (scripts/bench/worklist). Still synchronous=FULL.
        try writeAlone { db in result = try Self.assign(id, assignment, from: states, now: now, db) }
        return result!
    }

    /// Several allocations in one durable transaction (a review pass after a burst of studies):
    /// one fsync for all. Each is all or nothing on its own (a savepoint): one whose item changed
    /// meanwhile fails with its `WorklistConflict` and the others stand.
    public func assignWorklistItems(_ batch: [(id: Int64, assignment: WorklistAssignment)], from states: Set<WorklistState>,
                                    now: Date = Date()) throws -> [Result<WorklistItem, Error>] {
        var results: [Result<WorklistItem, Error>] = []
        try writeAlone { db in
            results = batch.map { entry in
                Result {
                    var item: WorklistItem?
                    try db.inSavepoint {
                        item = try Self.assign(entry.id, entry.assignment, from: states, now: now, db)
                    }
                    return item!
                }
            }
        }
        return results
    }

    static func assign(_ id: Int64, _ assignment: WorklistAssignment, from states: Set<WorklistState>, now: Date,
                       _ db: any IndexDatabase) throws -> WorklistItem {
        do {
            guard let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [id]) else {
                throw WorklistConflict(itemID: id, state: .cancelled, site: nil, message: "worklist item \(id) does not exist")
            }
            guard states.contains(item.state) else {
                throw WorklistConflict(itemID: id, state: item.state, site: item.site,
                    message: "worklist item \(id) is \(item.state.rawValue)" + (item.site.map { " at \($0)" } ?? "")
                        + "; \(assignment.event == "claimed" ? "it cannot be claimed" : "it cannot be given to \(assignment.site)")")
            }
            var passedOver = item.passedOverSites
            if let previous = item.site, previous != assignment.site {
                try Self.cancelWorklistCopies(studyUID: item.studyUID, site: previous, now: now, db)
                if !passedOver.contains(previous) { passedOver.append(previous) }
            }
            let claimed = assignment.reporter != nil
            try db.execute("""
                UPDATE worklist_item SET state = ?, site = ?, reporter = ?, pushImages = ?, siteEdits = ?, explanation = ?,
                  allocatedAt = ?, startedAt = ?, passedOver = ?, flag = '', updatedAt = ? WHERE id = ?
                """, [claimed ? WorklistState.inProgress.rawValue : WorklistState.allocated.rawValue, assignment.site,
                                 assignment.reporter ?? "", assignment.pushImages, assignment.edits,
                                 assignment.explanation.isEmpty ? item.explanation : assignment.explanation, now.epoch,
                                 claimed ? now.epoch : nil, passedOver.joined(separator: ","), now.epoch, id])
            if assignment.pushImages {
                try Self.queueWorklistCopies(studyUID: item.studyUID, site: assignment.site, priority: item.priority,
                                             edits: assignment.edits, now: now, db)
            }
            try Worklist.event(id, assignment.event, actor: assignment.actor, site: assignment.site, detail: assignment.detail, now, db)
            var audit = AuditRecord(event: "worklist", actor: assignment.actor, studyUID: item.studyUID, outcome: assignment.event,
                                    detail: "item \(id) → \(assignment.site)" + (item.site.map { " (was \($0))" } ?? "")
                                        + (assignment.detail.isEmpty ? "" : "; \(assignment.detail)"), time: now)
            try audit.insert(db)
            var updated = item
            updated.state = claimed ? .inProgress : .allocated
            updated.site = assignment.site
            updated.reporter = assignment.reporter ?? ""
            updated.pushImages = assignment.pushImages
            updated.siteEdits = assignment.edits
            if !assignment.explanation.isEmpty { updated.explanation = assignment.explanation }
            updated.allocatedAt = Date(timeIntervalSince1970: now.epoch)
            updated.startedAt = claimed ? Date(timeIntervalSince1970: now.epoch) : nil
            updated.passedOver = passedOver.joined(separator: ",")
            updated.flag = ""
            updated.updatedAt = Date(timeIntervalSince1970: now.epoch)
            if assignment.notify {
                try Self.enqueueNotification(assignment.event, item: updated, detail: assignment.detail, now: now, db)
            }
            return updated
        }
    }

    /// The study was retrieved (C-MOVE, C-GET, WADO) by `site`: its item allocated there is now in progress.
    @discardableResult
    public func startWorklistItem(studyUID: String, site: String, how: String, now: Date = Date()) throws -> Bool {
        var started = false
        try write { db in
            guard let id = try db.fetchValue(Int64.self, "SELECT id FROM worklist_item WHERE studyUID = ? AND state = 'allocated' AND site = ?",
                                              [studyUID, site]) else { return }
            try db.execute("UPDATE worklist_item SET state = 'in_progress', startedAt = ?, updatedAt = ? WHERE id = ?",
                           [now.epoch, now.epoch, id])
            try Worklist.event(id, "started", actor: site, site: site, detail: how, now, db)
            started = true
        }
        return started
    }

    /// Back to `scheduled` (the site gave it up, or the operator asked): the site's unsent copies
    /// are cancelled and the allocator tries other sites first.
    public func releaseWorklistItem(_ id: Int64, actor: String, reason: String, now: Date = Date()) throws {
        try write { db in
            let item = try Self.openItem(id, verb: "released", db)
            guard let site = item.site else {
                throw WorklistConflict(itemID: id, state: item.state, site: nil, message: "worklist item \(id) is not allocated to any site")
            }
            try Self.cancelWorklistCopies(studyUID: item.studyUID, site: site, now: now, db)
            var passedOver = item.passedOverSites
            if !passedOver.contains(site) { passedOver.append(site) }
            try db.execute("""
                UPDATE worklist_item SET state = 'scheduled', site = NULL, reporter = '', allocatedAt = NULL, startedAt = NULL,
                  transactionUID = NULL, passedOver = ?, updatedAt = ? WHERE id = ?
                """, [passedOver.joined(separator: ","), now.epoch, id])
            try Worklist.event(id, "released", actor: actor, site: site, detail: reason, now, db)
            var audit = AuditRecord(event: "worklist", actor: actor, studyUID: item.studyUID, outcome: "released",
                                    detail: "item \(id) released by \(site): \(reason)", time: now)
            try audit.insert(db)
        }
    }

    /// Cancelled (nobody needs to report it): unsent worklist copies are cancelled too.
    public func cancelWorklistItem(_ id: Int64, actor: String, reason: String, now: Date = Date()) throws {
        try write { db in
            let item = try Self.openItem(id, verb: "cancelled", db)
            if let site = item.site { try Self.cancelWorklistCopies(studyUID: item.studyUID, site: site, now: now, db) }
            try db.execute("UPDATE worklist_item SET state = 'cancelled', cancelledAt = ?, flag = '', updatedAt = ? WHERE id = ?",
                           [now.epoch, now.epoch, id])
            try Worklist.event(id, "cancelled", actor: actor, site: item.site ?? "", detail: reason, now, db)
            var audit = AuditRecord(event: "worklist", actor: actor, studyUID: item.studyUID, outcome: "cancelled",
                                    detail: "item \(id): \(reason)", time: now)
            try audit.insert(db)
        }
    }

    /// Records that no site can take the item now (written only when the reason changes).
    public func flagWorklistItem(_ id: Int64, flag: String, explanation: String, now: Date = Date()) throws {
        try write { db in
            let rowsChanged = try db.execute("UPDATE worklist_item SET flag = ?, explanation = ?, updatedAt = ? WHERE id = ? AND flag <> ?",
                           [flag, explanation, now.epoch, id, flag])
            if rowsChanged > 0 { try Worklist.event(id, "flagged", actor: "gateway", detail: flag, now, db) }
        }
    }

    /// `escalate_at` reached: the study's waiting deliveries move up one class (stat stays stat).
    /// Returns how many deliveries moved.
    @discardableResult
    public func escalateWorklistItem(_ id: Int64, now: Date = Date()) throws -> Int {
        var moved = 0
        try write { db in
            guard let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ? AND escalatedAt IS NULL",
                                                       [id]) else { return }
            let rowsChanged2 = try db.execute("""
                UPDATE delivery SET priority = CASE WHEN priority < 3 THEN priority + 1 ELSE 3 END, updatedAt = ?
                WHERE state IN ('queued', 'failed') AND priority < 3 AND instanceRef IN (
                  SELECT i.id FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                  WHERE s.studyUID = ?)
                """, [now, item.studyUID])
            moved = rowsChanged2
            try db.execute("UPDATE worklist_item SET escalatedAt = ?, updatedAt = ? WHERE id = ?", [now.epoch, now.epoch, id])
            try Worklist.event(id, "escalated", actor: "gateway", site: item.site ?? "",
                               detail: "\(moved) waiting deliveries moved up one class", now, db)
            var audit = AuditRecord(event: "worklist", actor: "gateway", studyUID: item.studyUID, outcome: "escalated",
                                    detail: "item \(id): \(moved) waiting deliveries moved up one class", time: now)
            try audit.insert(db)
        }
        return moved
    }

    /// Past its deadline: recorded once, audited and announced.
    public func markWorklistOverdue(_ id: Int64, now: Date = Date()) throws {
        try write { db in
            guard let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ? AND overdueAt IS NULL",
                                                       [id]) else { return }
            try db.execute("UPDATE worklist_item SET overdueAt = ?, updatedAt = ? WHERE id = ?", [now.epoch, now.epoch, id])
            try Worklist.event(id, "overdue", actor: "gateway", site: item.site ?? "", detail: "state \(item.state.rawValue)", now, db)
            var audit = AuditRecord(event: "worklist", actor: "gateway", studyUID: item.studyUID, outcome: "overdue",
                                    detail: "item \(id) (\(item.state.rawValue)\(item.site.map { " at \($0)" } ?? "")) passed its deadline", time: now)
            try audit.insert(db)
            try Self.enqueueNotification("overdue", item: item, detail: "", now: now, db)
        }
    }

    /// A reported item whose report has not reached home: flagged as an orphan and announced.
    public func markReportNotReturned(_ id: Int64, now: Date = Date()) throws {
        try write { db in
            guard let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ? AND state = 'reported' AND orphan IS NULL",
                                                       [id]) else { return }
            try db.execute("UPDATE worklist_item SET orphan = ?, updatedAt = ? WHERE id = ?",
                           [WorklistOrphan.reportNotReturned.rawValue, now.epoch, id])
            try Worklist.event(id, "orphan", actor: "gateway", site: item.site ?? "", detail: "report not returned to the origin", now, db)
            var audit = AuditRecord(event: "worklist", actor: "gateway", studyUID: item.studyUID, outcome: "orphan",
                                    detail: "item \(id): the report has not reached \(item.origin ?? "the origin")", time: now)
            try audit.insert(db)
            var flagged = item
            flagged.orphan = .reportNotReturned
            try Self.enqueueNotification("orphan", item: flagged, detail: "report_not_returned", now: now, db)
        }
    }

    /// A study that matched no rule and has no report after `orphan_after`: an item without a
    /// skill, flagged as an orphan (an operator reassigns or cancels it; a report closes it).
    @discardableResult
    /// Its deadline is when it became an orphan (`orphanedAt`).
    public func recordOrphanStudy(studyUID: String, origin: String?, arrivedAt: Date, orphanedAt: Date, now: Date = Date()) throws -> Int64? {
        var created: Int64?
        try write { db in
            guard let id = try db.fetchValue(Int64.self, """
                INSERT INTO worklist_item(studyUID, origin, priority, skill, effort, rule, arrivedAt, deadline, state, orphan, flag, updatedAt)
                VALUES (?, ?, 1, '', 1, NULL, ?, ?, 'scheduled', ?, 'matched no reporting rule', ?)
                ON CONFLICT(studyUID) DO NOTHING RETURNING id
                """, [studyUID, origin, arrivedAt.epoch, orphanedAt.epoch, WorklistOrphan.noRule.rawValue, now.epoch])
            else { return }
            created = id
            try Worklist.event(id, "orphan", actor: "gateway", detail: "matched no reporting rule and has no report", now, db)
            var audit = AuditRecord(event: "worklist", actor: "gateway", studyUID: studyUID, outcome: "orphan",
                                    detail: "item \(id): study matched no reporting rule and has no report", time: now)
            try audit.insert(db)
            if let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [id]) {
                try Self.enqueueNotification("orphan", item: item, detail: "no_rule", now: now, db)
            }
        }
        return created
    }

    private static func openItem(_ id: Int64, verb: String, _ db: any IndexDatabase) throws -> WorklistItem {
        guard let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [id]) else {
            throw WorklistConflict(itemID: id, state: .cancelled, site: nil, message: "worklist item \(id) does not exist")
        }
        guard item.state.isOpen else {
            throw WorklistConflict(itemID: id, state: item.state, site: item.site,
                                   message: "worklist item \(id) is \(item.state.rawValue); it cannot be \(verb)")
        }
        return item
    }

    /// Queues every cached instance of the study to `site` (a copy it sent itself excepted); a copy
    /// cancelled by an earlier reallocation goes out again.
    static func queueWorklistCopies(studyUID: String, site: String, priority: Int, edits: String, now: Date, _ db: any IndexDatabase) throws {
        try db.execute("""
            INSERT INTO delivery(instanceRef, destination, route, priority, state, nextAttemptAt, edits, createdAt, updatedAt)
            SELECT i.id, ?, 'worklist', ?, 'queued', ?, ?, ?, ? FROM instance i JOIN series se ON se.id = i.seriesRef
            JOIN study s ON s.id = se.studyRef
            WHERE s.studyUID = ? AND i.quarantine IS NULL AND (i.originNode IS NULL OR i.originNode <> ?)
            ORDER BY se.id, i.id
            ON CONFLICT(instanceRef, destination) DO UPDATE SET state = 'queued', attempts = 0, route = 'worklist',
              nextAttemptAt = excluded.nextAttemptAt, priority = excluded.priority, updatedAt = excluded.updatedAt
            WHERE delivery.state = 'cancelled'
            """, [site, priority, now, edits, now, now, studyUID, site])
    }

    /// Cancels the study's worklist copies to `site` that have not gone yet (one in flight finishes).
    static func cancelWorklistCopies(studyUID: String, site: String, now: Date, _ db: any IndexDatabase) throws {
        try db.execute("""
            UPDATE delivery SET state = 'cancelled', updatedAt = ?
            WHERE destination = ? AND route = 'worklist' AND state IN ('queued', 'failed', 'dead') AND instanceRef IN (
              SELECT i.id FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef WHERE s.studyUID = ?)
            """, [now, site, studyUID])
    }
}
