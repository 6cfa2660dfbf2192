import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatewayConfig
import GatewayReporting
import GatewayStore

/// `dicom-gateway worklist`: the network reporting worklist. Listing and explaining read the
/// index directly, like `queue` and `study`; `reassign` goes through the running gateway's HTTP
/// API, because only the gateway's allocator and delivery workers can move an item's images.
struct WorklistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worklist",
        abstract: "The reporting worklist: items by deadline, why an item went where it did, reassignment.",
        discussion: """
            'worklist' and 'worklist explain' read the index directly (a running gateway may keep \
            writing); 'worklist reassign' asks the running gateway over its HTTP API (--api, default \
            from the configuration's http section, https with http.tls; token, of role operate or \
            admin, from --token-file, DICOM_GATEWAY_TOKEN or http.token_file).
            """,
        subcommands: [WorklistList.self, WorklistExplain.self, WorklistReassign.self],
        defaultSubcommand: WorklistList.self)
}

struct WorklistList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Worklist items, soonest deadline first (the default).")

    @OptionGroup var options: IndexOptions
    @Option(help: "Only items allocated to this reporter site.") var site: String?
    @Option(help: "Only items in these states: scheduled, allocated, in_progress, reported, returned, cancelled (repeatable or comma list).")
    var state: [String] = []
    @Option(name: .customLong("class"), help: "Only items of this class: stat, urgent, routine or bulk.") var priorityClass: PriorityClass?
    @Option(help: "Only items of studies from this origin node.") var origin: String?
    @Flag(help: "Only open items past their deadline.") var overdue = false
    @Flag(help: "Only orphans (no rule, or report not returned).") var orphan = false
    @Option(help: "At most this many.") var limit = 100
    @Flag(help: "Print as JSON (with the network Patient ID).") var json = false

    var states: [WorklistState] {
        get throws {
            try state.flatMap { $0.split(separator: ",") }.map { name in
                guard let s = WorklistState(rawValue: String(name)) else {
                    throw ValidationError("unknown state '\(name)'; use \(WorklistState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return s
            }
        }
    }

    func validate() throws {
        _ = try states
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1 to 10000") }
    }

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        let filter = WorklistFilter(site: site, states: try states.isEmpty ? nil : states, priorityRank: priorityClass?.rank,
                                    origin: origin, overdue: overdue ? true : nil, orphan: orphan ? true : nil)
        let now = Date()
        let (rows, total) = try index.worklistListing(filter, now: now, limit: limit)
        if json {
            let objects = rows.map { WorklistText.object($0, now: now) }
            print(WorklistText.json(["items": objects, "total": total] as [String: Any]))
            return
        }
        if rows.isEmpty {
            print("no matching worklist items")
            return
        }
        print(pad("ID", 7) + pad("CLASS", 8) + pad("STATE", 12) + pad("SITE", 14) + pad("DEADLINE", 17) + pad("DUE", 12)
            + pad("STUDY INSTANCE UID", 40) + pad("ORIGIN", 12) + "FLAG")
        for r in rows {
            let item = r.item
            let flags = [item.orphan.map { "orphan: \($0.rawValue)" }, item.flag.isEmpty ? nil : item.flag].compactMap { $0 }
            print(pad("\(item.id)", 7) + pad(CacheIndex.className(ofRank: item.priority), 8) + pad(item.state.rawValue, 12)
                + pad(item.site ?? "-", 14) + pad(WorklistText.local(item.deadline), 17) + pad(WorklistText.due(item, now: now), 12)
                + pad(item.studyUID, 40) + pad(item.origin ?? "-", 12) + flags.joined(separator: "; "))
        }
        if total > rows.count { print("(\(rows.count) of \(total); --limit shows more)") }
    }
}

