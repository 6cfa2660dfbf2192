import DicomCore
import Foundation
import GRDB
@testable import GatewayStore
import Testing

/// `study_event` and `patient_identity`: written in the transactions that file instances and
/// finish deliveries.
@Suite struct StudyTimelineTests {
    static let ct = "1.2.840.10008.5.1.4.1.1.2"
    static let sr = "1.2.840.10008.5.1.4.1.1.88.11"

    func metadata(study: String, sop: String, series: String? = nil, patientID: String = "12345", issuer: String = "RTH",
                  node: String?, sopClass: String = ct, deliveries: [PendingDelivery] = [], extras: IngestExtras = IngestExtras(),
                  at time: Date) -> InstanceMetadata {
        var a = DicomAttributes()
        a[.studyInstanceUID] = study
        a[.seriesInstanceUID] = series ?? study + ".1"
        a[.sopInstanceUID] = sop
        a[.patientID] = patientID
        a[.issuerOfPatientID] = issuer
        var m = InstanceMetadata(attributes: a, sopClassUID: sopClass, transferSyntax: "1.2.840.10008.1.2.1",
                                 path: "instances/x/\(sop).dcm", sizeBytes: 10, sha256: sop,
                                 origin: .init(callingAE: node ?? "STRANGER", peerHost: "127.0.0.1", node: node), receivedAt: time)
        m.deliveries = deliveries
        m.extras = extras
        return m
    }

    func deliveryID(_ f: CacheFixture, sop: String, to destination: String) throws -> Int64 {
        try f.index.read { db in
            try db.fetchValue(Int64.self, "SELECT d.id FROM delivery d JOIN instance i ON i.id = d.instanceRef WHERE i.sopUID = ? AND d.destination = ?",
                               [sop, destination])!
        }
    }

    func events(_ f: CacheFixture, _ study: String) throws -> [String] {
        f.index.flush()
        return try f.index.studyEvents(studyUID: study).map { "\($0.event)@\($0.node)" }
    }

    @Test func aStudyIsReceivedOnceDeliveredPerDestinationThenReportedAndReturned() throws {
        let f = try CacheFixture("timeline")
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let toBoth = [PendingDelivery(destination: "HUB", route: "r", priorityRank: 1),
                      PendingDelivery(destination: "ARCHIVE", route: "r", priorityRank: 1)]
        for (i, sop) in ["1.9.1.1", "1.9.1.2"].enumerated() {
            let m = metadata(study: "1.9", sop: sop, node: "TRUST_A", deliveries: toBoth, at: t0.addingTimeInterval(Double(i)))
            try f.index.write { db in try CacheIndex.insert(m, into: db) }
        }
        #expect(try events(f, "1.9") == ["received@TRUST_A"])

        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.1.1", to: "HUB"), succeeded: true, now: t0.addingTimeInterval(10))
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.1.2", to: "HUB"), succeeded: false, error: "busy",
                               retryAt: t0.addingTimeInterval(20), now: t0.addingTimeInterval(11))
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.1.1", to: "ARCHIVE"), succeeded: true, now: t0.addingTimeInterval(12))
        #expect(try events(f, "1.9") == ["received@TRUST_A"])
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.1.2", to: "ARCHIVE"), succeeded: true, now: t0.addingTimeInterval(13))
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.1.2", to: "HUB"), succeeded: true, now: t0.addingTimeInterval(30))
        // Sent again (at-least-once): no second event.
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.1.2", to: "HUB"), succeeded: true, now: t0.addingTimeInterval(31))
        #expect(try events(f, "1.9") == ["received@TRUST_A", "delivered@ARCHIVE", "delivered@HUB"])

        // Two reports from the reporter, each going home: one `reported`, one `report_returned`.
        for (i, sop) in ["1.9.2.1", "1.9.2.2"].enumerated() {
            let m = metadata(study: "1.9", sop: sop, series: "1.9.2", patientID: "RTH-12345", node: "HUB", sopClass: Self.sr,
                             deliveries: [PendingDelivery(destination: "TRUST_A", route: "home", priorityRank: 2)],
                             extras: IngestExtras(isReport: true, sendingNode: "HUB"), at: t0.addingTimeInterval(60 + Double(i)))
            try f.index.write { db in try CacheIndex.insert(m, into: db) }
        }
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.2.1", to: "TRUST_A"), succeeded: true, now: t0.addingTimeInterval(70))
        f.index.finishDelivery(id: try deliveryID(f, sop: "1.9.2.2", to: "TRUST_A"), succeeded: true, now: t0.addingTimeInterval(71))
        #expect(try events(f, "1.9") == ["received@TRUST_A", "delivered@ARCHIVE", "delivered@HUB", "reported@HUB", "report_returned@TRUST_A"])
        let timeline = try f.index.studyEvents(studyUID: "1.9")
        #expect(timeline.map(\.time.timeIntervalSince1970) == [0, 13, 30, 60, 70].map { 1_700_000_000 + $0 })

