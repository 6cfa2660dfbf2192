import DicomNetwork
import Foundation
import GatewayConfig
import GatewayReporting
import GatewayStore
import Logging
import ServiceLifecycle

/// Reviews the reporting worklist every `reporting.review_interval`, and at once when an item
/// is created or changed: reallocates allocated items that stalled (not started within `grace`,
/// their site unreachable or out of hours), allocates scheduled items (stat and urgent first,
/// then by deadline), escalates items at `escalate_at`, announces overdue items and finds
/// orphans. Idle when `reporting` has no rules.
struct WorklistService: Service {
    let coordinator: WorklistCoordinator
    let logger: Logger
    /// Studies received up to here have been checked for orphans (this run).
    private let watermark = Watermark()

    /// Only the cluster's leader allocates and reviews (always true for a node alone).
    let leadership: Leadership

    init(coordinator: WorklistCoordinator, leadership: Leadership = .alone(), logger: Logger) {
        self.coordinator = coordinator
        self.leadership = leadership
        self.logger = logger
    }

    func run() async throws {
        var last = Date.distantPast
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let plan = coordinator.holder.reporting
            let interval = plan.settings.reviewInterval.seconds
            let due = Date().timeIntervalSince(last) >= interval
            // A new item (or a claim, a report) wakes an allocation pass at once; the whole review
            // (stalls, escalation, deadlines, orphans) runs every review_interval.
            if plan.isEnabled && leadership.isLeader && (coordinator.takeWake() || due) {
                if due { last = Date() }
                do {
                    try await BlockingThread.run(name: "worklist-review") { [self] in try review(plan: plan, now: Date(), full: due) }
                } catch {
                    logger.error("worklist review failed; it runs again shortly", metadata: ["error": "\(error)"])
                }
            }
            try? await gracefulSleep(.milliseconds(100))
        }
    }

    /// One pass (`full`: everything; otherwise allocation only). Each change is its own
    /// transaction, so a failure leaves the rest for the next pass.
    func review(plan: ReportingPlan, now: Date, full: Bool = true) throws {
        let index = coordinator.index
        let allocator = Allocator(plan: plan)
        let time = WorklistCoordinator.timeOfDay(now)
        // The whole index at a full review; between them the coordinator's running account
        // (a woken pass must be quick: at 100,000 open items the sum takes ~30 ms).
        let current: [WorklistSiteLoad]
        if !full, let tracked = coordinator.worklistSiteLoads() {
            current = tracked
        } else {
            // A full review reads the index itself.
            current = try index.worklistSiteLoads()
            coordinator.setSiteLoads(current)
        }
        var loads: [String: Double] = [:]
        var failing = Set<String>()
        for load in current {
            loads[load.site] = load.openEffort
            if load.failingItems > 0 { failing.insert(load.site) }
        }
        if full { try reallocateStalled(plan: plan, allocator: allocator, loads: &loads, failing: failing, time: time, now: now) }
        // Every decision of the pass first (loads counted as they go), then one transaction.
        var decided: [WorklistCoordinator.Decided] = []
        for item in try index.worklistScheduled() {
            let started = DispatchTime.now().uptimeNanoseconds
            let decision = allocator.decide(WorklistCoordinator.request(item), loads: loads, failing: failing, at: time, now: now)
            guard let site = decision.chosen else {
                // Written only when the reason changes: a night of items waiting for a site's
                // hours costs no write per pass.
                if item.flag != decision.reason {
                    try index.flagWorklistItem(item.id, flag: decision.reason, explanation: decision.json, now: now)
                }
                continue
            }
            loads[site, default: 0] += item.effort
            decided.append(.init(item: item, site: site, explanation: decision.json, detail: decision.reason,
                                 decisionNanoseconds: DispatchTime.now().uptimeNanoseconds - started))
        }
        try coordinator.allocate(decided)
        guard full else { return }
        for item in try index.worklistDueForEscalation(now: now, fraction: plan.settings.escalateAt) {
            let moved = try index.escalateWorklistItem(item.id, now: now)
            logger.notice("worklist item escalated", metadata: [
                "item": "\(item.id)", "study_uid": "\(item.studyUID)", "deliveries_moved": "\(moved)"])
            if moved > 0, let site = item.site { coordinator.signal.notify(site) }
        }
        for item in try index.worklistNewlyOverdue(now: now) {
            try index.markWorklistOverdue(item.id, now: now)
            logger.warning("worklist item overdue", metadata: [
                "item": "\(item.id)", "study_uid": "\(item.studyUID)", "origin": "\(item.origin ?? "-")", "site": "\(item.site ?? "-")",
                "class": "\(CacheIndex.className(ofRank: item.priority))", "state": "\(item.state.rawValue)"])
        }
        try findOrphans(plan: plan, now: now)
    }

    private func reallocateStalled(plan: ReportingPlan, allocator: Allocator, loads: inout [String: Double], failing: Set<String>,
                                   time: TimeOfDay, now: Date) throws {
        let index = coordinator.index
        let grace = plan.settings.grace.seconds
        let working = plan.sites.filter { $0.isWorking(at: time) }.map(\.name)
        for (item, failingNow) in try index.worklistStalled(allocatedBefore: now.addingTimeInterval(-grace), workingSites: working,
                                                            allSites: plan.sites.map(\.name)) {
            guard let current = item.site else { continue }
            let why: String
            if plan.site(named: current) == nil {
                why = "\(current) is no longer a reporter site"
            } else if failingNow {
                why = "deliveries to \(current) are failing"
            } else if !working.contains(current) {
                why = "\(current) is outside its hours"
            } else if let allocated = item.allocatedAt, now.timeIntervalSince(allocated) >= grace {
                why = "not started at \(current) within \(Int(grace))s"
            } else {
                continue
            }
            var others = loads
            others[current, default: 0] -= item.effort
            let decision = allocator.decide(WorklistCoordinator.request(item, excluding: current), loads: others,
                                            failing: failing, at: time, now: now)
            guard let site = decision.chosen else {
                let flag = "\(why); no other site can take it: \(decision.reason)"
                if item.flag != flag { try index.flagWorklistItem(item.id, flag: flag, explanation: item.explanation, now: now) }
                continue
            }
            do {
                try coordinator.assign(item, to: site, explanation: decision.json, event: "reallocated", actor: "gateway",
                                       detail: "\(why); \(decision.reason)", notify: true, from: [.allocated])
                loads = others
                loads[site, default: 0] += item.effort
                logger.notice("worklist item reallocated", metadata: [
                    "item": "\(item.id)", "study_uid": "\(item.studyUID)", "from": "\(current)", "to": "\(site)", "why": "\(why)"])
            } catch let conflict as WorklistConflict {
                logger.debug("worklist item changed under the review", metadata: ["item": "\(item.id)", "detail": "\(conflict)"])
            }
        }
    }

    /// Reports not home within `orphan_after`, and studies with no item and no report after it.
    private func findOrphans(plan: ReportingPlan, now: Date) throws {
        let index = coordinator.index
        let cutoff = now.addingTimeInterval(-plan.settings.orphanAfter.seconds)
        for item in try index.worklistReportsNotReturned(reportedBefore: cutoff) {
            try index.markReportNotReturned(item.id, now: now)
            logger.warning("worklist orphan: the report has not reached the origin", metadata: [
                "item": "\(item.id)", "study_uid": "\(item.studyUID)", "origin": "\(item.origin ?? "-")"])
        }
        var after = watermark.value
        while true {
            let studies = try index.studiesWithoutReport(receivedAfter: after, upTo: cutoff, notReports: ReportObject.notReports, limit: 500)
            for study in studies {
                if let id = try index.recordOrphanStudy(studyUID: study.studyUID, origin: study.origin, arrivedAt: study.receivedAt,
                                                       orphanedAt: study.receivedAt.addingTimeInterval(plan.settings.orphanAfter.seconds), now: now) {
                    logger.warning("worklist orphan: a study matched no reporting rule and has no report", metadata: [
                        "item": "\(id)", "study_uid": "\(study.studyUID)", "origin": "\(study.origin ?? "-")"])
                }
                after = max(after, study.receivedAt)
            }
            if studies.count < 500 { break }
        }
        watermark.value = max(after, cutoff)
    }
}

/// The orphan watch's progress through the studies (this run; a restart checks all again once).
private final class Watermark: @unchecked Sendable {
    // Safe: only the review (one task at a time) reads and writes it, under `lock`.
    private let lock = NSLock()
    private var stored = Date.distantPast
    var value: Date {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
