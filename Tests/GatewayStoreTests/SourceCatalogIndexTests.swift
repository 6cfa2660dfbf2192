import Foundation
@testable import GatewayStore
import Testing

/// The catalog of what sources hold (scheduled pulls), on either engine.
@Suite struct SourceCatalogIndexTests {
    let dir: String
    let index: CacheIndex

    init() throws {
        dir = NSTemporaryDirectory() + "dgw-catalog-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        index = try TestIndex.open(TestIndex.place(root: dir, label: "catalog"))
    }

    func study(_ uid: String, instances: Int?) -> SourceStudy {
        var s = SourceStudy(source: "TRUST_A", studyUID: uid)
        s.patientID = "P1"
        s.numberOfInstances = instances
        return s
    }

    @Test func aCompleteStudyIsPulledAgainOnlyWhenTheSourceReportsMoreInstances() throws {
        try index.recordSourceStudies([study("1.1", instances: 2), study("1.2", instances: nil)])
        #expect(try index.studiesToPull(source: "TRUST_A").map(\.studyUID).sorted() == ["1.1", "1.2"])
        index.markSourceStudy(source: "TRUST_A", studyUID: "1.1", state: "fetching", priorityRank: 3)
        index.markSourceStudy(source: "TRUST_A", studyUID: "1.1", state: "complete")
        index.flush()
        let fetched = try #require(index.sourceStudy(source: "TRUST_A", studyUID: "1.1"))
        #expect(fetched.state == "complete" && fetched.attempts == 1 && fetched.priorityRank == 3,
                "no priority given keeps the one the fetch had")

        try index.recordSourceStudies([study("1.1", instances: 2)])
        #expect(index.sourceStudy(source: "TRUST_A", studyUID: "1.1")?.state == "complete", "the same count: nothing new")
        try index.recordSourceStudies([study("1.1", instances: 3)])
        #expect(index.sourceStudy(source: "TRUST_A", studyUID: "1.1")?.state == "known", "a growing study is pulled again")
        #expect(index.sourcesHolding(studyUID: "1.1").map(\.numberOfInstances) == [3])
        index.close()
    }
}
