import DicomCore
import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayReporting
import GatewayRouting
import GatewayStore
import Logging

/// The worklist's actions on the running gateway: allocation decisions written with their
/// deliveries, and the claims, releases, reassignments and cancellations of sites and operators.
/// The review (`WorklistService`) and the HTTP API both go through it.
final class WorklistCoordinator: WorklistControl, @unchecked Sendable {
    // Safe: every stored property is immutable and thread-safe; `wakeFlag`, `loads` and `loadsReadAt` are touched only under `lock`.
    let holder: ConfigurationHolder
    let index: CacheIndex
    let signal: DeliverySignal
    let logger: Logger
    private let lock = NSLock()
    private var wakeFlag = false
    /// Recent studies' items, for the ingest path.
    let studies = WorklistStudies()
    /// Each site's open work: read from the index at most `loadsMaxAge` ago (and by every full
    /// review), adjusted by every change made here since. An item closed by a report, or a row
    /// written by another process, shows within `loadsMaxAge`.
    private var loads: [String: WorklistSiteLoad]?
    private var loadsReadAt = Date.distantPast
    static let loadsMaxAge: TimeInterval = 5

    /// The sites' open work (blocking: may read the index).
    func worklistSiteLoads() -> [WorklistSiteLoad]? {
        lock.lock()
        let tracked = Date().timeIntervalSince(loadsReadAt) < Self.loadsMaxAge ? loads : nil
        lock.unlock()
        if let tracked { return tracked.values.sorted { $0.site < $1.site } }
        guard let fresh = try? index.worklistSiteLoads() else { return nil }
        setSiteLoads(fresh)
        return fresh
    }

    func setSiteLoads(_ fresh: [WorklistSiteLoad]) {
        lock.lock()
        loads = Dictionary(uniqueKeysWithValues: fresh.map { ($0.site, $0) })
        loadsReadAt = Date()
        lock.unlock()
    }

    /// An item of `effort` left `from` (if it was open there) and/or went to `to`.
    private func moveLoad(_ effort: Double, from: String?, to: String?) {
        lock.lock()
        defer { lock.unlock() }
        guard loads != nil else { return }
        if let from { loads![from]?.openEffort -= effort; loads![from]?.openItems -= 1 }
        if let to {
            loads![to, default: WorklistSiteLoad(site: to, openEffort: 0, openItems: 0, failingItems: 0)].openEffort += effort
            loads![to]!.openItems += 1
        }
    }

    init(holder: ConfigurationHolder, index: CacheIndex, signal: DeliverySignal, logger: Logger) {
        self.holder = holder
        self.index = index
        self.signal = signal
        self.logger = logger
    }

    /// Asks the review to run soon (a new item, a report, a claim).
    func wake() {
        lock.lock()
        wakeFlag = true
        lock.unlock()
    }

