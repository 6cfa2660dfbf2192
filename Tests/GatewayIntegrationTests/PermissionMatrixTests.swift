import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import GRDB
import Testing

/// Per-node permissions against DCMTK's own tools: every service (echo, store, find, move, get)
/// for nodes with different allow lists, allowed and refused (0x0124), a C-MOVE outside
/// `move_destinations` (0xA801); every refusal audited as a security alert.
@Suite(.serialized) struct PermissionMatrixTests {
    enum Service: String, CaseIterable {
        case echo, store, find, move, get
    }

    /// SCANNER (CT01, source: echo and store by default), QUERY (QUERY_AE, reporter allowed only
    /// find and get), FULL (FULL_AE, reporter: all five, C-MOVE only to VIEWER); VIEWER is a
    /// storescp, OTHER a destination no one may move to.
    static let expected: [String: Set<Service>] = [
        "CT01": [.echo, .store],
        "QUERY_AE": [.find, .get],
        "FULL_AE": Set(Service.allCases),
    ]

    static func audit(_ gw: GatewayUnderTest) throws -> [AuditRecord] {
        try gw.gateway.index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit ORDER BY id") }
    }

    static func securityAlerts(_ gw: GatewayUnderTest) throws -> [AuditRecord] {
        try audit(gw).filter { $0.event == "security-alert" }
    }

