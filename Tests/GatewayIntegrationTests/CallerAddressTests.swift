import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import GRDB
import Testing

/// Who may associate at all: unknown callers on a listener that is not loopback-only (127.0.0.2
/// stands for a network address: only 127.0.0.1 and ::1 count as loopback-only), a node calling
/// from outside its `hosts`, a node allowed nothing. Each refusal is an A-ASSOCIATE-RJ and a
/// security alert in the audit trail.
@Suite(.serialized) struct CallerAddressTests {
    static func alerts(_ gw: GatewayUnderTest) throws -> [AuditRecord] {
        try gw.gateway.index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit ORDER BY id") }.filter { $0.event == "security-alert" }
    }

    static func networkGateway(acceptUnknown: Bool? = nil) async throws -> GatewayUnderTest {
        let gw = try await CacheQR.offPool {
            try GatewayUnderTest(label: "netaccess") { c in
                c.gateway.bind = "127.0.0.2"
                c.gateway.acceptUnknownCallers = acceptUnknown
                c.nodes = [NodeConfig(name: "SCANNER", aeTitle: "CT01", roles: [.source])]
            }
        }
        guard await gw.answersEcho(callingAE: "CT01", timeout: 30) else { throw TestFailure("gateway on 127.0.0.2 does not answer CT01") }
        return gw
    }

    @Test func unknownCallerOnANetworkListenerIsRefusedUnlessAccepted() async throws {
        let gw = try await Self.networkGateway()
        let (status, out) = try await CacheQR.dcmtk("echoscu", ["-aet", "STRANGER", "-aec", "NETGW", "127.0.0.2", "\(gw.port)"], in: gw.directory)
        #expect(status != 0, "\(out)")
        #expect(out.lowercased().contains("calling ae title not recogni") && out.lowercased().contains("permanent"), "\(out)")
        let file = try TestData.study(in: gw.directory.sub("in"), count: 1, studyUID: TestData.newUID())
        let (storeStatus, storeOut) = try await CacheQR.dcmtk("storescu", ["-aet", "STRANGER", "-aec", "NETGW", "127.0.0.2", "\(gw.port)"] + file,
                                                              in: gw.directory)
        #expect(storeStatus != 0 && gw.storedFiles().isEmpty, "\(storeOut)")
        #expect(try await CacheQR.eventually { try Self.alerts(gw).filter { $0.outcome == "unknown-caller" }.count == 2 })
        let alert = try Self.alerts(gw).first
        #expect(alert?.actor == "STRANGER" && alert?.peer == "127.0.0.1", "\(String(describing: alert))")
        #expect(alert?.detail.contains("listens on 127.0.0.2") == true, "\(String(describing: alert))")
        await gw.stop()
    }

    @Test func acceptedUnknownCallersMayOnlyEchoAndStore() async throws {
        let gw = try await Self.networkGateway(acceptUnknown: true)
        let (status, out) = try await CacheQR.dcmtk("echoscu", ["-v", "-aet", "STRANGER", "-aec", "NETGW", "127.0.0.2", "\(gw.port)"], in: gw.directory)
        #expect(status == 0 && out.contains("Received Echo Response (Success)"), "\(out)")
        let study = TestData.newUID()
        let file = try TestData.study(in: gw.directory.sub("in"), count: 1, studyUID: study)
        let (storeStatus, storeOut) = try await CacheQR.dcmtk("storescu", ["-aet", "STRANGER", "-aec", "NETGW", "127.0.0.2", "\(gw.port)"] + file,
                                                              in: gw.directory)
        #expect(storeStatus == 0 && gw.storedFiles().count == 1, "\(storeOut)")
        let (_, findOut) = try await CacheQR.dcmtk("findscu", ["-v", "-S", "-aet", "STRANGER", "-aec", "NETGW", "127.0.0.2", "\(gw.port)",
                                                              "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)"], in: gw.directory)
        #expect(findOut.contains("0x124") && !findOut.contains("Find Response: 1 (Pending)"), "\(findOut)")
        let into = gw.directory.sub("got")
        let (_, getOut) = try await CacheQR.dcmtk("getscu", ["-v", "-S", "-aet", "STRANGER", "-aec", "NETGW", "-od", into, "127.0.0.2", "\(gw.port)",
                                                            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)"], in: gw.directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: into).isEmpty, "\(getOut)")
        #expect(try await CacheQR.eventually { try Self.alerts(gw).count == 2 })
        let alerts = try Self.alerts(gw)
        #expect(alerts.map(\.outcome) == ["permission-denied", "permission-denied"], "\(alerts)")
        #expect(alerts.first?.detail.contains("unknown caller AE 'STRANGER'") == true && alerts.first?.detail.contains("C-FIND") == true,
                "\(alerts)")
        #expect(alerts.last?.detail.contains("C-GET") == true, "\(alerts)")
        await gw.stop()
    }