    /// True once after `wake()`.
    func takeWake() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let woken = wakeFlag
        wakeFlag = false
        return woken
    }

    static func timeOfDay(_ date: Date) -> TimeOfDay {
        TimeOfDay.local(at: date)
    }

    /// The allocator's request for an item.
    static func request(_ item: WorklistItem, excluding: String? = nil) -> Allocator.Request {
        Allocator.Request(skill: item.skill, effort: item.effort, origin: item.origin, passedOver: Set(item.passedOverSites),
                          excluding: excluding)
    }

    /// Writes a decision: the item goes to `site`, its images follow at the item's class.
    @discardableResult
    func assign(_ item: WorklistItem, to site: String, explanation: String, event: String, actor: String, detail: String,
                reporter: String? = nil, notify: Bool = false, from states: Set<WorklistState>,
                started: UInt64 = DispatchTime.now().uptimeNanoseconds) throws -> WorklistItem {
        let (assignment, push) = makeAssignment(item, to: site, explanation: explanation, event: event, actor: actor,
                                                detail: detail, reporter: reporter, notify: notify)
        let updated = try index.assignWorklistItem(item.id, assignment, from: states)
        didAssign(item, updated, push: push, event: event, detail: detail,
                  seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, batch: 1)
        return updated
    }

    /// One allocation decided by the review: the item, the site and why, and when deciding began.
    struct Decided {
        var item: WorklistItem
        var site: String
        var explanation: String
        var detail: String
        /// Nanoseconds the decision took.
        var decisionNanoseconds: UInt64
    }

    /// The review's allocations of one pass in one durable transaction (one fsync for all). Each
    /// one's time is its decision plus its share of the write. Items changed meanwhile are skipped.
    func allocate(_ batch: [Decided]) throws {
        guard !batch.isEmpty else { return }
        let prepared = batch.map { d in
            makeAssignment(d.item, to: d.site, explanation: d.explanation, event: "allocated", actor: "gateway", detail: d.detail,
                           reporter: nil, notify: false)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let results = try index.assignWorklistItems(zip(batch, prepared).map { ($0.0.item.id, $0.1.assignment) }, from: [.scheduled])
        let share = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(batch.count)
        for ((decided, prepared), result) in zip(zip(batch, prepared), results) {
            switch result {
            case .success(let updated):
                didAssign(decided.item, updated, push: prepared.push, event: "allocated", detail: decided.detail,
                          seconds: (Double(decided.decisionNanoseconds) + share) / 1e9, batch: batch.count)
            case .failure(let error):
                logger.debug("worklist item changed under the review", metadata: ["item": "\(decided.item.id)", "detail": "\(error)"])
            }
        }
    }

    private func makeAssignment(_ item: WorklistItem, to site: String, explanation: String, event: String, actor: String,
                                detail: String, reporter: String?, notify: Bool) -> (assignment: WorklistAssignment, push: Bool) {
        let configuration = holder.current
        let node = configuration.node(named: site)
        let onDemand = node?.reporting?.onDemand ?? true
        let push = !onDemand && node?.address != nil && node?.hasRole(.destination) == true
        let audience = NetworkIdentity.audience(node: site, nodeIssuer: node?.issuer,
                                                studyOrigins: Set([item.origin].compactMap { $0 }), patientIssuer: item.issuer)
        return (WorklistAssignment(
            site: site, pushImages: push, edits: audience == .origin ? item.originEdits : item.networkEdits,
            explanation: explanation, event: event, actor: actor, detail: detail, reporter: reporter, notify: notify), push)
    }

    /// After a durable allocation: the ingest path's memory, the site loads, the site's workers,
    /// the timing (scripts/bench/worklist reads took_ms) and the log.
    private func didAssign(_ item: WorklistItem, _ updated: WorklistItem, push: Bool, event: String, detail: String,
                           seconds: Double, batch: Int) {
        let site = updated.site ?? ""
        studies.remember(item.studyUID, .init(rank: updated.priority, site: site, pushImages: push))
        moveLoad(item.effort, from: item.state == .allocated || item.state == .inProgress ? item.site : nil, to: site)
        if push { signal.notify(site) }
        GatewayMetrics.worklistAllocation(event: event, seconds: seconds)
        logger.info("worklist item \(event)", metadata: [
            "took_ms": "\(String(format: "%.3f", seconds * 1000))", "batch": "\(batch)",
            "item": "\(item.id)", "study_uid": "\(item.studyUID)", "site": "\(site)", "class": "\(CacheIndex.className(ofRank: item.priority))",
            "previous_site": "\(item.site ?? "-")", "detail": "\(detail)"])
    }

    // MARK: WorklistControl

    func claimWorklistItem(_ id: Int64, site: String, reporter: String, actor: String) throws -> WorklistItem {
        let item = try existing(id)
        try requireSite(site)
        if item.state == .inProgress && item.site == site { return item }
        let explanation = Self.manual(site, "claimed by \(reporter.isEmpty ? site : "\(reporter) at \(site)")")
        let updated = try assign(item, to: site, explanation: item.site == site ? "" : explanation, event: "claimed", actor: actor,
                                 detail: reporter.isEmpty ? "" : "by \(reporter)", reporter: reporter,
                                 from: [.scheduled, .allocated])
        wake()
        return updated
    }

    func releaseWorklistItem(_ id: Int64, actor: String, reason: String) throws -> WorklistItem {
        let before = try existing(id)
        try index.releaseWorklistItem(id, actor: actor, reason: reason.isEmpty ? "released" : reason)
        wake()
        let item = try existing(id)
        studies.remember(item.studyUID, .init(rank: item.priority, site: nil, pushImages: false))
        moveLoad(item.effort, from: before.site, to: nil)
        return item
    }

    func reassignWorklistItem(_ id: Int64, site: String, actor: String) throws -> WorklistItem {
        let item = try existing(id)
        try requireSite(site)
        let updated = try assign(item, to: site, explanation: Self.manual(site, "reassigned by \(actor)"), event: "reassigned",
                                 actor: actor, detail: "by \(actor)", from: [.scheduled, .allocated, .inProgress])
        wake()
        return updated
    }

    func cancelWorklistItem(_ id: Int64, actor: String, reason: String) throws -> WorklistItem {
        let before = try existing(id)
        try index.cancelWorklistItem(id, actor: actor, reason: reason)
        let item = try existing(id)
        studies.remember(item.studyUID, .init(rank: item.priority, site: nil, pushImages: false))
        if before.state == .allocated || before.state == .inProgress { moveLoad(item.effort, from: before.site, to: nil) }
        return item
    }

    func worklistSites() -> [WorklistSiteView] {
        let now = Self.timeOfDay(Date())
        return holder.reporting.sites.map { site in
            WorklistSiteView(site: site.name, skills: site.skills.sorted(), capacity: site.capacity, hours: site.hours.map { "\($0)" },
                             inHoursNow: site.isWorking(at: now), onDemand: site.onDemand, organisation: site.organisation)
        }
    }

    private func existing(_ id: Int64) throws -> WorklistItem {
        guard let item = try index.worklistItem(id: id) else { throw WorklistRequestError(.notFound, "worklist item \(id) does not exist") }
        return item
    }

    private func requireSite(_ site: String) throws {
        guard holder.reporting.site(named: site) != nil else {
            let known = holder.reporting.sites.map(\.name).joined(separator: ", ")
            throw WorklistRequestError(.badRequest, "'\(site)' is not a reporter site (a node with a reporting: key); known: \(known.isEmpty ? "none" : known)")
        }
    }

    /// The explanation of a decision a person made.
    static func manual(_ site: String, _ reason: String) -> String {
        Allocator.Decision(chosen: site, reason: reason, candidates: [], decidedAt: Date()).json
    }
}
