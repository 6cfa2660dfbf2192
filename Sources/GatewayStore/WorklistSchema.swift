import GRDB

/// The reporting worklist's tables (migration v9). Portable SQL types only: the index also runs
/// on PostgreSQL. Times are seconds since 1970 (REAL), as elsewhere in the index.
enum WorklistSchema {
    static func create(_ db: Database) throws {
        // One item per study that needs a report. Written in the transaction that acknowledges
        // the instance that made the study match a rule; later instances never add a second.
        try db.create(table: "worklist_item") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("studyUID", .text).notNull().unique()
            t.column("origin", .text)                                  // the trust (node) the study came from
            t.column("patientID", .text).notNull().defaults(to: "")    // as the network sees it
            t.column("issuer", .text).notNull().defaults(to: "")
            t.column("priority", .integer).notNull()                   // 3 stat, 2 urgent, 1 routine, 0 bulk
            t.column("skill", .text).notNull().defaults(to: "")
            t.column("effort", .double).notNull().defaults(to: 1)
            t.column("rule", .text)                                    // nil: an orphan found by the watch
            t.column("arrivedAt", .double).notNull()
            t.column("deadline", .double).notNull()
            t.column("state", .text).notNull().defaults(to: "scheduled")
            t.column("site", .text)
            t.column("reporter", .text).notNull().defaults(to: "")     // who claimed it at the site
            t.column("pushImages", .integer).notNull().defaults(to: 0) // 1: the site's images are sent on allocation
            t.column("siteEdits", .text).notNull().defaults(to: "{}")  // identity edits for copies to the site
            t.column("networkEdits", .text).notNull().defaults(to: "{}")
            t.column("originEdits", .text).notNull().defaults(to: "{}")
            t.column("passedOver", .text).notNull().defaults(to: "")   // sites it was taken from (comma list)
            t.column("allocatedAt", .double)
            t.column("startedAt", .double)
            t.column("reportedAt", .double)
            t.column("reportedBy", .text).notNull().defaults(to: "")
            t.column("returnedAt", .double)
            t.column("cancelledAt", .double)
            t.column("escalatedAt", .double)
            t.column("overdueAt", .double)                             // when the review saw it overdue
            t.column("orphan", .text)                                  // no_rule, report_not_returned
            t.column("flag", .text).notNull().defaults(to: "")         // e.g. no eligible site, and why
            t.column("explanation", .text).notNull().defaults(to: "")  // the last allocation decision (JSON)
            t.column("transactionUID", .text)                          // UPS-RS claim (Transaction UID)
            t.column("updatedAt", .double).notNull()
        }
        try db.create(index: "worklist_item_state", on: "worklist_item", columns: ["state", "deadline"])
        try db.create(index: "worklist_item_site", on: "worklist_item", columns: ["site", "state"])
        try db.create(index: "worklist_item_deadline", on: "worklist_item", columns: ["deadline"])

        // Who did what to an item, in order: created, allocated, started, reallocated, escalated,
        // overdue, reported, returned, claimed, released, reassigned, cancelled, addendum.
        try db.create(table: "worklist_event") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("itemRef", .integer).notNull().references("worklist_item", onDelete: .cascade)
            t.column("time", .double).notNull()
            t.column("event", .text).notNull()
            t.column("actor", .text).notNull().defaults(to: "")
            t.column("site", .text).notNull().defaults(to: "")
            t.column("detail", .text).notNull().defaults(to: "")
        }
        try db.create(index: "worklist_event_item", on: "worklist_event", columns: ["itemRef", "time"])

        // Webhook notifications, written with the change they announce and sent by the notifier
        // until accepted (an outbox: a webhook that is down blocks nothing and loses nothing).
        try db.create(table: "worklist_notification") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("event", .text).notNull()
            t.column("itemRef", .integer)
            t.column("payload", .text).notNull()
            t.column("createdAt", .double).notNull()
            t.column("attempts", .integer).notNull().defaults(to: 0)
            t.column("nextAttemptAt", .double).notNull()
            t.column("deliveredAt", .double)
            t.column("lastError", .text).notNull().defaults(to: "")
        }
        try db.create(index: "worklist_notification_due", on: "worklist_notification", columns: ["deliveredAt", "nextAttemptAt"])
    }

    /// Indexes that answer the review's and the dashboard's questions from the index alone
    /// (measured by scripts/bench/worklist at 100,000 items: site loads 200 ms -> 30 ms, the
    /// counts by state, class and site 350 ms -> 15 ms, turnaround 40 ms -> 3 ms).
    static func coveringIndexes(_ db: Database) throws {
        try db.drop(index: "worklist_item_state")
        // Open items by deadline (overdue, the listing's default order), with `rule` for orphans.
        try db.create(index: "worklist_item_state", on: "worklist_item", columns: ["state", "deadline", "rule"])
        // Each site's open effort.
        try db.create(index: "worklist_item_load", on: "worklist_item", columns: ["state", "site", "effort"])
        // Counts by state, class and site (summary, metrics).
        try db.create(index: "worklist_item_counts", on: "worklist_item", columns: ["state", "priority", "site"])
        try db.create(index: "worklist_item_orphan", on: "worklist_item", columns: ["orphan", "origin"])
        // Turnaround charts and histogram.
        try db.create(index: "worklist_item_reported", on: "worklist_item", columns: ["reportedAt", "arrivedAt", "priority"])
        // Escalation: open items not yet escalated, with the times the test needs.
        try db.create(index: "worklist_item_escalation", on: "worklist_item",
                      columns: ["escalatedAt", "state", "rule", "arrivedAt", "deadline"])
    }
}
