import DicomCore
import Foundation
@testable import GatewayStore
import Testing

/// What operators, priors, identities, audit and quarantine read and write in the index, on
/// either engine (DICOM_GATEWAY_TEST_INDEX=postgres runs it on PostgreSQL).
@Suite struct OperatorIndexQueriesTests {
    let dir: String
    let index: CacheIndex

    init() throws {
        dir = NSTemporaryDirectory() + "dgw-operator-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        index = try TestIndex.open(TestIndex.place(root: dir, label: "operator"))
    }

    /// Files instance `n` of `study` (one series) from `node`, with deliveries to `destinations` at `rank`.
    func ingest(study: String, n: Int, node: String = "TRUST_A", patientID: String = "P1", destinations: [String] = ["HUB"],
                rank: Int = 1) throws {
        var a = DicomAttributes()
        a[.studyInstanceUID] = study
        a[.seriesInstanceUID] = study + ".1"
        a[.sopInstanceUID] = "\(study).1.\(n)"
        a[.instanceNumber] = "\(n)"
        a[.patientID] = patientID
        a[.patientName] = "Doe^J"
        a[.accessionNumber] = "ACC\(study)"
        var m = InstanceMetadata(attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2", transferSyntax: "1.2.840.10008.1.2.1",
                                 path: "instances/\(study).\(n).dcm", sizeBytes: 100, sha256: "\(study).\(n)",
                                 origin: .init(callingAE: "A", peerHost: "127.0.0.1", node: node))
        m.deliveries = destinations.map { PendingDelivery(destination: $0, route: "r", priorityRank: rank) }
        try index.write { db in try CacheIndex.insert(m, into: db) }
    }

    func instanceID(_ sopUID: String) throws -> Int64 {
        try #require(index.instance(sopUID: sopUID)?.id)
    }

    @Test func queueDepthsHigherClassWorkAndPriorsAreAnsweredFromTheIndex() throws {
        try ingest(study: "1.1", n: 1)
        try ingest(study: "1.1", n: 2, rank: 3)
        #expect(try index.deliveryDestinations() == ["HUB"])
        let depths = try index.queueDepths()
        #expect(depths.map { "\($0.destination) \($0.priorityRank) \($0.state) \($0.count)" } == ["HUB 3 queued 1", "HUB 1 queued 1"])
        #expect(index.higherClassWork(destination: "HUB", above: 1) == (3, -1))
        #expect(index.higherClassWork(destination: "HUB", above: 3) == (-1, -1))

        try index.requestPrior("1.1", for: "9.9", source: "TRUST_A", destinations: ["REPORTER": "{}", "HUB": "{}"])
        try index.requestPrior("1.1", for: "9.9", source: "TRUST_A", destinations: ["REPORTER": "{}"])
        #expect(index.priorDestinations(studyUID: "1.1") == ["HUB", "REPORTER"])
        // The acknowledgement path reads both in one statement.
        let arrival = index.arrival(studyUID: "1.1")
        #expect(arrival.priorDestinations == ["HUB", "REPORTER"])
        #expect(arrival.identity == index.studyIdentity(studyUID: "1.1") && arrival.identity?.originNode == "TRUST_A")
        #expect(index.arrival(studyUID: "7.7") == StudyArrival(identity: nil, priorDestinations: []))
        try index.requestPrior("7.7", for: "9.9", source: "TRUST_A", destinations: ["HUB": "{}"])
        #expect(index.arrival(studyUID: "7.7") == StudyArrival(identity: nil, priorDestinations: ["HUB"]), "a prior not cached yet")
        let toReporter = try index.deliveries(DeliverySelection(states: ["queued"], destination: "REPORTER"))
        #expect(toReporter.map(\.route) == ["prior", "prior"], "both cached instances, once each")
        #expect(toReporter.allSatisfy { $0.priorityRank == 0 })
        #expect(try index.deliveries(DeliverySelection(states: [], destination: "HUB")).count == 2, "a delivery already queued stays as it was")
        index.close()
    }

