import Foundation

/// The worklist's part of transactions other code owns: filing an instance (a new item, a copy
/// to the item's site, a report closing it) and a report reaching home. Every function here runs
/// inside the caller's transaction, so what it writes is durable exactly when the acknowledgement is.
enum Worklist {
    /// The columns of `worklist_item` the ingest path needs for one study.
    private struct Open {
        var id: Int64, state: String, site: String?, pushImages: Bool, siteEdits: String, priority: Int, origin: String?
        init(id: Int64, state: String, site: String?, pushImages: Bool, siteEdits: String, priority: Int, origin: String?) {
            self.id = id; self.state = state; self.site = site; self.pushImages = pushImages
            self.siteEdits = siteEdits; self.priority = priority; self.origin = origin
        }
        init(row: IndexRow) {
            id = row["id"]; state = row["state"]; site = row["site"]; pushImages = row["pushImages"]
            siteEdits = row["siteEdits"]; priority = row["priority"]; origin = row["origin"]
        }
    }

    /// After an instance row is written (a new instance, or one re-queued by a resend).
    static func ingested(studyUID: String, instanceRef: Int64, sender: String?, extras: IngestExtras, now: Date,
                         _ db: any IndexDatabase) throws {
        var item = try db.fetchOne("""
            SELECT id, state, site, pushImages, siteEdits, priority, origin FROM worklist_item WHERE studyUID = ?
            """, [studyUID]).map(Open.init(row:))
        if item == nil, let placement = extras.worklist, !extras.isReportObject {
            item = try create(placement, studyUID: studyUID, origin: sender, now: now, db)
        } else if let existing = item, let placement = extras.worklist, placement.priorityRank > existing.priority,
                  WorklistState(rawValue: existing.state)?.isOpen == true {
            // A later instance classed higher (a STAT order after a routine one) raises the item,
            // and its deadline comes forward if the new class's is sooner.
            try db.execute("""
                UPDATE worklist_item SET priority = ?,
                  deadline = CASE WHEN arrivedAt + ? < deadline THEN arrivedAt + ? ELSE deadline END, updatedAt = ?
                WHERE id = ?
                """, [placement.priorityRank, placement.deadlineAfter, placement.deadlineAfter, now.epoch, existing.id])
            try event(existing.id, "raised", actor: sender ?? "", detail: "class rank \(existing.priority) → \(placement.priorityRank) by rule \(placement.rule)", now, db)
            item?.priority = placement.priorityRank
        }
        guard let item else { return }
        if extras.isReportObject {
            try reported(item, studyUID: studyUID, by: sender, now: now, db)
            return
        }
        // A study allocated while it was still arriving: its later instances follow it to the site.
        if let site = item.site, item.pushImages, site != sender,
           item.state == WorklistState.allocated.rawValue || item.state == WorklistState.inProgress.rawValue {
            try db.execute("""
                INSERT INTO delivery(instanceRef, destination, route, priority, state, nextAttemptAt, edits, createdAt, updatedAt)
                VALUES (?, ?, 'worklist', ?, 'queued', ?, ?, ?, ?) ON CONFLICT(instanceRef, destination) DO NOTHING
                """, [instanceRef, site, item.priority, now, item.siteEdits, now, now])
        }
    }

    private static func create(_ p: WorklistPlacement, studyUID: String, origin: String?, now: Date, _ db: any IndexDatabase) throws -> Open? {
        // The deadline counts from the study's arrival (its first instance), not this one's.
        guard let study = try db.fetchOne("SELECT receivedAt, originNode FROM study WHERE studyUID = ?",
                                           [studyUID]) else { return nil }
        let arrived: Date = study["receivedAt"]
        let studyOrigin: String? = study["originNode"] ?? origin
        guard let id = try db.fetchValue(Int64.self, """
            INSERT INTO worklist_item(studyUID, origin, patientID, issuer, priority, skill, effort, rule, arrivedAt, deadline,
                                      state, networkEdits, originEdits, updatedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?)
            ON CONFLICT(studyUID) DO NOTHING RETURNING id
            """, [studyUID, studyOrigin, p.patientID, p.issuer, p.priorityRank, p.skill, p.effort, p.rule, arrived.epoch,
                             arrived.epoch + p.deadlineAfter, p.networkEdits, p.originEdits, now.epoch])
            else { return nil }  // another transaction made it meanwhile
        try event(id, "created", actor: origin ?? "", detail: "rule \(p.rule): skill \(p.skill), effort \(p.effort)", now, db)
        return Open(id: id, state: "scheduled", site: nil, pushImages: false, siteEdits: "{}", priority: p.priorityRank,
                    origin: studyOrigin)
    }

    /// A report for the study arrived from `sender`: an open item is `reported` (or `returned`
    /// at once when the origin itself reported it: the report is home); a closed one records an addendum.
    private static func reported(_ item: Open, studyUID: String, by sender: String?, now: Date, _ db: any IndexDatabase) throws {
        let who = sender ?? "an unknown sender"
        guard WorklistState(rawValue: item.state)?.isOpen == true else {
            if item.state != WorklistState.cancelled.rawValue {
                try event(item.id, "addendum", actor: who, site: sender ?? "", detail: "a further report", now, db)
            }
            return
        }
        let home = sender != nil && sender == item.origin
        try db.execute("""
            UPDATE worklist_item SET state = ?, reportedAt = ?, reportedBy = ?, returnedAt = ?, orphan = NULL, flag = '',
              updatedAt = ? WHERE id = ?
            """, [home ? WorklistState.returned.rawValue : WorklistState.reported.rawValue, now.epoch, sender ?? "",
                             home ? now.epoch : nil, now.epoch, item.id])
        try event(item.id, "reported", actor: who, site: sender ?? "",
                  detail: home ? "reported at the origin itself; nothing to return" : "", now, db)
    }

    /// A report's copy reached the study's origin (inside the delivery's completing transaction).
    static func reportReturned(studyUID: String, origin: String, now: Date, _ db: any IndexDatabase) throws {
        guard let id = try db.fetchValue(Int64.self, "SELECT id FROM worklist_item WHERE studyUID = ? AND state = 'reported'",
                                          [studyUID]) else { return }
        try db.execute("UPDATE worklist_item SET state = 'returned', returnedAt = ?, orphan = NULL, updatedAt = ? WHERE id = ?",
                       [now.epoch, now.epoch, id])
        try event(id, "returned", actor: origin, site: origin, detail: "report delivered to the origin", now, db)
    }

    /// Appends one history row.
    static func event(_ item: Int64, _ event: String, actor: String = "", site: String = "", detail: String = "",
                      _ now: Date, _ db: any IndexDatabase) throws {
        try db.execute("INSERT INTO worklist_event(itemRef, time, event, actor, site, detail) VALUES (?, ?, ?, ?, ?, ?)",
                       [item, now.epoch, event, actor, site, detail])
    }
}
