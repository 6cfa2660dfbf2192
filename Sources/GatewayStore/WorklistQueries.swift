import Foundation

/// Reading the reporting worklist: listings for the API and dashboard, loads for the allocator,
/// candidates for the review, counts for metrics.
extension CacheIndex {
    public func hasWorklistItem(studyUID: String) throws -> Bool {
        try readStatement { db in
            try db.fetchValue(Bool.self, "SELECT EXISTS (SELECT 1 FROM worklist_item WHERE studyUID = ?)", [studyUID]) ?? false
        }
    }

    public func worklistItem(id: Int64) throws -> WorklistItem? {
        try read { db in try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [id]) }
    }

    public func worklistItem(studyUID: String) throws -> WorklistItem? {
        try read { db in try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE studyUID = ?", [studyUID]) }
    }

    /// The items `filter` selects, soonest deadline first, with the total before paging.
    public func worklistListing(_ filter: WorklistFilter, now: Date = Date(), limit: Int = 100,
                                offset: Int = 0) throws -> (items: [WorklistListing], total: Int) {
        var clauses: [String] = []
        var arguments: [any IndexValueConvertible] = []
        if let site = filter.site { clauses.append("w.site = ?"); arguments.append(site) }
        if let skill = filter.skill { clauses.append("w.skill = ?"); arguments.append(skill) }
        if let states = filter.states, !states.isEmpty {
            clauses.append("w.state IN (" + states.map { _ in "?" }.joined(separator: ", ") + ")")
            arguments += states.map(\.rawValue)
        }
        if let rank = filter.priorityRank { clauses.append("w.priority = ?"); arguments.append(rank) }
        if let origin = filter.origin { clauses.append("w.origin = ?"); arguments.append(origin) }
        if let studyUID = filter.studyUID { clauses.append("w.studyUID = ?"); arguments.append(studyUID) }
        if let overdue = filter.overdue {
            clauses.append(overdue ? "(w.state IN \(WorklistState.openSQL) AND w.rule IS NOT NULL AND w.deadline <= ?)"
                                   : "NOT (w.state IN \(WorklistState.openSQL) AND w.rule IS NOT NULL AND w.deadline <= ?)")
            arguments.append(now.epoch)
        }
        if let orphan = filter.orphan { clauses.append(orphan ? "w.orphan IS NOT NULL" : "w.orphan IS NULL") }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try read { db in
            let total = try db.fetchValue(Int.self, "SELECT COUNT(*) FROM worklist_item w \(whereSQL)",
                                         IndexArguments(arguments)) ?? 0
            let rows = try db.fetchAll("""
                SELECT w.*, s.accessionNumber AS s_accession, s.studyDescription AS s_description, s.modalities AS s_modalities,
                       s.studyDate AS s_date, s.instanceCount AS s_instances, s.id AS s_id
                FROM worklist_item w LEFT JOIN study s ON s.studyUID = w.studyUID
                \(whereSQL) ORDER BY w.deadline, w.id LIMIT ? OFFSET ?
                """, IndexArguments(arguments + [limit, offset]))
            let items = try rows.map { row -> WorklistListing in
                let item = try WorklistItem(row: row)
                let study: WorklistStudyInfo? = (row["s_id"] as Int64?) == nil ? nil : WorklistStudyInfo(
                    accessionNumber: row["s_accession"], studyDescription: row["s_description"], modalities: row["s_modalities"],
                    studyDate: row["s_date"], instanceCount: row["s_instances"])
                return WorklistListing(item: item, study: study)
            }
            return (items, total)
        }
    }

    /// The item's history, oldest first.
    public func worklistHistory(id: Int64) throws -> [WorklistEvent] {
        try read { db in
            try db.fetchAll("SELECT time, event, actor, site, detail FROM worklist_event WHERE itemRef = ? ORDER BY time, id",
                             [id]).map {
                WorklistEvent(time: $0["time"], event: $0["event"], actor: $0["actor"], site: $0["site"], detail: $0["detail"])
            }
        }
    }

    /// Each site's open work (allocated and in progress), and how many of its allocated items
    /// have deliveries to it failing. Sites with no open work are absent.
    public func worklistSiteLoads() throws -> [WorklistSiteLoad] {
        try read { db in
            var loads: [String: WorklistSiteLoad] = [:]
            for row in try db.fetchAll("""
                SELECT site, SUM(effort) AS effort, COUNT(*) AS n FROM worklist_item
                WHERE state IN ('allocated', 'in_progress') AND site IS NOT NULL GROUP BY site
                """) {
                let site: String = row["site"]
                loads[site] = WorklistSiteLoad(site: site, openEffort: row["effort"], openItems: row["n"], failingItems: 0)
            }
            for (site, items) in try Self.failingAllocations(sites: Array(loads.keys), db) {
                loads[site]?.failingItems = items.count
            }
            return loads.values.sorted { $0.site < $1.site }
        }
    }

    /// Allocated items whose deliveries to their site are failing (retrying or dead), per site.
    /// Driven from the few failing deliveries (index delivery_work), not from every open item.
    static func failingAllocations(sites: [String], _ db: any IndexDatabase) throws -> [String: Set<Int64>] {
        guard !sites.isEmpty else { return [:] }
        var result: [String: Set<Int64>] = [:]
        for row in try db.fetchAll("""
            SELECT DISTINCT w.id, w.site FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
            JOIN study s ON s.id = se.studyRef JOIN worklist_item w ON w.studyUID = s.studyUID AND w.site = d.destination
            WHERE d.destination IN (\(sites.map { _ in "?" }.joined(separator: ", "))) AND d.state IN ('failed', 'dead')
              AND w.state = 'allocated'
            """, IndexArguments(sites)) {
            result[row["site"], default: []].insert(row["id"])
        }
        return result
    }

    /// Allocated items that may have stalled: allocated before `allocatedBefore` (grace), at a site
    /// not in `workingSites` (no longer a reporter, or out of hours), or whose deliveries to their
    /// site fail. One query for the review, however many items are open.
    public func worklistStalled(allocatedBefore: Date, workingSites: [String], allSites: [String]) throws -> [(item: WorklistItem, failing: Bool)] {
        try read { db in
            let failing = try Self.failingAllocations(sites: allSites, db).values.reduce(into: Set<Int64>()) { $0.formUnion($1) }
            let notWorking = workingSites.isEmpty ? "1 = 1" : "site NOT IN (\(workingSites.map { _ in "?" }.joined(separator: ", ")))"
            let candidates = try db.fetchAll(WorklistItem.self, """
                SELECT * FROM worklist_item WHERE state = 'allocated' AND (allocatedAt <= ? OR \(notWorking))
                ORDER BY priority DESC, deadline LIMIT 1000
                """, IndexArguments([allocatedBefore.epoch] + workingSites))
            var seen = Set(candidates.map(\.id))
            var result = candidates.map { ($0, failing.contains($0.id)) }
            for id in failing where !seen.contains(id) {
                if let item = try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [id]) {
                    result.append((item, true))
                    seen.insert(id)
                }
            }
            return result
        }
    }

    /// Scheduled items with a skill, most urgent class first, then soonest deadline.
    public func worklistScheduled(limit: Int = 500) throws -> [WorklistItem] {
        try read { db in
            try db.fetchAll(WorklistItem.self, """
                SELECT * FROM worklist_item WHERE state = 'scheduled' AND skill <> '' ORDER BY priority DESC, deadline, id LIMIT ?
                """, [limit])
        }
    }

    /// Open items past `fraction` of their time to deadline and not yet escalated.
    public func worklistDueForEscalation(now: Date, fraction: Double) throws -> [WorklistItem] {
        try read { db in
            // The ids from the covering index worklist_item_escalation, then the few rows.
            let ids = try db.fetchValues(Int64.self, """
                SELECT id FROM worklist_item WHERE escalatedAt IS NULL AND state IN \(WorklistState.openSQL) AND rule IS NOT NULL
                  AND arrivedAt + (deadline - arrivedAt) * ? <= ? LIMIT 1000
                """, [fraction, now.epoch])
            return try ids.compactMap { try db.fetchOne(WorklistItem.self, "SELECT * FROM worklist_item WHERE id = ?", [$0]) }
        }
    }

    /// Open items past their deadline that the review has not yet announced.
    public func worklistNewlyOverdue(now: Date) throws -> [WorklistItem] {
        try read { db in
            try db.fetchAll(WorklistItem.self, """
                SELECT * FROM worklist_item WHERE state IN \(WorklistState.openSQL) AND overdueAt IS NULL AND rule IS NOT NULL AND deadline <= ?
                ORDER BY deadline LIMIT 1000
                """, [now.epoch])
        }
    }

    /// Reported items whose report has not reached the origin since `reportedBefore`, not yet flagged.
    public func worklistReportsNotReturned(reportedBefore: Date) throws -> [WorklistItem] {
        try read { db in
            try db.fetchAll(WorklistItem.self, """
                SELECT * FROM worklist_item WHERE state = 'reported' AND orphan IS NULL AND reportedAt <= ? LIMIT 1000
                """, [reportedBefore.epoch])
        }
    }

    /// Studies received in `(after, upTo]` with no worklist item and no report object: orphans
    /// once `orphan_after` has passed since they arrived.
    /// `notReports`: SR classes that are not reports (dose, CAD), which do not count.
    public func studiesWithoutReport(receivedAfter after: Date, upTo: Date, notReports: Set<String> = [],
                                     limit: Int = 1000) throws -> [(studyUID: String, origin: String?, receivedAt: Date)] {
        let excluded = notReports.sorted()
        let exclusion = excluded.isEmpty ? "" : "AND i.sopClassUID NOT IN (" + excluded.map { _ in "?" }.joined(separator: ", ") + ")"
        return try read { db in
            try db.fetchAll("""
                SELECT s.studyUID, s.originNode, s.receivedAt FROM study s
                WHERE s.receivedAt > ? AND s.receivedAt <= ?
                  AND NOT EXISTS (SELECT 1 FROM worklist_item w WHERE w.studyUID = s.studyUID)
                  AND NOT EXISTS (SELECT 1 FROM series se JOIN instance i ON i.seriesRef = se.id WHERE se.studyRef = s.id
                                  AND (i.sopClassUID LIKE '1.2.840.10008.5.1.4.1.1.88.%'
                                       OR i.sopClassUID IN ('1.2.840.10008.5.1.4.1.1.104.1', '1.2.840.10008.5.1.4.1.1.104.2'))
                                  \(exclusion))
                ORDER BY s.receivedAt LIMIT ?
                """, IndexArguments([after, upTo] + excluded + [limit])).map { ($0["studyUID"], $0["originNode"], $0["receivedAt"]) }
        }
    }
}

