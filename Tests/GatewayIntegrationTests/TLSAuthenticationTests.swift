import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Testing

/// Over DICOM TLS the certificate authenticates the caller: it must be the certificate the
/// claimed node pins, never another node's; a node with `tls: required` may not call over plain
/// TCP. Every refusal is an A-ASSOCIATE-RJ and a security alert in the audit trail.
@Suite(.serialized) struct TLSAuthenticationTests {
    static func boot(_ label: String) async throws -> (GatewayUnderTest, Int) {
        let pins = (a: try TestPKI.fingerprint("trusta"), b: try TestPKI.fingerprint("trustb"))
        return try await DicomTLSTests.boot(label) { c in
            var a = NodeConfig(name: "TRUST_A", aeTitle: "TRUSTA_PACS", roles: [.source])
            a.security = NodeTLSSettings(required: true, certificateSHA256: NodeTLSSettings.normalizedSHA256(pins.a))
            var b = NodeConfig(name: "TRUST_B", aeTitle: "TRUSTB_PACS", roles: [.source])
            b.security = NodeTLSSettings(certificateSubject: DistinguishedName("O=Trust B,CN=trustb-pacs"))
            // C has no pin and no TLS requirement.
            let c3 = NodeConfig(name: "TRUST_C", aeTitle: "TRUSTC_PACS", roles: [.source])
            c.nodes = [a, b, c3]
        }
    }

    @Test func theRightCertificateForTheClaimedAETitleGetsIn() async throws {
        let (gw, tlsPort) = try await Self.boot("tls-auth-ok")
        defer { Task { await gw.stop() } }
        let a = try await DicomTLSTests.echo(gw, tlsPort, certificate: "trusta", ae: "TRUSTA_PACS")
        #expect(a.status == 0, "\(a.output)")
        let b = try await DicomTLSTests.echo(gw, tlsPort, certificate: "trustb", ae: "TRUSTB_PACS")
        #expect(b.status == 0, "a subject pin (same attributes, another order) must match: \(b.output)")
        #expect(try DicomTLSTests.audit(gw).allSatisfy { $0.event != "security-alert" })
    }

    @Test func anotherNodesCertificateClaimingThisAETitleIsRejectedAndAudited() async throws {
        let (gw, tlsPort) = try await Self.boot("tls-auth-mismatch")
        defer { Task { await gw.stop() } }
        // B's certificate claiming A's AE title (A pins its own certificate).
        let pinned = try await DicomTLSTests.echo(gw, tlsPort, certificate: "trustb", ae: "TRUSTA_PACS")
        #expect(pinned.status != 0, "\(pinned.output)")
        #expect(pinned.output.contains("Calling AE Title Not Recognized"), "\(pinned.output)")
        // B's certificate claiming C's AE title (C pins nothing): still B's certificate.
        let unpinned = try await DicomTLSTests.echo(gw, tlsPort, certificate: "trustb", ae: "TRUSTC_PACS")
        #expect(unpinned.status != 0, "\(unpinned.output)")
        // An unpinned certificate claiming a pinned node's AE title.
        let stranger = try await DicomTLSTests.echo(gw, tlsPort, certificate: "reporter", ae: "TRUSTB_PACS")
        #expect(stranger.status != 0, "\(stranger.output)")
        #expect(try await CacheQR.eventually {
            try DicomTLSTests.audit(gw).filter { $0.event == "security-alert" && $0.outcome == "certificate-mismatch" }.count == 3
        })
        let alerts = try DicomTLSTests.audit(gw).filter { $0.outcome == "certificate-mismatch" }
        let first = try #require(alerts.first)
        #expect(first.actor == "TRUSTA_PACS" && first.peer == "127.0.0.1")
        #expect(first.detail.contains("CN=trustb-pacs") && first.detail.contains("TRUST_A") && first.detail.contains("127.0.0.1"), "\(first.detail)")
        #expect(alerts.contains { $0.actor == "TRUSTC_PACS" && $0.detail.contains("node TRUST_B's") }, "\(alerts.map(\.detail))")
    }

    @Test func aNodeWithTLSRequiredCallingOverPlainTCPIsRejectedAndAudited() async throws {
        let (gw, _) = try await Self.boot("tls-auth-plain")
        defer { Task { await gw.stop() } }
        let plain = try await CacheQR.dcmtk("echoscu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(plain.status != 0, "\(plain.output)")
        #expect(plain.output.contains("Rejected Permanent"), "\(plain.output)")
        // B has no TLS requirement: plain TCP is fine for it.
        let b = try await CacheQR.dcmtk("echoscu", ["-aet", "TRUSTB_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(b.status == 0, "\(b.output)")
        #expect(try await CacheQR.eventually {
            try DicomTLSTests.audit(gw).contains {
                $0.event == "security-alert" && $0.outcome == "tls-required" && $0.actor == "TRUSTA_PACS" && $0.detail.contains("plain TCP")
            }
        })
    }
}