struct WorklistExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "One item: the sites the allocator weighed and why one won, and the item's history.")

    @Argument(help: "The worklist item id.") var id: Int64
    @OptionGroup var options: IndexOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        guard let listing = try index.worklistListing(id: id) else { throw CommandFailure("no worklist item \(id) in the index") }
        let item = listing.item
        let history = try index.worklistHistory(id: id)
        let now = Date()
        if json {
            var object = WorklistText.object(listing, now: now)
            object["explanation"] = item.explanation.isEmpty
                ? NSNull() : (try? JSONSerialization.jsonObject(with: Data(item.explanation.utf8))) ?? NSNull()
            object["history"] = history.map {
                ["time": WorklistText.iso($0.time), "event": $0.event, "actor": $0.actor, "site": $0.site, "detail": $0.detail]
            }
            print(WorklistText.json(object))
            return
        }
        print("item      \(item.id)  \(CacheIndex.className(ofRank: item.priority))  \(item.state.rawValue)"
            + (item.site.map { " at \($0)" } ?? "") + (item.reporter.isEmpty ? "" : " by \(item.reporter)"))
        print("study     \(item.studyUID) from \(item.origin ?? "an unknown node")"
            + (listing.study.map { "; \($0.studyDate) \($0.modalities) \($0.studyDescription), \($0.instanceCount) instances" } ?? ""))
        print("rule      \(item.rule ?? "none (orphan)"); skill \(item.skill.isEmpty ? "none" : item.skill); effort \(item.effort)")
        print("deadline  \(WorklistText.local(item.deadline)) (\(WorklistText.due(item, now: now)))")
        if let orphan = item.orphan { print("orphan    \(orphan.rawValue)") }
        if !item.flag.isEmpty { print("flag      \(item.flag)") }
        if let decision = WorklistText.decision(item.explanation) {
            print("decision  \(WorklistText.local(decision.decidedAt)): \(decision.chosen ?? "no site")")
            print("reason    \(decision.reason)")
            if !decision.candidates.isEmpty {
                print("  " + pad("SITE", 14) + pad("SKILL", 6) + pad("HOURS", 6) + pad("REACH", 6) + pad("LOAD", 13) + "VERDICT")
                for c in decision.candidates {
                    let before = c.capacity > 0 ? c.openEffort / c.capacity : 0
                    let load = String(format: "%.2f->%.2f", before, c.loadAfter)
                    let verdict = c.site == decision.chosen ? "chosen" : (c.eligible ? "passed: " : "not eligible: ") + c.note
                    print("  " + pad(c.site, 14) + pad(c.hasSkill ? "yes" : "no", 6) + pad(c.inHours ? "in" : "out", 6)
                        + pad(c.reachable ? "yes" : "no", 6) + pad(load, 13) + verdict
                        + (c.preferred ? " [origin's organisation]" : "") + (c.passedOver && c.site != decision.chosen ? " [gave it up before]" : ""))
                }
            }
        } else {
            print("decision  none yet (the allocator has not considered it)")
        }
        print("history")
        for e in history {
            let detail = e.detail.isEmpty ? "" : "  \(e.detail)"
            print("  \(WorklistText.local(e.time))  " + pad(e.event, 12) + pad(e.actor.isEmpty ? "-" : e.actor, 14)
                + pad(e.site.isEmpty ? "-" : e.site, 14) + detail)
        }
    }
}

struct WorklistReassign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reassign",
        abstract: "Give an item to another reporter site, through the running gateway (its images follow unless the site pulls).")

    @Argument(help: "The worklist item id.") var id: Int64
    @Argument(help: "The reporter site (a node with the reporter role).") var site: String
    @Option(help: "The YAML configuration file (its http section gives the default --api and token file).") var config: String?
    @Option(help: "The gateway's HTTP API, e.g. http://127.0.0.1:8112 (default from the configuration's http section).") var api: String?
    @Option(name: .customLong("token-file"), help: "A file whose first line is the API token (default: DICOM_GATEWAY_TOKEN, then http.token_file).")
    var tokenFile: String?

    func run() async throws {
        let configuration = try IndexOptions.loadConfiguration(config)
        let client = try GatewayAPIClient(http: configuration.http, api: api, tokenFile: tokenFile)
        let (status, object) = try await client.post("/api/v1/worklist/\(id)/reassign", ["site": site])
        guard status == 200 else {
            throw CommandFailure("the gateway refused: \(status) \(object["error"] as? String ?? "(no reason given)")")
        }
        let state = object["state"] as? String ?? "?"
        let now = object["site"] as? String ?? site
        print("item \(id) reassigned to \(now) (\(state))")
    }
}

/// The running gateway's HTTP API, for commands that must act through it.
struct GatewayAPIClient {
    let base: URL
    let token: String?