/// Counts for `/metrics`.
public struct WorklistCounts: Sendable, Equatable {
    public struct Key: Hashable, Sendable { public var state: String, priority: Int, site: String }
    public struct OverdueKey: Hashable, Sendable { public var origin: String, site: String, priority: Int }
    public var items: [Key: Int] = [:]
    public var overdue: [OverdueKey: Int] = [:]
    public var orphans: [String: Int] = [:]
}

/// One reported item's turnaround, for charts and the histogram.
public struct WorklistTurnaround: Sendable, Equatable {
    public var priority: Int
    public var arrivedAt: Date
    public var reportedAt: Date
    public var seconds: Double { reportedAt.timeIntervalSince(arrivedAt) }
}

extension CacheIndex {
    public func worklistCounts(now: Date = Date()) throws -> WorklistCounts {
        try read { db in
            var counts = WorklistCounts()
            for row in try db.fetchAll("SELECT state, priority, COALESCE(site, '') AS site, COUNT(*) AS n FROM worklist_item GROUP BY state, priority, site") {
                counts.items[.init(state: row["state"], priority: row["priority"], site: row["site"])] = row["n"]
            }
            for row in try db.fetchAll("""
                SELECT COALESCE(origin, '') AS origin, COALESCE(site, '') AS site, priority, COUNT(*) AS n FROM worklist_item
                WHERE state IN \(WorklistState.openSQL) AND rule IS NOT NULL AND deadline <= ? GROUP BY origin, site, priority
                """, [now.epoch]) {
                counts.overdue[.init(origin: row["origin"], site: row["site"], priority: row["priority"])] = row["n"]
            }
            for row in try db.fetchAll("SELECT COALESCE(origin, '') AS origin, COUNT(*) AS n FROM worklist_item WHERE orphan IS NOT NULL GROUP BY origin") {
                counts.orphans[row["origin"]] = row["n"]
            }
            return counts
        }
    }

    /// Items reported since `since`, oldest report first.
    public func worklistTurnarounds(since: Date) throws -> [WorklistTurnaround] {
        try read { db in
            try db.fetchAll("""
                SELECT priority, arrivedAt, reportedAt FROM worklist_item WHERE reportedAt IS NOT NULL AND reportedAt >= ? ORDER BY reportedAt
                """, [since.epoch]).map { WorklistTurnaround(priority: $0["priority"], arrivedAt: $0["arrivedAt"], reportedAt: $0["reportedAt"]) }
        }
    }
}