    @Test func identitiesAndOriginsAreFoundBothWays() throws {
        try ingest(study: "2.1", n: 1, node: "TRUST_B", patientID: "L1")
        try index.write { db in
            try CacheIndex.record(PatientIdentityMapping(issuer: "B", localPatientID: "L1", networkPatientID: "N1"), at: Date(), db)
            try CacheIndex.record(PatientIdentityMapping(issuer: "B", localPatientID: "L1", networkPatientID: "OTHER"), at: Date(), db)
            try CacheIndex.record(PatientIdentityMapping(issuer: "C", localPatientID: "L9", networkPatientID: "N1"), at: Date(), db)
        }
        #expect(index.networkPatientID(issuer: "B", localPatientID: "L1") == "N1", "the first mapping stays")
        #expect(index.localIdentity(networkPatientID: "N1") == nil, "two trusts' patients share N1")
        #expect(index.localIdentities(networkPatientID: "N1").map(\.issuer) == ["B", "C"])
        #expect(index.originNodes(issuer: "", patientID: "L1") == ["TRUST_B"])
        let identity = try #require(index.studyIdentity(ofInstance: try instanceID("2.1.1.1")))
        #expect(identity.studyUID == "2.1" && identity.originNode == "TRUST_B" && identity.patientID == "L1")
        index.close()
    }

    @Test func auditContextListingsTotalsAndAuditRecordsReadTheCache() throws {
        try ingest(study: "3.1", n: 1)
        try ingest(study: "3.1", n: 2)
        let context = index.auditContext(studyUIDs: ["3.1", "unknown"])
        #expect(context.studies.map(\.uid) == ["3.1"])
        #expect(context.studies.first?.sopClasses == ["1.2.840.10008.5.1.4.1.1.2": 2])
        #expect(context.studies.first?.accessionNumbers == ["ACC3.1"])
        #expect(context.patients.map(\.id) == ["P1"])
        let seriesRef = try #require(index.instance(sopUID: "3.1.1.1")?.seriesRef)
        #expect(index.studyUIDs(seriesRefs: [seriesRef, 999_999]) == [seriesRef: "3.1"])

        let recent = try index.recentStudies()
        #expect(recent.map(\.studyUID) == ["3.1"])
        #expect(recent.first.map { ($0.instanceCount, $0.undelivered, $0.dead, $0.patientID) } ?? (0, 0, 0, "") == (2, 2, 0, "P1"))
        #expect(try index.cacheTotals() == CacheTotals(studies: 1, instances: 2, bytes: 200))

        index.audit(AuditRecord(event: "query", actor: "A", studyUID: "3.1", outcome: "ok"))
        index.audit(AuditRecord(event: "retrieve", actor: "A", studyUID: "3.1", outcome: "ok"))
        index.audit(AuditRecord(event: "query", actor: "B", outcome: "ok"))
        index.flush()
        #expect(try index.auditRecords(event: "query").map(\.actor) == ["B", "A"])
        #expect(try index.auditRecords(studyUID: "3.1").map(\.event) == ["retrieve", "query"])
        let newest = try #require(try index.auditRecords(limit: 1).first?.id)
        #expect(try index.auditRecords(beforeID: newest).count == 2)
        index.close()
    }

    @Test func aQuarantinedInstanceTakesItsWaitingDeliveriesWithIt() throws {
        try ingest(study: "4.1", n: 1, destinations: ["HUB", "REPORTER"])
        try ingest(study: "4.1", n: 2)
        let first = try instanceID("4.1.1.1")
        let second = try instanceID("4.1.1.2")
        // As if cached before the input limits existed.
        try index.write { db in try db.execute("UPDATE instance SET limitsChecked = 0") }
        #expect(try index.instancesAwaitingLimitsCheck(after: 0, limit: 10, outstandingOnly: true).map(\.id) == [first, second])
        #expect(try index.quarantineInstance(id: first, reason: "too deep") == 2)
        #expect(index.quarantineReason(instanceID: first) == "too deep")
        #expect(index.limitsState(instanceID: first) == (true, "too deep"))
        #expect(try index.quarantinedInstances().map(\.sopUID) == ["4.1.1.1"])
        #expect(try index.deliveries(DeliverySelection(states: ["quarantined"])).count == 2)
        #expect(try index.instancesAwaitingLimitsCheck(after: 0, limit: 10).map(\.id) == [second])
        try index.markLimitsChecked(ids: [second])
        #expect(try index.instancesAwaitingLimitsCheck(after: 0, limit: 10).isEmpty)
        index.close()
    }
}