    @Test func aNodeCallingFromOutsideItsHostsIsRejected() async throws {
        let gw = try await CacheQR.offPool {
            try GatewayUnderTest(label: "hosts") { c in
                var locked = NodeConfig(name: "LOCKED", aeTitle: "LOCKED_AE", roles: [.source])
                locked.access.hosts = [try! AddressRange(parsing: "127.0.0.3/32")]
                var idle = NodeConfig(name: "IDLE", aeTitle: "IDLE_AE", roles: [.source])
                idle.access.allow = []
                c.nodes = [locked, idle]
            }
        }
        // From 127.0.0.1 (echoscu cannot choose its source address): rejected.
        let (status, out) = try await CacheQR.dcmtk("echoscu", ["-aet", "LOCKED_AE", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status != 0 && out.lowercased().contains("calling ae title not recogni"), "\(out)")
        // From 127.0.0.3 (pynetdicom binds its side there): accepted.
        let script = """
            import sys
            from pynetdicom import AE
            ae = AE(ae_title=sys.argv[1])
            ae.add_requested_context("1.2.840.10008.1.1")
            assoc = ae.associate("127.0.0.1", int(sys.argv[2]), ae_title="NETGW", bind_address=(sys.argv[3], 0))
            if not assoc.is_established:
                print("REJECTED"); sys.exit(2)
            status = assoc.send_c_echo()
            print("ECHO 0x%04X" % status.Status)
            assoc.release()
            """
        let path = gw.directory.path + "/echo_from.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let fromAllowed = try await CacheQR.offPool {
            try PythonPeer.process(path, ["LOCKED_AE", "\(gw.port)", "127.0.0.3"], logDirectory: gw.directory.path).run(timeout: 60)
        }
        #expect(fromAllowed.status == 0 && fromAllowed.output.contains("ECHO 0x0000"), "\(fromAllowed.output)")
        let fromOther = try await CacheQR.offPool {
            try PythonPeer.process(path, ["LOCKED_AE", "\(gw.port)", "127.0.0.4"], logDirectory: gw.directory.path).run(timeout: 60)
        }
        #expect(fromOther.output.contains("REJECTED"), "\(fromOther.output)")
        // A node allowed nothing cannot associate either (no reason given).
        let (idleStatus, idleOut) = try await CacheQR.dcmtk("echoscu", ["-aet", "IDLE_AE", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(idleStatus != 0 && idleOut.lowercased().contains("no reason"), "\(idleOut)")

        #expect(try await CacheQR.eventually { try Self.alerts(gw).count == 3 })
        let alerts = try Self.alerts(gw)
        #expect(alerts.map(\.outcome) == ["host-not-allowed", "host-not-allowed", "permission-denied"], "\(alerts)")
        #expect(alerts.first?.peer == "127.0.0.1" && alerts.first?.detail.contains("not in its hosts [127.0.0.3]") == true, "\(alerts)")
        #expect(alerts[1].peer == "127.0.0.4", "\(alerts)")
        #expect(alerts.last?.detail.contains("allowed nothing") == true, "\(alerts)")
        await gw.stop()
    }
}