    @Test func everyServiceIsAllowedOrRefusedPerNode() async throws {
        let viewerPort = Net.freePort()
        let gw = try await CacheQR.offPool {
            try GatewayUnderTest(label: "perm") { c in
                c.gateway.acceptUnknownCallers = false
                var scanner = NodeConfig(name: "SCANNER", aeTitle: "CT01", roles: [.source])
                scanner.access.hosts = [try! AddressRange(parsing: "127.0.0.0/8")]
                var query = NodeConfig(name: "QUERY", aeTitle: "QUERY_AE", roles: [.reporter])
                query.access.allow = [.find, .get]
                var full = NodeConfig(name: "FULL", aeTitle: "FULL_AE", roles: [.reporter])
                full.access.moveDestinations = ["VIEWER"]
                c.nodes = [scanner, query, full,
                           NodeConfig(name: "VIEWER", aeTitle: "VIEWER", host: "127.0.0.1", port: viewerPort, roles: [.destination]),
                           NodeConfig(name: "OTHER", aeTitle: "OTHER_AE", host: "127.0.0.1", port: Net.freePort(), roles: [.destination])]
            }
        }
        let received = gw.directory.sub("viewer")
        let scp = try PeerProcess("storescp", ["-aet", "VIEWER", "-od", received, "\(viewerPort)"], logDirectory: gw.directory.path).start()
        defer { scp.stop() }
        #expect(try await CacheQR.offPool { Net.waitForListener(viewerPort) })
        #expect(await gw.answersEcho(callingAE: "CT01", timeout: 30))

        let study = TestData.newUID()
        let seed = try TestData.study(in: gw.directory.sub("seed"), count: 2, studyUID: study)
        try await CacheQR.storescu(gw, seed, callingAE: "CT01")

        var refusals: [(ae: String, operation: String)] = []
        for (ae, allowed) in Self.expected.sorted(by: { $0.key < $1.key }) {
            for service in Service.allCases {
                let ok = try await Self.run(service, as: ae, gw: gw, study: study, received: received)
                #expect(ok == allowed.contains(service), "\(ae) \(service): expected \(allowed.contains(service) ? "allowed" : "refused")")
                if !allowed.contains(service) { refusals.append((ae, "C-\(service.rawValue.uppercased())")) }
            }
        }

        // FULL may move, but only to VIEWER: OTHER is refused with 0xA801 and nothing is sent.
        let (_, out) = try await CacheQR.dcmtk("movescu", [
            "-d", "-S", "-aet", "FULL_AE", "-aec", "NETGW", "-aem", "OTHER_AE", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
        ], in: gw.directory)
        #expect(out.lowercased().contains("0xa801"), "\(out)")

        // Every refusal is a security alert naming the AE title, the address and the operation.
        let complete = try await CacheQR.eventually { try Self.securityAlerts(gw).count >= refusals.count + 1 }
        let alerts = try Self.securityAlerts(gw)
        #expect(complete, "\(alerts)")
        for (ae, operation) in refusals {
            #expect(alerts.contains { $0.actor == ae && $0.outcome == "permission-denied" && $0.peer == "127.0.0.1"
                        && $0.detail.contains("may not use \(operation)") }, "no alert for \(ae) \(operation): \(alerts)")
        }
        let moveAlert = alerts.first { $0.outcome == "move-destination-denied" }
        #expect(moveAlert?.actor == "FULL_AE" && moveAlert?.detail.contains("C-MOVE to OTHER") == true, "\(alerts)")
        #expect(alerts.count == refusals.count + 1, "\(alerts.map(\.detail))")
        await gw.stop()
    }

    /// Runs one service as `ae` with DCMTK's tool; true when the gateway allowed it, false when it
    /// answered 0x0124 (anything else fails the test).
    static func run(_ service: Service, as ae: String, gw: GatewayUnderTest, study: String, received: String) async throws -> Bool {
        let address = ["-aet", ae, "-aec", "NETGW", "127.0.0.1", "\(gw.port)"]
        let studyKeys = ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)"]
        let (status, out): (Int32, String)
        switch service {
        case .echo:
            (status, out) = try await CacheQR.dcmtk("echoscu", ["-v"] + address, in: gw.directory)
            if out.contains("Received Echo Response (Success)") { return true }
        case .store:
            let file = try TestData.study(in: gw.directory.sub("store-\(ae)"), count: 1, studyUID: TestData.newUID())
            let before = gw.storedFiles().count
            (status, out) = try await CacheQR.dcmtk("storescu", ["-v"] + address + file, in: gw.directory)
            if out.contains("Received Store Response (Success)") {
                #expect(gw.storedFiles().count == before + 1)
                return true
            }
            #expect(gw.storedFiles().count == before, "a refused C-STORE stored nothing")
        case .find:
            (status, out) = try await CacheQR.dcmtk("findscu", ["-v", "-S"] + address + studyKeys, in: gw.directory)
            // findscu shows 0x0124 as "Unknown Status: 0x124" (and exits 0): read what it printed.
            if out.contains("Received Final Find Response (Success)") {
                #expect(out.contains("Find Response: 1 (Pending)"), "\(out)")
                return true
            }
        case .move:
            let before = (try? FileManager.default.contentsOfDirectory(atPath: received).count) ?? 0
            (status, out) = try await CacheQR.dcmtk("movescu", ["-d", "-S"] + address.dropLast(2) + ["-aem", "VIEWER"] + address.suffix(2) + studyKeys,
                                                    in: gw.directory)
            if out.contains("DIMSE Status                  : 0x0000") {
                #expect(try FileManager.default.contentsOfDirectory(atPath: received).count == before + 2, "\(out)")
                return true
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: received).count == before)
        case .get:
            let into = gw.directory.sub("get-\(ae)")
            (status, out) = try await CacheQR.dcmtk("getscu", ["-v", "-S", "-od", into] + address + studyKeys, in: gw.directory)
            let got = try FileManager.default.contentsOfDirectory(atPath: into).count
            if status == 0, got == 2, !out.lowercased().contains("0x0124"), !out.contains("0x124") { return true }
            #expect(got == 0, "\(out)")
        }
        let refused = out.contains("0x124") || out.contains("0x0124") || out.contains("Refused: NotAuthorized")
        #expect(refused, "\(ae) \(service): neither success nor 0x0124 (exit \(status)):\n\(out)")
        return false
    }
}
