import Foundation

/// A cached study as the operators' API lists it.
public struct StudyListing: Sendable, Equatable {
    public var studyUID: String
    public var studyDate: String
    public var modalities: String
    public var studyDescription: String
    public var accessionNumber: String
    public var patientID: String
    public var patientName: String
    public var issuer: String
    public var originNode: String?
    public var seriesCount: Int
    public var instanceCount: Int
    public var sizeBytes: Int64
    public var receivedAt: Date
    public var updatedAt: Date
    /// Deliveries of the study's instances not yet done or cancelled.
    public var undelivered: Int
    /// Dead deliveries among them.
    public var dead: Int
}

/// What the cache holds, in one read.
public struct CacheTotals: Sendable, Equatable {
    public var studies: Int
    public var instances: Int
    public var bytes: Int64
}

extension CacheIndex {
    /// The most recently received studies, newest first.
    public func recentStudies(limit: Int = 50) throws -> [StudyListing] {
        try read { db in
            try db.fetchAll("""
                SELECT s.*, p.patientID AS pid, p.patientName AS pname, p.issuer AS pissuer,
                  (SELECT COUNT(*) FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
                    WHERE se.studyRef = s.id AND d.state NOT IN ('done', 'cancelled')) AS undelivered,
                  (SELECT COUNT(*) FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
                    WHERE se.studyRef = s.id AND d.state = 'dead') AS dead
                FROM study s JOIN patient p ON p.id = s.patientRef
                ORDER BY s.receivedAt DESC LIMIT ?
                """, [max(1, min(limit, 1000))]).map {
                StudyListing(studyUID: $0["studyUID"], studyDate: $0["studyDate"], modalities: $0["modalities"],
                             studyDescription: $0["studyDescription"], accessionNumber: $0["accessionNumber"],
                             patientID: $0["pid"], patientName: $0["pname"], issuer: $0["pissuer"], originNode: $0["originNode"],
                             seriesCount: $0["seriesCount"], instanceCount: $0["instanceCount"], sizeBytes: $0["sizeBytes"],
                             receivedAt: $0["receivedAt"], updatedAt: $0["updatedAt"], undelivered: $0["undelivered"], dead: $0["dead"])
            }
        }
    }

    /// Studies, instances and bytes in the cache.
    public func cacheTotals() throws -> CacheTotals {
        try read { db in
            let row = try db.fetchOne("""
                SELECT COUNT(*) AS studies, COALESCE(SUM(instanceCount), 0) AS instances, COALESCE(SUM(sizeBytes), 0) AS bytes FROM study
                """)
            return CacheTotals(studies: row?["studies"] ?? 0, instances: row?["instances"] ?? 0, bytes: row?["bytes"] ?? 0)
        }
    }

    /// Audit entries, newest first: at most `limit`, older than the entry `beforeID` when given,
    /// optionally only of one `event` kind or one study.
    public func auditRecords(limit: Int = 100, beforeID: Int64? = nil, event: String? = nil, studyUID: String? = nil) throws -> [AuditRecord] {
        var clauses: [String] = []
        var arguments: IndexArguments = []
        if let beforeID {
            clauses.append("id < ?")
            arguments += [beforeID]
        }
        if let event {
            clauses.append("event = ?")
            arguments += [event]
        }
        if let studyUID {
            clauses.append("studyUID = ?")
            arguments += [studyUID]
        }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments += [max(1, min(limit, 1000))]
        return try read { db in
            try db.fetchAll(AuditRecord.self, "SELECT * FROM audit \(condition) ORDER BY id DESC LIMIT ?", arguments, cached: false)
        }
    }

    /// Raises every delivery of the study not yet done to at least `priorityRank`: waiting ones
    /// (queued, failed, dead) become due now, and a dead one gets a fresh retry budget; one in
    /// flight keeps its state (if its batch is cut short it goes back at the new class). Ranks
    /// are never lowered. Returns how many changed. Audited with `actor`.
    @discardableResult
    public func escalateStudy(_ studyUID: String, to priorityRank: Int, actor: String, now: Date = Date()) throws -> Int {
        var changed = 0
        try write { db in
            // The earlier of nextAttemptAt and now, as SQLite's two-argument MIN did. A searched CASE:
            // in `CASE state WHEN nextAttemptAt < :now` the comparison would be matched against state.
            let rowsChanged = try db.execute("""
                UPDATE delivery SET priority = :rank, updatedAt = :now,
                  nextAttemptAt = CASE WHEN state = 'inflight' OR nextAttemptAt < :now THEN nextAttemptAt ELSE :now END,
                  state = CASE state WHEN 'dead' THEN 'queued' ELSE state END,
                  attempts = CASE state WHEN 'dead' THEN 0 ELSE attempts END
                WHERE priority < :rank AND state IN ('queued', 'failed', 'dead', 'inflight') AND instanceRef IN (
                  SELECT i.id FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                  WHERE s.studyUID = :study)
                """, ["rank": priorityRank, "now": now, "study": studyUID])
            changed = rowsChanged
            var record = AuditRecord(event: "delivery", actor: actor, studyUID: studyUID, outcome: "escalate",
                                     detail: "raised \(changed) deliveries to priority \(priorityRank)", time: now)
            try record.insert(db)
        }
        return changed
    }
}
