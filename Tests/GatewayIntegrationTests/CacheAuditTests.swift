import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import GRDB
import Testing

/// The audit trail: who stored, queried and retrieved what.
@Suite(.serialized) struct CacheAuditTests {
    static func audit(_ gw: GatewayUnderTest) throws -> [AuditRecord] {
        try gw.gateway.index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit ORDER BY id") }
    }

    @Test func storeQueryAndMoveAreAudited() async throws {
        let viewerPort = Net.freePort()
        let gw = try await CacheQR.boot("audit") { c in
            c.nodes = [NodeConfig(name: "VIEWER", aeTitle: "VIEWER", host: "127.0.0.1", port: viewerPort, roles: [.destination])]
        }
        let scp = try PeerProcess("storescp", ["-aet", "VIEWER", "-od", gw.directory.sub("viewer"), "\(viewerPort)"],
                                  logDirectory: gw.directory.path).start()
        defer { scp.stop() }
        #expect(try await CacheQR.offPool { Net.waitForListener(viewerPort) })

        let study = TestData.newUID()
        let files = try TestData.study(in: gw.directory.sub("in"), count: 2, studyUID: study)
        try await CacheQR.storescu(gw, files, callingAE: "MODALITY1")
        // The store association's entry is written when the gateway's side of it ends, which can
        // be a moment after storescu exits: wait for it, so the order below is the events' order.
        #expect(try await CacheQR.eventually { try Self.audit(gw).contains { $0.event == "association" && $0.actor == "MODALITY1" } })
        let find = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "StudyInstanceUID=\(study)"], callingAE: "REPORTER1")
        #expect(find.matches.count == 1, "\(find.output)")
        let (status, out) = try await CacheQR.dcmtk("movescu", [
            "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "VIEWER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
        ], in: gw.directory)
        #expect(status == 0, "\(out)")

        // The association entry is written when the gateway's side of the association ends.
        let complete = try await CacheQR.eventually {
            let events = Set(try Self.audit(gw).map(\.event))
            return events.isSuperset(of: ["association", "query", "retrieve"])
        }
        let entries = try Self.audit(gw)
        #expect(complete, "audit entries: \(entries.map { "\($0.event)/\($0.actor)/\($0.outcome)" })")

        let association = entries.first { $0.event == "association" && $0.actor == "MODALITY1" }
        #expect(association != nil, "\(entries)")
        #expect(association?.peer == "127.0.0.1")
        #expect(association?.detail.contains("stored 2") == true, "\(String(describing: association))")

        let query = entries.first { $0.event == "query" }
        #expect(query?.actor == "REPORTER1")
        #expect(query?.outcome == "1 match(es)", "\(String(describing: query))")
        #expect(query?.detail.contains("STUDY") == true)

        let retrieve = entries.first { $0.event == "retrieve" }
        #expect(retrieve?.actor == "REPORTER1")
        #expect(retrieve?.studyUID == study)
        #expect(retrieve?.outcome == "0x0000", "\(String(describing: retrieve))")
        #expect(retrieve?.detail.contains("VIEWER") == true, "\(String(describing: retrieve))")
        #expect(retrieve?.detail.contains("completed 2") == true, "\(String(describing: retrieve))")

        // Entries are in the order the events happened.
        let order = ["association", "query", "retrieve"].compactMap { e in entries.firstIndex { $0.event == e } }
        #expect(order == order.sorted(), "\(entries.map(\.event))")
        await gw.stop()
    }

    @Test func rejectedAssociationIsAudited() async throws {
        let gw = try await CacheQR.boot("audit")
        let (status, _) = try await CacheQR.dcmtk("echoscu", ["-aet", "ANYONE", "-aec", "NOT_NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status != 0)
        let found = try await CacheQR.eventually {
            try Self.audit(gw).contains { $0.event == "association" && $0.actor == "ANYONE" && $0.outcome == "rejected" }
        }
        let entries = try Self.audit(gw)
        #expect(found, "\(entries)")
        await gw.stop()
    }

    /// An attempt to send patient data to an AE the gateway does not know is worth recording.
    @Test func moveRefusedForAnUnknownDestinationIsAudited() async throws {
        let gw = try await CacheQR.boot("audit")
        let study = TestData.newUID()
        try await CacheQR.storescu(gw, try TestData.study(in: gw.directory.sub("in"), count: 1, studyUID: study))
        let (_, out) = try await CacheQR.dcmtk("movescu", [
            "-d", "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "NOWHERE", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
        ], in: gw.directory)
        #expect(out.lowercased().contains("0xa801"), "\(out)")
        let audited = try await CacheQR.eventually(timeout: 5) {
            try Self.audit(gw).contains { $0.event == "retrieve" && $0.actor == "REPORTER1" }
        }
        let entries = try Self.audit(gw).map { "\($0.event)/\($0.actor)" }
        #expect(audited, "a refused C-MOVE must leave a 'retrieve' audit entry; got \(entries)")
        await gw.stop()
    }
}
