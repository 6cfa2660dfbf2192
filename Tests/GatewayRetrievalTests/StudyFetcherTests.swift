import DicomCore
import Foundation
import GatewayConfig
@testable import GatewayRetrieval
import GatewayStore
import Logging
import Testing

/// The fetch queue's rules, with a scripted retriever (the real C-MOVE path is covered by the
/// Orthanc integration tests): one fetch per study however many ask; stat before bulk.
@Suite struct StudyFetcherTests {
    /// Records the order of retrieves; each takes `delay` seconds, and those `held` wait for
    /// `release()` first.
    final class ScriptedRetriever: SourceRetriever, @unchecked Sendable {
        // Safe: `order` and `open` are only touched under `condition`.
        let condition = NSCondition()
        var order: [String] = []
        var open = false
        let delay: TimeInterval
        let held: Set<String>
        init(delay: TimeInterval, held: Set<String> = []) {
            self.delay = delay
            self.held = held
        }

        func retrieveStudy(_ studyUID: String, from node: NodeConfig, method: PullMethod, priority: PriorityClass,
                           progress: @escaping @Sendable (SubOperationCounts) -> Void) throws -> SourceRetrieval {
            condition.lock()
            order.append(studyUID)
            condition.broadcast()
            while held.contains(studyUID) && !open { condition.wait() }
            condition.unlock()
            Thread.sleep(forTimeInterval: delay)
            return SourceRetrieval(status: .success, counts: SubOperationCounts())
        }

        var orderNow: [String] { condition.withLock { order } }

        /// Waits until `predicate` holds for the order so far (true) or 10 s pass (false).
        func waitUntil(_ predicate: ([String]) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(10)
            condition.lock()
            defer { condition.unlock() }
            while !predicate(order) { if !condition.wait(until: deadline) { return predicate(order) } }
            return true
        }

        func release() {
            condition.lock()
            open = true
            condition.broadcast()
            condition.unlock()
        }
    }

    func fetcher(_ retriever: ScriptedRetriever) throws -> (StudyFetcher, CacheIndex) {
        let dir = NSTemporaryDirectory() + "dgw-fetch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let index = try CacheIndex(path: dir + "/index.sqlite")
        var configuration = GatewayConfiguration(baseDirectory: URL(fileURLWithPath: dir))
        configuration.nodes = [NodeConfig(name: "TRUST_A", aeTitle: "TRUSTA", host: "127.0.0.1", port: 104, roles: [.source])]
        let fixed = configuration
        return (StudyFetcher(configuration: { fixed }, index: index, retriever: retriever, logger: Logger(label: "test")), index)
    }

    @Test func concurrentRequestsForOneStudyShareOneFetch() async throws {
        let retriever = ScriptedRetriever(delay: 0.3)
        let (fetcher, _) = try fetcher(retriever)
        let outcomes = await withTaskGroup(of: StudyFetcher.Outcome?.self) { group in
            for _ in 0..<3 {
                group.addTask { try? await OffPool.run { fetcher.fetch(studyUID: "1.2.3", from: "TRUST_A", priority: .stat) } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(retriever.orderNow == ["1.2.3"])
        #expect(fetcher.fetchCount(studyUID: "1.2.3") == 1)
        // The scripted source sends nothing: all three callers hear the same honest outcome.
        #expect(outcomes.count == 3)
        #expect(Set(outcomes.map { "\(String(describing: $0))" }).count == 1, "\(outcomes)")
        guard case .incomplete(cached: 0, expected: 0, _)? = outcomes.first else {
            Issue.record("expected an incomplete outcome with nothing cached, got \(outcomes)")
            return
        }
        fetcher.stop()
    }

    @Test func statFetchGoesBeforeQueuedBulkFetchesOfTheSameSource() async throws {
        // The bulk fetches hold until released: the stat one must not wait for them.
        let retriever = ScriptedRetriever(delay: 0, held: ["9.1", "9.2", "9.3", "9.4"])
        let (fetcher, _) = try fetcher(retriever)
        for n in 1...4 { fetcher.enqueue(studyUID: "9.\(n)", from: "TRUST_A", priority: .bulk) }
        #expect(retriever.waitUntil { $0 == ["9.1"] }, "the first bulk fetch did not start: \(retriever.orderNow)")
        let deadline = Date().addingTimeInterval(10)
        let stat = try await OffPool.run {
            fetcher.fetch(studyUID: "9.stat", from: "TRUST_A", priority: .stat, heartbeatInterval: 0.2, heartbeat: { Date() < deadline })
        }
        #expect(stat != nil, "the stat fetch waited behind a running bulk fetch")
        #expect(retriever.orderNow == ["9.1", "9.stat"], "the stat fetch ran second, ahead of the queued bulk ones")
        retriever.release()
        #expect(retriever.waitUntil { $0.count == 5 })
        #expect(retriever.orderNow == ["9.1", "9.stat", "9.2", "9.3", "9.4"])
        fetcher.stop()
    }
}