    /// `api` (or `http://127.0.0.1:PORT` from `http`, https with `http.tls`, a wildcard bind reached on loopback); the token
    /// from `tokenFile`, else `DICOM_GATEWAY_TOKEN`, else `http.token_file`.
    init(http: HTTPSettings, api: String?, tokenFile: String?) throws {
        if let api {
            guard let url = URL(string: api), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ValidationError("--api \(api) is not an http:// or https:// URL")
            }
            base = url
        } else {
            guard http.enabled else {
                throw CommandFailure("the configuration turns the HTTP API off (http.enabled: false); this command needs the running gateway's API (--api URL)")
            }
            let host = ["0.0.0.0", "::", ""].contains(http.bind) ? "127.0.0.1" : (http.bind.contains(":") ? "[\(http.bind)]" : http.bind)
            base = URL(string: "\(http.tls == nil ? "http" : "https")://\(host):\(http.port)")!
        }
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile), let token = HTTPSettings.token(from: data) else {
                throw CommandFailure("--token-file \(tokenFile) cannot be read or holds no token")
            }
            self.token = token
        } else if let env = ProcessInfo.processInfo.environment["DICOM_GATEWAY_TOKEN"], !env.isEmpty {
            token = env
        } else if let file = http.tokenFile {
            guard let data = FileManager.default.contents(atPath: file.path), let token = HTTPSettings.token(from: data) else {
                throw CommandFailure("http.token_file \(file.path) cannot be read or holds no token (run as a user who can read it, or set DICOM_GATEWAY_TOKEN)")
            }
            self.token = token
        } else {
            token = nil
        }
    }

    /// POSTs `body` as JSON; the status and the answer's JSON object (empty when it is not one).
    func post(_ path: String, _ body: [String: Any]) async throws -> (Int, [String: Any]) {
        let url = base.appendingPathComponent(String(path.drop { $0 == "/" }))
        var request = URLRequest(url: url, timeoutInterval: 60)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CommandFailure("cannot reach the gateway's HTTP API at \(base.absoluteString): \(error.localizedDescription) "
                + "(is 'dicom-gateway serve' running? --api names another address)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, object)
    }
}

/// How the worklist commands print items, times and decisions.
enum WorklistText {
    static func object(_ listing: WorklistListing, now: Date) -> [String: Any] {
        let item = listing.item
        func date(_ d: Date?) -> Any { d.map(iso) ?? NSNull() }
        func text(_ s: String?) -> Any { s ?? NSNull() }
        return [
            "id": item.id, "study_instance_uid": item.studyUID, "origin": text(item.origin),
            "class": CacheIndex.className(ofRank: item.priority), "skill": item.skill, "effort": item.effort, "rule": text(item.rule),
            "site": text(item.site), "state": item.state.rawValue, "deadline": iso(item.deadline),
            "seconds_to_deadline": Int(item.deadline.timeIntervalSince(now).rounded(.down)), "overdue": item.isOverdue(at: now),
            "orphan": text(item.orphan?.rawValue), "flag": item.flag, "arrived_at": iso(item.arrivedAt),
            "allocated_at": date(item.allocatedAt), "started_at": date(item.startedAt), "reported_at": date(item.reportedAt),
            "reported_by": item.reportedBy, "returned_at": date(item.returnedAt), "escalated_at": date(item.escalatedAt),
            "cancelled_at": date(item.cancelledAt), "reporter": item.reporter, "patient_id": item.patientID,
            "accession_number": text(listing.study?.accessionNumber), "study_description": text(listing.study?.studyDescription),
            "modalities": text(listing.study?.modalities), "instances": listing.study.map { $0.instanceCount as Any } ?? NSNull(),
        ]
    }

    static func json(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// Local time to the minute, e.g. `2025-06-01 14:05`.
    static func local(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .current
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }

    /// `in 2h 5m` or `late 10m` for an open item; `-` once it is reported or cancelled.
    static func due(_ item: WorklistItem, now: Date) -> String {
        guard item.state.isOpen else { return "-" }
        let seconds = item.deadline.timeIntervalSince(now)
        return seconds > 0 ? "in " + span(seconds) : "late " + span(-seconds)
    }

    /// `3d 4h`, `2h 5m`, `10m`, `40s`.
    static func span(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 86_400 { return "\(s / 86_400)d \(s % 86_400 / 3600)h" }
        if s >= 3600 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        if s >= 60 { return "\(s / 60)m" }
        return "\(s)s"
    }

    /// The allocator's decision as the item stores it (snake_case keys, ISO 8601 time); nil when none.
    static func decision(_ explanation: String) -> Allocator.Decision? {
        guard !explanation.isEmpty else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Allocator.Decision.self, from: Data(explanation.utf8))
    }
}
