import DicomCore
import Foundation
import GatewayConfig
import GatewayStore
import Logging

/// Fetches whole studies from sources into the cache, one fetch per study however many ask
/// (a reporter's pull-through and a background pull of the same study share it), highest
/// priority first per source. Each source has two workers: one takes anything, the other only
/// stat and urgent fetches, so a pull-through never waits behind a long background pull.
public final class StudyFetcher: Sendable {
    /// How a fetch ended, as seen in the cache afterwards.
    public enum Outcome: Sendable, Equatable {
        /// The cache holds at least as many instances as the source reported.
        case complete(cached: Int)
        /// The source answered but the cache holds fewer than it reported.
        case incomplete(cached: Int, expected: Int, detail: String)
        /// The source could not be reached or refused.
        case failed(String)
    }

    /// The configuration (read per fetch, so a reload applies), and where the work goes.
    let configuration: @Sendable () -> GatewayConfiguration
    let index: CacheIndex
    let retriever: SourceRetriever
    let logger: Logger
    private let state = FetchState()

    public init(configuration: @escaping @Sendable () -> GatewayConfiguration, index: CacheIndex, retriever: SourceRetriever,
                logger: Logger) {
        self.configuration = configuration
        self.index = index
        self.retriever = retriever
        self.logger = logger
    }

    /// Queues a fetch (or raises the priority of the one already queued) without waiting.
    public func enqueue(studyUID: String, from source: String, priority: PriorityClass) {
        _ = job(studyUID: studyUID, source: source, priority: priority)
    }

    /// Fetches the study and waits for the outcome. `heartbeat` is called about every
    /// `heartbeatInterval` seconds while waiting; return false to stop waiting (the fetch goes on).
    public func fetch(studyUID: String, from source: String, priority: PriorityClass, heartbeatInterval: TimeInterval = 2,
                      heartbeat: () -> Bool = { true }) -> Outcome? {
        let job = job(studyUID: studyUID, source: source, priority: priority)
        while true {
            if let outcome = state.wait(for: job, timeout: heartbeatInterval) { return outcome }
            if !heartbeat() { return nil }
        }
    }

    /// Stops the workers after their current fetch; waiting callers get `.failed`.
    public func stop() {
        state.stop()
    }

    /// Number of fetches started so far per study (tests check a study is fetched once).
    public func fetchCount(studyUID: String) -> Int { state.started(studyUID) }

