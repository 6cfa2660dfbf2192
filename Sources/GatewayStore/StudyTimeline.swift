import Foundation

/// One step of a study's way through the network (`study_event`).
public struct StudyEvent: Sendable, Equatable {
    /// `received`, `delivered`, `reported` or `report_returned`.
    public var event: String
    /// The node concerned: origin (received), destination (delivered), reporter (reported),
    /// origin again (report_returned).
    public var node: String
    public var time: Date
    public var detail: String

    public static let received = "received"
    public static let delivered = "delivered"
    public static let reported = "reported"
    public static let reportReturned = "report_returned"
}

/// Written with a new instance, in the transaction that files it.
public struct IngestExtras: Sendable, Equatable {
    /// The Patient ID mapping to record (the first for an issuer and local ID stays).
    public var identity: PatientIdentityMapping?
    /// A report from a node other than the study's origin: the study's first one records `reported`.
    public var isReport = false
    /// The node that sent it, for the `reported` event.
    public var sendingNode: String?
    /// The worklist is on (`reporting.rules`): the study's item gets this instance's part
    /// (its copy to the item's site, a report closing it).
    public var worklistActive = false
    /// A reporting rule matched this instance: the study gets an item if it has none.
    public var worklist: WorklistPlacement?
    /// A report object (SR, KOS, Encapsulated PDF/CDA) from any sender, the origin included.
    public var isReportObject = false

    public init(identity: PatientIdentityMapping? = nil, isReport: Bool = false, sendingNode: String? = nil,
                worklistActive: Bool = false, worklist: WorklistPlacement? = nil, isReportObject: Bool = false) {
        self.identity = identity
        self.isReport = isReport
        self.sendingNode = sendingNode
        self.worklistActive = worklistActive
        self.worklist = worklist
        self.isReportObject = isReportObject
    }
}

/// How many of a study's deliveries to one destination are in one state.
public struct DeliveryCount: Sendable, Equatable {
    public var destination: String
    public var state: String
    public var count: Int
}

/// What `dicom-gateway study UID` shows: the study, its patient and origin, deliveries and timeline.
public struct StudySummary: Sendable {
    public var study: StudyRecord
    public var patient: PatientRecord
    /// The node of its first instance.
    public var originNode: String?
    /// Deliveries per destination and state (every state, done included).
    public var deliveries: [DeliveryCount]
    /// In time order.
    public var events: [StudyEvent]
}

extension CacheIndex {
    /// Inserts one event; with `once`, only when the study has no such event (for that node, when given).
    static func recordEvent(_ event: String, studyUID: String, node: String, time: Date, detail: String = "", once: Bool,
                            perNode: Bool = false, _ db: any IndexDatabase) throws {
        if once {
            let exists = try db.fetchValue(Bool.self, """
                SELECT EXISTS (SELECT 1 FROM study_event WHERE studyUID = ? AND event = ? AND (? = 0 OR node = ?))
                """, [studyUID, event, perNode ? 1 : 0, node]) ?? false
            if exists { return }
        }
        try db.execute("INSERT INTO study_event(studyUID, event, node, time, detail) VALUES (?, ?, ?, ?, ?)",
                       [studyUID, event, node, time, detail])
    }

    /// The rows a new instance adds besides itself (inside its transaction).
    static func recordIngest(_ m: InstanceMetadata, studyCreated: Bool, _ db: any IndexDatabase) throws {
        if studyCreated {
            try recordEvent(StudyEvent.received, studyUID: m.studyUID, node: m.origin.node ?? "", time: m.receivedAt,
                            detail: "from \(m.origin.callingAE)", once: false, db)
        }
        if m.extras.isReport {
            try recordEvent(StudyEvent.reported, studyUID: m.studyUID, node: m.extras.sendingNode ?? m.origin.node ?? "",
                            time: m.receivedAt, detail: m.sopUID, once: true, db)
        }
        if let identity = m.extras.identity {
            try record(identity, at: m.receivedAt, db)
        }
    }

