import Foundation
import GatewayStore
import Hummingbird

/// `/api/v1/worklist`: the network reporting worklist. Reads come from the index; claim, release,
/// reassign and cancel go through the running gateway's ``WorklistControl`` (the allocator and
/// the delivery workers), which writes each change with its history and audit entry.
extension AdminAPI {
    /// Class names by rank, most urgent first (3 stat ... 0 bulk).
    static let worklistClasses = ["stat", "urgent", "routine", "bulk"]
    static let worklistListKeys: Set<String> = ["site", "skill", "state", "class", "origin", "overdue", "orphan", "study", "limit", "offset"]
    static let turnaroundWindows: [String: (seconds: Double, bucket: Int)] = ["24h": (86_400, 3600), "7d": (7 * 86_400, 21_600)]

    struct Claim: Decodable {
        var site: String?
        var reporter: String?
    }

    struct Reassign: Decodable {
        var site: String?
    }

    struct Reason: Decodable {
        var reason: String?
    }

    /// Which worklist action a POST asks for.
    enum WorklistAction: String {
        case claim, release, reassign, cancel
    }

    func addWorklistRoutes(to api: RouterGroup<AdminRequestContext>) {
        // Constant segments win over `:id` in Hummingbird's trie whatever the order; registered first all the same.
        api.get("/worklist") { request, _ in try await listWorklist(request) }
        api.get("/worklist/sites") { _, _ in try await worklistSites() }
        api.get("/worklist/summary") { _, _ in try await worklistSummary() }
        api.get("/worklist/turnaround") { request, _ in try await worklistTurnaround(request) }
        api.get("/worklist/:id") { _, context in try await worklistDetail(context.parameters.require("id")) }
        for action in [WorklistAction.claim, .release, .reassign, .cancel] {
            api.post("/worklist/:id/\(action.rawValue)") { request, context in
                try await changeWorklistItem(request, context.parameters.require("id"), action)
            }
        }
    }

