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
    /// Records the order of retrieves; each takes `delay` seconds.
    final class ScriptedRetriever: SourceRetriever, @unchecked Sendable {
        // Safe: `order` is only touched under `lock`.
        let lock = NSLock()
        var order: [String] = []
        let delay: TimeInterval
        init(delay: TimeInterval) { self.delay = delay }

        func retrieveStudy(_ studyUID: String, from node: NodeConfig, method: PullMethod, priority: PriorityClass,
                           progress: @escaping @Sendable (SubOperationCounts) -> Void) throws -> SourceRetrieval {
            lock.withLock { order.append(studyUID) }
            Thread.sleep(forTimeInterval: delay)
            return SourceRetrieval(status: .success, counts: SubOperationCounts())
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
        #expect(retriever.order == ["1.2.3"])
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
        let retriever = ScriptedRetriever(delay: 0.2)
        let (fetcher, _) = try fetcher(retriever)
        for n in 1...4 { fetcher.enqueue(studyUID: "9.\(n)", from: "TRUST_A", priority: .bulk) }
        try await Task.sleep(for: .milliseconds(50))  // the first bulk fetch is running
        _ = try await OffPool.run { fetcher.fetch(studyUID: "9.stat", from: "TRUST_A", priority: .stat) }
        let order = retriever.lock.withLock { retriever.order }
        #expect(order.first == "9.1")
        #expect(order.firstIndex(of: "9.stat") == 1, "the stat fetch ran second, ahead of the queued bulk ones: \(order)")
        fetcher.stop()
    }
}