    /// After a delivery is done (inside the same transaction): `delivered` once the study's
    /// instances from its origin are all done for that destination; `report_returned` when an
    /// instance another node sent (a report) reached the study's origin.
    ///
    /// This runs on the committer for every delivery, so it must stay O(1) while a study is
    /// being sent: the finished instance's own series is checked first, newest instance first
    /// (workers send in series and instance order, so its unsent instances are at the end);
    /// only a finished series leads to a look at the study's other series.
    static func recordDeliveryMilestones(deliveryID: Int64, now: Date, _ db: any IndexDatabase) throws {
        guard let row = try db.fetchOne("""
            SELECT d.destination, s.id AS studyRef, s.studyUID, i.seriesRef, i.originNode AS instanceOrigin,
                   s.originNode AS studyOrigin
            FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
            JOIN study s ON s.id = se.studyRef WHERE d.id = ?
            """, [deliveryID]) else { return }
        let destination: String = row["destination"]
        let studyUID: String = row["studyUID"]
        let studyRef: Int64 = row["studyRef"]
        let seriesRef: Int64 = row["seriesRef"]
        let instanceOrigin: String? = row["instanceOrigin"]
        let studyOrigin: String? = row["studyOrigin"]
        if instanceOrigin == studyOrigin, destination != studyOrigin {
            let already = try db.fetchValue(Bool.self, """
                SELECT EXISTS (SELECT 1 FROM study_event WHERE studyUID = ? AND event = ? AND node = ?)
                """, [studyUID, StudyEvent.delivered, destination]) ?? false
            if already { return }
            // The delivery is looked up per instance by its unique key (instanceRef, destination), in
            // a scalar subquery, with the destination compared as an expression (`|| ''`) so that
            // only that key's index serves it: before its first ANALYZE of a growing table,
            // PostgreSQL's planner otherwise scans every delivery of the destination per instance
            // (delivery_work; measured 4-5 ms per finished delivery after 300). Instances newest
            // first by (seriesRef, id): SQLite's instance_series holds the rowid, PostgreSQL has
            // instance_series_order (v14).
            func unsent(inSeries series: Int64) throws -> Bool {
                try db.fetchOne("""
                    SELECT 1 FROM instance i
                    WHERE i.seriesRef = ? AND i.originNode IS NOT DISTINCT FROM ?
                      AND (SELECT d.state FROM delivery d WHERE d.instanceRef = i.id AND d.destination || '' = ?)
                          NOT IN ('done', 'cancelled')
                    ORDER BY i.id DESC LIMIT 1
                    """, [series, studyOrigin, destination]) != nil
            }
            if try unsent(inSeries: seriesRef) { return }
            let others = try db.fetchValues(Int64.self, "SELECT id FROM series WHERE studyRef = ? AND id <> ?", [studyRef, seriesRef])
            for series in others where try unsent(inSeries: series) { return }
            try recordEvent(StudyEvent.delivered, studyUID: studyUID, node: destination, time: now, once: false, db)
        } else if let studyOrigin, destination == studyOrigin, instanceOrigin != studyOrigin {
            try recordEvent(StudyEvent.reportReturned, studyUID: studyUID, node: destination, time: now,
                            detail: "from \(instanceOrigin ?? "an unknown sender")", once: true, db)
            try Worklist.reportReturned(studyUID: studyUID, origin: destination, now: now, db)
        }
    }

    /// The timeline of a study, in time order (empty when it has none).
    public func studyEvents(studyUID: String) throws -> [StudyEvent] {
        try read { db in
            try db.fetchAll("SELECT event, node, time, detail FROM study_event WHERE studyUID = ? ORDER BY time, id",
                             [studyUID]).map {
                StudyEvent(event: $0["event"], node: $0["node"], time: $0["time"], detail: $0["detail"])
            }
        }
    }

    /// Everything `dicom-gateway study` prints; nil when the study is not cached.
    public func studySummary(studyUID: String) throws -> StudySummary? {
        guard let identity = studyIdentity(studyUID: studyUID) else { return nil }
        return try read { db -> StudySummary? in
            guard let study = try db.fetchOne(StudyRecord.self, "SELECT * FROM study WHERE studyUID = ?", [studyUID]),
                  let patient = try db.fetchOne(PatientRecord.self, "SELECT * FROM patient WHERE id = ?", [study.patientRef])
            else { return nil }
            let deliveries = try db.fetchAll("""
                SELECT d.destination, d.state, COUNT(*) AS n FROM delivery d JOIN instance i ON i.id = d.instanceRef
                JOIN series se ON se.id = i.seriesRef WHERE se.studyRef = ? GROUP BY d.destination, d.state
                ORDER BY d.destination, d.state
                """, [study.id!]).map { DeliveryCount(destination: $0["destination"], state: $0["state"], count: $0["n"]) }
            let events = try db.fetchAll("SELECT event, node, time, detail FROM study_event WHERE studyUID = ? ORDER BY time, id",
                                          [studyUID]).map {
                StudyEvent(event: $0["event"], node: $0["node"], time: $0["time"], detail: $0["detail"])
            }
            return StudySummary(study: study, patient: patient, originNode: identity.originNode, deliveries: deliveries, events: events)
        }
    }
}
