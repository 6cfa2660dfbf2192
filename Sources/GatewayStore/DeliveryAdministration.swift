import Foundation

/// One delivery as operators see it (`dicom-gateway queue --dead`, the HTTP API).
public struct DeliveryListing: Sendable, Equatable {
    public var id: Int64
    public var destination: String
    public var route: String
    public var priorityRank: Int
    public var state: String
    public var attempts: Int
    public var lastError: String
    public var createdAt: Date
    public var updatedAt: Date
    public var studyUID: String
    public var seriesUID: String
    public var sopUID: String
}

/// Which deliveries an operator acts on: by id, or by state and optionally destination/study.
public struct DeliverySelection: Sendable, Equatable {
    public var ids: [Int64] = []
    public var states: [String] = ["dead"]
    public var destination: String?
    public var studyUID: String?

    public init(ids: [Int64] = [], states: [String] = ["dead"], destination: String? = nil, studyUID: String? = nil) {
        self.ids = ids
        self.states = states
        self.destination = destination
        self.studyUID = studyUID
    }

    /// The same selection with at most `size` ids each (one `?` per id: portable SQL, and far
    /// below SQLite's limit on variables, 32,766, however long the list).
    fileprivate func chunked(_ size: Int = 1000) -> [DeliverySelection] {
        guard ids.count > size else { return [self] }
        return stride(from: 0, to: ids.count, by: size).map { start in
            var part = self
            part.ids = Array(ids[start..<min(ids.count, start + size)])
            return part
        }
    }

    /// SQL condition over `d` (delivery) and `s` (study) with its arguments (use `chunked` first).
    fileprivate var condition: (String, IndexArguments) {
        var clauses: [String] = []
        var arguments: IndexArguments = []
        if !ids.isEmpty {
            clauses.append("d.id IN (\(ids.map { _ in "?" }.joined(separator: ",")))")
            arguments += ids
        }
        if !states.isEmpty {
            clauses.append("d.state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
            arguments += states
        }
        if let destination {
            clauses.append("d.destination = ?")
            arguments += [destination]
        }
        if let studyUID {
            clauses.append("s.studyUID = ?")
            arguments += [studyUID]
        }
        // `1 = 1`, not `1`: PostgreSQL wants a boolean.
        return (clauses.isEmpty ? "1 = 1" : clauses.joined(separator: " AND "), arguments)
    }
}

extension CacheIndex {
    private static let selectionJoin = """
        FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
        JOIN study s ON s.id = se.studyRef
        """

    /// Deliveries matching `selection`, oldest first.
    public func deliveries(_ selection: DeliverySelection, limit: Int = 1000) throws -> [DeliveryListing] {
        let listings = try selection.chunked().flatMap { try deliveries(chunk: $0, limit: limit) }
        guard selection.ids.count > 1000 else { return listings }
        return Array(listings.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.prefix(max(1, limit)))
    }

    private func deliveries(chunk selection: DeliverySelection, limit: Int) throws -> [DeliveryListing] {
        let (condition, arguments) = selection.condition
        return try read { db in
            try db.fetchAll("""
                SELECT d.id, d.destination, d.route, d.priority, d.state, d.attempts, d.lastError, d.createdAt, d.updatedAt,
                       s.studyUID, se.seriesUID, i.sopUID
                \(Self.selectionJoin) WHERE \(condition) ORDER BY d.createdAt, d.id LIMIT \(max(1, limit))
                """, arguments, cached: false).map {
                DeliveryListing(id: $0["id"], destination: $0["destination"], route: $0["route"], priorityRank: $0["priority"],
                                state: $0["state"], attempts: $0["attempts"], lastError: $0["lastError"],
                                createdAt: $0["createdAt"], updatedAt: $0["updatedAt"], studyUID: $0["studyUID"],
                                seriesUID: $0["seriesUID"], sopUID: $0["sopUID"])
            }
        }
    }

    /// Queues the selected deliveries again, due now, with a fresh retry budget; returns how many.
    /// In-flight and done deliveries are never touched. Audited with `actor`.
    @discardableResult
    public func replayDeliveries(_ selection: DeliverySelection, actor: String, now: Date = Date()) throws -> Int {
        try change(selection, actor: actor, event: "replay", now: now,
                   set: "state = 'queued', attempts = 0, lastError = '', nextAttemptAt = :now, updatedAt = :now, createdAt = :now")
    }

    /// Cancels the selected deliveries (they are never sent; retention no longer waits for them);
    /// returns how many. Audited with `actor`.
    @discardableResult
    public func cancelDeliveries(_ selection: DeliverySelection, actor: String, now: Date = Date()) throws -> Int {
        try change(selection, actor: actor, event: "cancel", now: now, set: "state = 'cancelled', updatedAt = :now")
    }

    private func change(_ selection: DeliverySelection, actor: String, event: String, now: Date, set: String) throws -> Int {
        // In flight is the worker's, done stays done. Only a selection naming no state at all
        // means every waiting one; one naming only those two selects nothing (and is audited so).
        var selection = selection
        let requested = selection.states
        selection.states = requested.filter { $0 != "inflight" && $0 != "done" }
        let selectsNothing = !requested.isEmpty && selection.states.isEmpty
        if requested.isEmpty { selection.states = ["queued", "failed", "dead"] }
        let chunks = selection.chunked()
        var changed = 0
        try write { db in
            let ids = selectsNothing ? [] : try chunks.flatMap { chunk -> [Int64] in
                let (condition, arguments) = chunk.condition
                return try db.fetchValues(Int64.self, "SELECT d.id \(Self.selectionJoin) WHERE \(condition)", arguments, cached: false)
            }
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let part = Array(ids[chunk..<min(ids.count, chunk + 500)])
                var args: IndexArguments = ["now": now]
                var names: [String] = []
                for (n, id) in part.enumerated() {
                    names.append(":id\(n)")
                    args.named["id\(n)"] = IndexValue(id)
                }
                try db.execute("UPDATE delivery SET \(set) WHERE id IN (\(names.joined(separator: ",")))", args, cached: false)
            }
            changed = ids.count
            var record = AuditRecord(event: "delivery", actor: actor, studyUID: selection.studyUID, outcome: event,
                                     detail: "\(event) \(ids.count) deliveries"
                                         + (selection.destination.map { " to \($0)" } ?? "")
                                         + Self.idsNote(selection.ids),
                                     time: now)
            try record.insert(db)
        }
        return changed
    }

    /// The ids an operator named, for the audit detail: the first 20, then how many more.
    private static func idsNote(_ ids: [Int64]) -> String {
        guard !ids.isEmpty else { return "" }
        let shown = ids.prefix(20).map(String.init).joined(separator: ",")
        return " (ids \(shown)\(ids.count > 20 ? " and \(ids.count - 20) more" : ""))"
    }
}