    /// `?site=&skill=&state=a,b&class=&origin=&overdue=true&orphan=false&study=&limit=&offset=`.
    func listWorklist(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        if let unknown = q.map({ String($0.key) }).sorted().first(where: { !Self.worklistListKeys.contains($0) }) {
            throw BadRequest("unknown query parameter '\(unknown)'; /api/v1/worklist takes \(Self.worklistListKeys.sorted().joined(separator: ", "))")
        }
        func text(_ name: String) -> String? { q.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        var filter = WorklistFilter(site: text("site"), skill: text("skill"), origin: text("origin"), studyUID: text("study"))
        if let states = text("state") {
            filter.states = try states.split(separator: ",").map { name in
                guard let state = WorklistState(rawValue: String(name)) else {
                    throw BadRequest("unknown state '\(name)' in state=\(states); use \(WorklistState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return state
            }
        }
        if let name = text("class") {
            guard let position = Self.worklistClasses.firstIndex(of: name.lowercased()) else {
                throw BadRequest("unknown class '\(name)'; use \(Self.worklistClasses.joined(separator: ", "))")
            }
            filter.priorityRank = 3 - position
        }
        filter.overdue = try boolParameter(text("overdue"), "overdue")
        filter.orphan = try boolParameter(text("orphan"), "orphan")
        let limit = try integerParameter(request, "limit") ?? 100
        guard (1...1000).contains(limit) else { throw BadRequest("limit=\(limit) is out of range; use 1 to 1000 (default 100)") }
        let offset = try integerParameter(request, "offset") ?? 0
        guard offset >= 0 else { throw BadRequest("offset=\(offset) is negative; use 0 or more") }
        let now = Date()
        let patientData = control.configuration.http.patientData
        let (listings, total) = try await blocking { [index, filter] in
            try index.worklistListing(filter, now: now, limit: limit, offset: offset)
        }
        return try JSONResponse.ok(WorklistViews.Listing(
            items: listings.map { WorklistViews.Item(listing: $0, now: now, patientData: patientData) },
            total: total, limit: limit, offset: offset))
    }

    func worklistDetail(_ rawID: String) async throws -> Response {
        let id = try Self.worklistID(rawID)
        guard let listing = try await worklistListing(id) else {
            return JSONResponse.error(.notFound, "no worklist item \(id)")
        }
        let history = try await blocking { [index] in try index.worklistHistory(id: id) }
        let item = WorklistViews.Item(listing: listing, now: Date(), patientData: control.configuration.http.patientData)
        return try JSONResponse.ok(WorklistViews.Detail(item: item, history: history))
    }

    func worklistSites() async throws -> Response {
        let configured = control.worklist?.worklistSites() ?? []
        // The running gateway's account (read from the index at most 5 s ago), else the index.
        let loads = try await blocking { [index, control] in
            try control.worklist?.worklistSiteLoads() ?? index.worklistSiteLoads()
        }
        return try JSONResponse.ok(WorklistViews.Sites(sites: WorklistViews.Site.merge(configured, loads)))
    }

    func worklistSummary() async throws -> Response {
        let now = Date()
        let (counts, pending) = try await blocking { [index] in
            (try index.worklistCounts(now: now), try index.pendingWorklistNotifications())
        }
        return try JSONResponse.ok(WorklistViews.Summary(counts, notificationsPending: pending))
    }

    /// `?window=24h` (hourly buckets, the default) or `?window=7d` (6-hour buckets).
    func worklistTurnaround(_ request: Request) async throws -> Response {
        let window = request.uri.queryParameters.get("window").flatMap { $0.isEmpty ? nil : $0 } ?? "24h"
        guard let spec = Self.turnaroundWindows[window] else {
            throw BadRequest("unknown window '\(window)'; use 24h or 7d")
        }
        let since = Date().addingTimeInterval(-spec.seconds)
        let turnarounds = try await blocking { [index] in try index.worklistTurnarounds(since: since) }
        return try JSONResponse.ok(WorklistViews.Turnaround(window: window, bucketSeconds: spec.bucket, turnarounds: turnarounds))
    }

    /// claim `{"site", "reporter"}`, release `{"reason"}` (optional), reassign `{"site"}`, cancel
    /// `{"reason"}` (required). 200 with the item as it is now; 409 when its state forbids the
    /// change (the refusal is audited too); 403 when the site's `allow` leaves out worklist
    /// (audited as a security alert); 503 when the gateway runs without the worklist.
    func changeWorklistItem(_ request: Request, _ rawID: String, _ action: WorklistAction) async throws -> Response {
        let id = try Self.worklistID(rawID)
        var site: String?
        var reporter = ""
        var reason = ""
        switch action {
        case .claim:
            let body = try await JSONResponse.body(request, as: Claim.self, keys: ["site", "reporter"])
            site = body.site
            reporter = body.reporter ?? ""
        case .reassign:
            site = try await JSONResponse.body(request, as: Reassign.self, keys: ["site"]).site
        case .release:
            reason = try await JSONResponse.body(request, as: Reason.self, keys: ["reason"]).reason ?? ""
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { reason = "released through the HTTP API" }
        case .cancel:
            reason = try await JSONResponse.body(request, as: Reason.self, keys: ["reason"]).reason ?? ""
            if reason.trimmingCharacters(in: .whitespaces).isEmpty {
                throw BadRequest("a cancel needs a reason: {\"reason\": \"why nobody needs to report it\"}")
            }
        }
        if action == .claim || action == .reassign, (site ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw BadRequest("a \(action.rawValue) needs a site: {\"site\": \"NAME\"} naming a reporter site (see /api/v1/worklist/sites)")
        }
        guard let worklist = control.worklist else {
            return JSONResponse.error(.serviceUnavailable,
                                      "the reporting worklist is not running in this gateway (it runs when reporting.rules has rules), so items cannot be changed")
        }
        guard let before = try await blocking({ [index] in try index.worklistItem(id: id) }) else {
            return JSONResponse.error(.notFound, "no worklist item \(id)")
        }
        // A site whose allow list leaves out worklist takes no items by claim or reassignment.
        if let site, let refusal = control.configuration.access.worklistClaim(site: site) {
            index.audit(AuditRecord(event: "security-alert", actor: Self.actor, studyUID: before.studyUID,
                                    outcome: refusal.reason.rawValue, detail: "\(action.rawValue) of item \(id): \(refusal.detail)"))
            logger.notice("worklist change refused: the site may not take part in the worklist", metadata: [
                "item": "\(id)", "action": "\(action.rawValue)", "site": "\(site)"])
            return JSONResponse.error(.forbidden, refusal.detail)
        }
        do {
            _ = try await blocking { [site, reporter, reason] in
                switch action {
                case .claim: try worklist.claimWorklistItem(id, site: site!, reporter: reporter, actor: Self.actor)
                case .release: try worklist.releaseWorklistItem(id, actor: Self.actor, reason: reason)
                case .reassign: try worklist.reassignWorklistItem(id, site: site!, actor: Self.actor)
                case .cancel: try worklist.cancelWorklistItem(id, actor: Self.actor, reason: reason)
                }
            }
        } catch let conflict as WorklistConflict {
            let target = site.map { " to \($0)" } ?? ""
            index.audit(AuditRecord(event: "worklist", actor: Self.actor, studyUID: before.studyUID, outcome: "refused",
                                    detail: String("\(action.rawValue) of item \(id)\(target) refused: \(conflict.message)".prefix(2000))))
            logger.notice("worklist change refused", metadata: [
                "item": "\(id)", "action": "\(action.rawValue)", "site": "\(site ?? "")", "state": "\(conflict.state.rawValue)"])
            return JSONResponse.error(.conflict, conflict.message)
        } catch let bad as WorklistRequestError {
            return JSONResponse.error(bad.kind == .notFound ? .notFound : .badRequest, bad.message)
        }
        logger.notice("worklist item changed through the HTTP API", metadata: [
            "item": "\(id)", "action": "\(action.rawValue)", "site": "\(site ?? before.site ?? "")"])
        guard let listing = try await worklistListing(id) else {
            return JSONResponse.error(.notFound, "no worklist item \(id)")
        }
        return try JSONResponse.ok(WorklistViews.Item(listing: listing, now: Date(), patientData: control.configuration.http.patientData))
    }

    /// The item with its study's attributes.
    func worklistListing(_ id: Int64) async throws -> WorklistListing? {
        try await blocking { [index] in try index.worklistListing(id: id) }
    }

    static func worklistID(_ raw: String) throws -> Int64 {
        guard let id = Int64(raw) else { throw BadRequest("worklist item id '\(raw)' is not a whole number") }
        return id
    }
}

/// `true`/`false` (nil when absent); anything else is a 400 naming the parameter.
func boolParameter(_ raw: String?, _ name: String) throws -> Bool? {
    switch raw?.lowercased() {
    case nil: nil
    case "true": true
    case "false": false
    default: throw BadRequest("query parameter \(name)=\(raw!) must be true or false")
    }
}