        let summary = try #require(try f.index.studySummary(studyUID: "1.9"))
        #expect(summary.originNode == "TRUST_A")
        #expect(summary.study.instanceCount == 4)
        #expect(summary.deliveries == [DeliveryCount(destination: "ARCHIVE", state: "done", count: 2),
                                       DeliveryCount(destination: "HUB", state: "done", count: 2),
                                       DeliveryCount(destination: "TRUST_A", state: "done", count: 2)])
    }

    @Test func aDeadDeliveryKeepsTheStudyUndelivered() throws {
        let f = try CacheFixture("timeline-dead")
        let t0 = Date()
        for sop in ["2.9.1.1", "2.9.1.2"] {
            let m = metadata(study: "2.9", sop: sop, node: "TRUST_A",
                             deliveries: [PendingDelivery(destination: "HUB", route: "r", priorityRank: 1)], at: t0)
            try f.index.write { db in try CacheIndex.insert(m, into: db) }
        }
        f.index.finishDelivery(id: try deliveryID(f, sop: "2.9.1.1", to: "HUB"), succeeded: false, error: "refused")
        f.index.finishDelivery(id: try deliveryID(f, sop: "2.9.1.2", to: "HUB"), succeeded: true)
        #expect(try events(f, "2.9") == ["received@TRUST_A"])
    }

    @Test func deliveredWaitsForEverySeriesInAnyOrder() throws {
        let f = try CacheFixture("timeline-series")
        let toHub = [PendingDelivery(destination: "HUB", route: "r", priorityRank: 1)]
        let sops = ["6.9.1.1", "6.9.1.2", "6.9.2.1", "6.9.2.2"]
        for sop in sops {
            let series = String(sop.dropLast(2))
            let m = metadata(study: "6.9", sop: sop, series: series, node: "TRUST_A", deliveries: toHub, at: Date())
            try f.index.write { db in try CacheIndex.insert(m, into: db) }
        }
        // The second series completes first, newest instance first; then the first series, oldest first.
        for sop in ["6.9.2.2", "6.9.2.1", "6.9.1.1"] {
            f.index.finishDelivery(id: try deliveryID(f, sop: sop, to: "HUB"), succeeded: true)
            #expect(try events(f, "6.9") == ["received@TRUST_A"], "after \(sop)")
        }
        f.index.finishDelivery(id: try deliveryID(f, sop: "6.9.1.2", to: "HUB"), succeeded: true)
        #expect(try events(f, "6.9") == ["received@TRUST_A", "delivered@HUB"])
    }

    @Test func theMappingIsRecordedWithTheInstanceAndTheFirstOneStays() throws {
        let f = try CacheFixture("identity")
        let first = metadata(study: "3.9", sop: "3.9.1.1", node: "TRUST_A", extras: IngestExtras(
            identity: PatientIdentityMapping(issuer: "RTH", localPatientID: "12345", networkPatientID: "RTH-12345")), at: Date())
        try f.index.write { db in try CacheIndex.insert(first, into: db) }
        let later = metadata(study: "3.9", sop: "3.9.1.2", node: "TRUST_A", extras: IngestExtras(
            identity: PatientIdentityMapping(issuer: "RTH", localPatientID: "12345", networkPatientID: "9434765919")), at: Date())
        try f.index.write { db in try CacheIndex.insert(later, into: db) }
        let other = metadata(study: "4.9", sop: "4.9.1.1", issuer: "RGT", node: "TRUST_B", extras: IngestExtras(
            identity: PatientIdentityMapping(issuer: "RGT", localPatientID: "12345", networkPatientID: "RGT-12345")), at: Date())
        try f.index.write { db in try CacheIndex.insert(other, into: db) }

        #expect(f.index.networkPatientID(issuer: "RTH", localPatientID: "12345") == "RTH-12345")
        #expect(f.index.networkPatientID(issuer: "RGT", localPatientID: "12345") == "RGT-12345")
        #expect(f.index.networkPatientID(issuer: "RTH", localPatientID: "999") == nil)
        #expect(f.index.localIdentity(networkPatientID: "RTH-12345")
            == PatientIdentityMapping(issuer: "RTH", localPatientID: "12345", networkPatientID: "RTH-12345"))
        #expect(f.index.localIdentity(networkPatientID: "12345") == nil)
        #expect(f.index.studyIdentity(studyUID: "4.9") == StudyIdentity(studyUID: "4.9", originNode: "TRUST_B", issuer: "RGT", patientID: "12345"))
        #expect(f.index.studyIdentity(studyUID: "5.9") == nil)

        // A mapping fails with its instance: nothing of a rolled-back instance remains.
        let broken = metadata(study: "3.9", sop: "3.9.1.1", patientID: "777", node: "TRUST_A", extras: IngestExtras(
            identity: PatientIdentityMapping(issuer: "RTH", localPatientID: "777", networkPatientID: "RTH-777")), at: Date())
        #expect(throws: (any Error).self) { try f.index.write { db in try CacheIndex.insert(broken, into: db) } }
        #expect(f.index.networkPatientID(issuer: "RTH", localPatientID: "777") == nil)
    }
}
