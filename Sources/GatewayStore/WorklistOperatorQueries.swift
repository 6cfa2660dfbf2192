import Foundation

/// One class's report turnaround (arrival to report) as a cumulative histogram, over every
/// reported item in the index: what `/metrics` exports as `dicom_gateway_worklist_turnaround_seconds`.
public struct WorklistTurnaroundHistogram: Sendable, Equatable {
    /// 3 stat, 2 urgent, 1 routine, 0 bulk.
    public var priority: Int
    /// The upper bounds asked for, in seconds, ascending.
    public var bounds: [Double]
    /// Items reported within each bound (cumulative: `counts[i]` includes `counts[i - 1]`).
    public var counts: [Int]
    /// Every reported item of the class (the `+Inf` bucket).
    public var count: Int
    /// Their turnarounds added up, in seconds.
    public var sum: Double
}

/// Reads for operators (the HTTP API's metrics) that the worklist's own code does not need.
extension CacheIndex {
    /// One item with its study's attributes (nil study when the study has left the cache), as
    /// listings show it; nil for an unknown id.
    public func worklistListing(id: Int64) throws -> WorklistListing? {
        guard let item = try worklistItem(id: id) else { return nil }
        // The study UID is unique: the listing of that one study is this item, joined to its study.
        return try worklistListing(WorklistFilter(studyUID: item.studyUID), limit: 1).items.first
            ?? WorklistListing(item: item, study: nil)
    }

    /// The turnaround histogram of every class with a reported item, in one pass over the items.
    ///
    /// ```swift
    /// let stat = try index.worklistTurnaroundHistogram(bounds: [300, 3600]).first { $0.priority == 3 }
    /// stat?.counts   // [items reported within 5 min, within 1 h]
    /// ```
    /// Portable SQL (`CASE WHEN`, no scalar `MIN`/`MAX`): the index also runs on PostgreSQL.
    public func worklistTurnaroundHistogram(bounds: [Double]) throws -> [WorklistTurnaroundHistogram] {
        let sorted = bounds.sorted()
        let buckets = sorted.indices.map { "SUM(CASE WHEN reportedAt - arrivedAt <= ? THEN 1 ELSE 0 END) AS b\($0)" }
        let select = (["priority", "COUNT(*) AS n", "SUM(reportedAt - arrivedAt) AS total"] + buckets).joined(separator: ", ")
        return try read { db in
            try db.fetchAll("""
                SELECT \(select) FROM worklist_item WHERE reportedAt IS NOT NULL GROUP BY priority ORDER BY priority DESC
                """, IndexArguments(sorted)).map { row in
                WorklistTurnaroundHistogram(
                    priority: row["priority"], bounds: sorted, counts: sorted.indices.map { row["b\($0)"] ?? 0 },
                    count: row["n"], sum: row["total"] ?? 0)
            }
        }
    }
}