    private func job(studyUID: String, source: String, priority: PriorityClass) -> FetchState.Job {
        let (job, isNew, needsWorkers) = state.request(studyUID: studyUID, source: source, rank: priority.rank)
        if isNew {
            index.markSourceStudy(source: source, studyUID: studyUID, state: "queued", priorityRank: priority.rank)
        }
        if needsWorkers {
            for lane in [0, 2] {
                let thread = Thread { [self] in self.work(source: source, minimumRank: lane) }
                thread.name = "fetch-\(source)"
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
        return job
    }

    private func work(source: String, minimumRank: Int) {
        while let job = state.next(source: source, minimumRank: minimumRank) {
            let outcome = run(job)
            state.finish(job, outcome)
        }
    }

    private func run(_ job: FetchState.Job) -> Outcome {
        let configuration = configuration()
        var log = logger
        log[metadataKey: "source"] = "\(job.source)"
        log[metadataKey: "study_instance_uid"] = "\(job.studyUID)"
        guard let node = configuration.node(named: job.source), node.address != nil else {
            index.markSourceStudy(source: job.source, studyUID: job.studyUID, state: "failed", error: "source not configured")
            return .failed("source \(job.source) is not configured with an address")
        }
        let priority = PriorityClass.allCases.first { $0.rank == job.rank } ?? .routine
        // In a cluster, one node fetches a study however many nodes are asked for it.
        if let elsewhere = waitForOtherNode(job, log: log) { return elsewhere }
        defer { index.releaseFetch(studyUID: job.studyUID) }
        index.markSourceStudy(source: job.source, studyUID: job.studyUID, state: "fetching", priorityRank: job.rank)
        log.info("fetching study from source", metadata: ["priority": "\(priority.rawValue)"])
        let started = Date()
        let result: SourceRetrieval
        do {
            result = try retriever.retrieveStudy(job.studyUID, from: node, method: node.pull?.method ?? .move, priority: priority) { _ in }
        } catch {
            log.warning("fetch failed: source unreachable or refused", metadata: ["error": "\(error)"])
            index.markSourceStudy(source: job.source, studyUID: job.studyUID, state: "failed", error: "\(error)")
            return .failed("\(error)")
        }
        index.flush()
        let cached = index.cachedInstanceCount(studyUID: job.studyUID)
        let reported = index.sourceStudy(source: job.source, studyUID: job.studyUID)?.numberOfInstances
        let expected = max(reported ?? 0, result.counts.completed + result.counts.warning + result.counts.failed)
        let seconds = String(format: "%.2f", Date().timeIntervalSince(started))
        if cached >= max(expected, 1) && result.status.category != .failure {
            log.info("study fetched", metadata: ["instances": "\(cached)", "seconds": "\(seconds)"])
            index.markSourceStudy(source: job.source, studyUID: job.studyUID, state: "complete")
            index.audit(AuditRecord(event: "pull", actor: job.source, studyUID: job.studyUID, outcome: "complete",
                                    detail: "\(cached) instances at \(priority.rawValue) priority in \(seconds) s"))
            return .complete(cached: cached)
        }
        let detail = "source answered \(result.status) (\(result.counts)) \(result.errorComment)"
        log.warning("study fetched incompletely", metadata: ["cached": "\(cached)", "expected": "\(expected)", "detail": "\(detail)"])
        index.markSourceStudy(source: job.source, studyUID: job.studyUID, state: "failed", error: detail)
        index.audit(AuditRecord(event: "pull", actor: job.source, studyUID: job.studyUID, outcome: "incomplete",
                                detail: "\(cached) of \(expected) instances; \(detail)"))
        return .incomplete(cached: cached, expected: expected, detail: detail)
    }
}

extension StudyFetcher {
    /// Takes the study's cluster-wide fetch claim, waiting while another node holds it. Returns nil
    /// when this node is to fetch (it holds the claim, or the index cannot say: a second fetch is
    /// better than none), or the outcome of the other node's fetch when it completed the study.
    func waitForOtherNode(_ job: FetchState.Job, log: Logger) -> Outcome? {
        var waitedFor: String?
        while true {
            let claim: CacheIndex.FetchClaim
            do {
                claim = try index.claimFetch(studyUID: job.studyUID)
            } catch {
                log.warning("cannot take the study's fetch claim in the index; fetching it here", metadata: ["error": "\(error)"])
                return nil
            }
            switch claim {
            case .ours:
                guard let other = waitedFor else { return nil }
                // The other node finished (or died): use its fetch if it completed the study.
                if index.sourceStudy(source: job.source, studyUID: job.studyUID)?.state == "complete" {
                    index.releaseFetch(studyUID: job.studyUID)
                    let cached = index.cachedInstanceCount(studyUID: job.studyUID)
                    log.info("study fetched by another node of the cluster", metadata: ["node": "\(other)", "instances": "\(cached)"])
                    return .complete(cached: cached)
                }
                return nil
            case .heldBy(let other):
                if waitedFor == nil {
                    log.info("another node of the cluster is fetching this study; waiting for it", metadata: ["node": "\(other)"])
                }
                waitedFor = other
                if state.isStopped { return .failed("the gateway is stopping") }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
    }
}

/// The fetch queue and its waiters, under one condition variable.
final class FetchState: @unchecked Sendable {
    // Safe: every field is only read or written while holding `condition`.
    final class Job: @unchecked Sendable {
        // Safe: mutable fields are only touched under FetchState.condition.
        let studyUID: String
        let source: String
        let sequence: Int
        var rank: Int
        var outcome: StudyFetcher.Outcome?
        var running = false

        init(studyUID: String, source: String, rank: Int, sequence: Int) {
            self.studyUID = studyUID
            self.source = source
            self.rank = rank
            self.sequence = sequence
        }
    }

    private let condition = NSCondition()
    private var active: [String: Job] = [:]          // by study UID, until finished
    private var queued: [String: [Job]] = [:]        // by source
    private var sources: Set<String> = []            // sources with workers
    private var starts: [String: Int] = [:]
    private var sequence = 0
    private var stopped = false

    /// The job for a study (an existing one is shared, its priority raised); whether it is new,
    /// and whether the source needs workers started.
    func request(studyUID: String, source: String, rank: Int) -> (Job, Bool, Bool) {
        condition.lock()
        defer { condition.unlock() }
        if let job = active[studyUID] {
            if rank > job.rank { job.rank = rank }
            condition.broadcast()
            return (job, false, false)
        }
        sequence += 1
        let job = Job(studyUID: studyUID, source: source, rank: rank, sequence: sequence)
        active[studyUID] = job
        queued[source, default: []].append(job)
        let needsWorkers = sources.insert(source).inserted
        condition.broadcast()
        return (job, true, needsWorkers)
    }

    /// Blocks until a job of at least `minimumRank` is queued for `source`; nil after `stop()`.
    func next(source: String, minimumRank: Int) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            let candidates = (queued[source] ?? []).filter { $0.rank >= minimumRank }
            if let job = candidates.max(by: { ($0.rank, -$0.sequence) < ($1.rank, -$1.sequence) }) {
                queued[source]?.removeAll { $0 === job }
                job.running = true
                starts[job.studyUID, default: 0] += 1
                return job
            }
            condition.wait()
        }
        return nil
    }

    func finish(_ job: Job, _ outcome: StudyFetcher.Outcome) {
        condition.lock()
        job.outcome = outcome
        active.removeValue(forKey: job.studyUID)
        condition.broadcast()
        condition.unlock()
    }

    /// The job's outcome, waiting at most `timeout`; nil if still running.
    func wait(for job: Job, timeout: TimeInterval) -> StudyFetcher.Outcome? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while job.outcome == nil && !stopped {
            if !condition.wait(until: deadline) { break }
        }
        if job.outcome == nil && stopped { return .failed("the gateway is stopping") }
        return job.outcome
    }

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    func started(_ studyUID: String) -> Int {
        condition.lock()
        defer { condition.unlock() }
        return starts[studyUID] ?? 0
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
