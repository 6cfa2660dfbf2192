import DicomCore
import Foundation
import GatewayConfig
import GatewayStore
import Logging
import ServiceLifecycle

/// Asks every source with a `pull:` section, every `interval`, which studies it holds over the
/// look-back window (with the configured filters), remembers them in the catalog, and queues a
/// fetch for each study not (completely) cached, at the class the `priorities` rules give it.
/// A study still growing at the source is fetched again at the next poll. A source that does
/// not answer is asked again with back-off (5 s doubling up to its interval), on its own, so
/// the others are not held up.
public struct PullScheduler: Service {
    let configuration: @Sendable () -> GatewayConfiguration
    let index: CacheIndex
    let querier: SourceQuerier
    let fetcher: StudyFetcher
    /// The class of a study from its study-level attributes (the `priorities` rules).
    let classify: @Sendable (DicomAttributes) -> PriorityClass
    let logger: Logger
    /// Only the cluster's leader polls the sources (always true for a node alone).
    let leadership: Leadership

    public init(configuration: @escaping @Sendable () -> GatewayConfiguration, index: CacheIndex, querier: SourceQuerier,
                fetcher: StudyFetcher, classify: @escaping @Sendable (DicomAttributes) -> PriorityClass,
                leadership: Leadership = .alone(), logger: Logger) {
        self.leadership = leadership
        self.configuration = configuration
        self.index = index
        self.querier = querier
        self.fetcher = fetcher
        self.classify = classify
        self.logger = logger
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            var running: Set<String> = []
            var term = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                // Each time this node becomes the leader (at start when alone), the fetches the last
                // leader was making when it stopped or died go back to the queue.
                if leadership.isLeader, leadership.term != term {
                    term = leadership.term
                    do {
                        try index.resetInterruptedFetches()
                    } catch {
                        logger.error("pull: cannot reset fetches interrupted by the last stop", metadata: ["error": "\(error)"])
                    }
                }
                let wanted = Set(configuration().nodes.filter { $0.pull != nil && $0.address != nil }.map(\.name))
                for name in wanted.subtracting(running) {
                    running.insert(name)
                    group.addTask { await self.loop(source: name) }
                }
                try? await Task.sleep(for: .seconds(2))
                running.formIntersection(wanted)
            }
            fetcher.stop()
            group.cancelAll()
        }
    }

    /// Polls one source until it leaves the configuration or the gateway stops.
    private func loop(source: String) async {
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            guard let node = configuration().node(named: source), let pull = node.pull, node.address != nil else { return }
            guard leadership.isLeader else {
                await pause(1)
                continue
            }
            if await poll(node) {
                failures = 0
                await pause(pull.interval.seconds)
            } else {
                failures += 1
                await pause(min(pull.interval.seconds, 5 * pow(2, Double(failures - 1))))
            }
        }
    }

    /// Sleeps, waking early for shutdown.
    private func pause(_ seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(Int(min(500, max(1, deadline.timeIntervalSinceNow * 1000)))))
        }
    }

    /// One poll of one source (off the cooperative pool); true when the source answered.
    func poll(_ node: NodeConfig) async -> Bool {
        guard let pull = node.pull else { return true }
        var keys = SourceQueryKeys.study(pull.filters)
        if pull.filters[.studyDate] == nil {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd"
            formatter.locale = Locale(identifier: "en_US_POSIX")
            let from = Date().addingTimeInterval(-Double(pull.lookbackDays - 1) * 86_400)
            keys[.studyDate] = formatter.string(from: from) + "-"
        }
        let querier = self.querier
        let query = keys
        let matches: [DicomAttributes]
        do {
            matches = try await OffPool.run { try querier.findStudies(at: node, keys: query) }
        } catch {
            logger.warning("pull: source did not answer; asking again with back-off",
                           metadata: ["source": "\(node.name)", "error": "\(error)"])
            return false
        }
        let studies = matches.compactMap { SourceStudy(source: node.name, match: $0) }
        do {
            try index.recordSourceStudies(studies)
            let missing = try index.studiesToPull(source: node.name)
            for study in missing {
                fetcher.enqueue(studyUID: study.studyUID, from: node.name, priority: classify(study.attributes))
            }
            logger.info("pull: source polled", metadata: ["source": "\(node.name)", "studies": "\(studies.count)",
                                                          "to_fetch": "\(missing.count)"])
        } catch {
            logger.error("pull: catalog update failed", metadata: ["source": "\(node.name)", "error": "\(error)"])
            return false
        }
        return true
    }
}

/// Runs blocking work on a thread of its own, never on Swift's cooperative pool.
enum OffPool {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
