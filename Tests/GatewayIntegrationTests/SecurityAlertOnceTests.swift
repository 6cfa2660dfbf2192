import DicomCore
import DicomNetwork
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GatewayConfig
import GatewayStore
import GRDB
import Testing

/// One refused association is one audit entry and one Security Alert (110113), whatever refused
/// it: a called AE title not ours, a node calling from outside its `hosts`, a `tls: required` node
/// over plain TCP, another node's certificate, an expired certificate (a failed handshake).
@Suite(.serialized) struct SecurityAlertOnceTests {
    @Test func eachRefusedAssociationIsOneAuditEntryAndOneSecurityAlert() async throws {
        _ = TestPKI.directory
        let tlsPort = Net.freePort()
        let auditFile = TestDirectory("alert-once-file").path + "/audit.log"
        let gw = try await CacheQR.boot("alert-once") { c in
            c.gateway.tls = TestPKI.gatewayTLS(port: tlsPort)
            var trust = NodeConfig(name: "TRUST_A", aeTitle: "TRUSTA_PACS", roles: [.source])
            try! TestPKI.pin(&trust, to: "trusta")
            var elsewhere = NodeConfig(name: "SCANNER", aeTitle: "CT_FAR", roles: [.source])
            elsewhere.access.hosts = [try! AddressRange(parsing: "10.1.2.0/24")]
            var trustB = NodeConfig(name: "TRUST_B", aeTitle: "TRUSTB_PACS", roles: [.source])
            try! TestPKI.pin(&trustB, to: "trustb")
            c.nodes = [trust, elsewhere, trustB]
            c.audit.file = URL(fileURLWithPath: auditFile)
        }
        let trail = try #require(gw.gateway.auditTrail)
        trail.start()
        func echo(_ ae: String, called: String = "NETGW", tls certificate: String? = nil) async throws -> Int32 {
            let transport = certificate.map { TestPKI.dcmtkClient($0) } ?? []
            return try await CacheQR.dcmtk("echoscu", transport + ["-aet", ae, "-aec", called, "127.0.0.1",
                                                                   "\(certificate == nil ? gw.port : tlsPort)"], in: gw.directory).status
        }
        #expect(try await echo("MODALITY1", called: "NOT_NETGW") != 0)    // called AE title not ours
        #expect(try await echo("CT_FAR") != 0)                             // outside its hosts
        #expect(try await echo("TRUSTA_PACS") != 0)                        // tls: required, over plain TCP
        #expect(try await echo("TRUSTA_PACS", tls: "trustb") != 0)         // node B's certificate as node A
        #expect(try await echo("MODALITY1", tls: "expired") != 0)          // a failed handshake
        #expect(try await echo("MODALITY1") == 0)                          // and one that gets in: no alert

        let rows = { () throws -> [AuditRecord] in
            try gw.gateway.index.read { db in
                try db.fetchAll(AuditRecord.self, "SELECT * FROM audit WHERE event IN ('association', 'security-alert') ORDER BY id")
            }
        }
        #expect(try await CacheQR.eventually { try rows().count >= 5 })
        try await Task.sleep(for: .milliseconds(500))  // anything written late would count too
        let entries = try rows()
        let summary = entries.map { "\($0.event)/\($0.outcome) \($0.actor): \($0.detail)" }
        #expect(entries.count == 5, "one entry per refused association: \(summary)")
        #expect(entries.filter { $0.actor == "MODALITY1" && $0.outcome == "rejected" }.count == 1, "\(summary)")
        #expect(entries.filter { $0.actor == "CT_FAR" }.map(\.outcome) == ["host-not-allowed"], "\(summary)")
        #expect(entries.filter { $0.actor == "TRUSTA_PACS" }.map(\.outcome) == ["tls-required", "certificate-mismatch"], "\(summary)")
        #expect(entries.filter { $0.outcome == "bad-certificate" }.count == 1, "\(summary)")

        trail.stopAndWait()
        await gw.stop()
        let alerts = ((try? String(contentsOfFile: auditFile, encoding: .utf8)) ?? "").split(separator: "\n").filter { line in
            let doc = try? XMLDocument(xmlString: String(line))
            return (try? doc?.nodes(forXPath: "/AuditMessage/EventIdentification/EventID/@csd-code").first?.stringValue) == "110113"
        }
        #expect(alerts.count == 5, "one Security Alert per refused association:\n\(alerts.joined(separator: "\n"))")
    }
}
