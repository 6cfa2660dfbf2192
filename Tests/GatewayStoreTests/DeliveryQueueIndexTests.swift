import DicomCore
import Foundation
import GRDB
@testable import GatewayStore
import Logging
import Testing

/// The queue table: deliveries are written with their instance; a study with undelivered work is busy.
@Suite struct DeliveryQueueIndexTests {
    func metadata(study: String, sop: String, deliveries: [PendingDelivery]) -> InstanceMetadata {
        var a = DicomAttributes()
        a[.studyInstanceUID] = study
        a[.seriesInstanceUID] = study + ".1"
        a[.sopInstanceUID] = sop
        a[.patientID] = "P1"
        var m = InstanceMetadata(attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2", transferSyntax: "1.2.840.10008.1.2.1",
                                 path: "instances/x/\(sop).dcm", sizeBytes: 10, sha256: sop,
                                 origin: .init(callingAE: "A", peerHost: "127.0.0.1", node: nil))
        m.deliveries = deliveries
        return m
    }

    @Test func deliveriesAreCommittedWithTheInstanceAndMakeTheStudyBusy() throws {
        let dir = NSTemporaryDirectory() + "dgw-queue-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let index = try CacheIndex(path: dir + "/index.sqlite")
        let routed = metadata(study: "1.2.3", sop: "1.2.3.1.1", deliveries: [
            PendingDelivery(destination: "HUB", route: "r", priorityRank: 3),
            PendingDelivery(destination: "TRUST_A", route: "r", priorityRank: 1, editsJSON: #"{"0010,0021":"RTH"}"#),
        ])
        try index.write { db in try CacheIndex.insert(routed, into: db) }
        try index.write { db in try CacheIndex.insert(self.metadata(study: "1.2.4", sop: "1.2.4.1.1", deliveries: []), into: db) }
        let depths = try index.queueDepths()
        #expect(depths.count == 2)
        #expect(depths.first { $0.destination == "HUB" }?.priorityRank == 3)
        #expect(index.hasUndeliveredWork(studyUID: "1.2.3"))
        #expect(!index.hasUndeliveredWork(studyUID: "1.2.4"))
        try index.write { db in try db.execute("UPDATE delivery SET state = 'done'") }
        #expect(!index.hasUndeliveredWork(studyUID: "1.2.3"))
        #expect(try index.queueDepths().isEmpty)
        index.close()
    }
}
