import DicomCore
import Foundation
import GatewayConfig
import Testing

/// `gateway.tls` and the nodes' `tls`, `certificate_sha256` and `certificate_subject`.
@Suite struct TLSConfigTests {
    static func files() throws -> URL {
        let dir = try makeTemporaryDirectory()
        for name in ["gw.crt", "gw.key", "ca.crt"] {
            try "x".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func gatewayTLSIsReadWithDefaultsAndPathsResolved() throws {
        let dir = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try GatewayConfiguration.parse(yaml: """
            gateway:
              port: 0
              tls: { certificate: gw.crt, private_key: gw.key, trusted: ., profile: bcp195-extended }
            """, sourceName: "gw.yaml", baseDirectory: dir)
        let tls = try #require(c.gateway.tls)
        #expect(c.gateway.port == 0)
        #expect(tls.port == 2762)
        #expect(tls.certificate.path == dir.appendingPathComponent("gw.crt").standardizedFileURL.path)
        #expect(tls.profile == .bcp195Extended)
        #expect(tls.requireClientCertificate)
        #expect(tls.crl == nil)
    }

    @Test func aMissingFileIsNamedWhereItIsConfigured() throws {
        let dir = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = "gateway:\n  tls:\n    certificate: gw.crt\n    private_key: nokey.pem\n    trusted: ca.crt\n"
        do {
            _ = try GatewayConfiguration.parse(yaml: yaml, sourceName: "gw.yaml", baseDirectory: dir)
            Issue.record("a missing private key was accepted")
        } catch {
            #expect(error.diagnostics.count == 1, "\(error)")
            #expect(error.description.contains("gw.yaml:4:18"), "\(error)")
            #expect(error.description.contains("no such file") && error.description.contains("nokey.pem"), "\(error)")
        }
        let missing = diagnostics("gateway:\n  tls: { port: 2762 }\n")
        #expect(missing.count == 3, "certificate, private_key and trusted are required: \(missing)")
    }

    @Test func plainPortZeroNeedsTLS() {
        let d = singleDiagnostic("gateway:\n  port: 0\n")
        #expect(d?.message.contains("gateway.tls") == true, "\(String(describing: d))")
    }

    @Test func nodePinsAreNormalisedAndCheckedAndTLSRequiredNeedsGatewayTLS() throws {
        let c = try parse("""
            nodes:
              A: { ae_title: A, roles: [source], certificate_sha256: "3F:A1:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD" }
              B: { ae_title: B, roles: [source], certificate_subject: "CN=trustb-pacs, O=Trust B" }
            """)
        let a = try #require(c.node(named: "A")), b = try #require(c.node(named: "B"))
        #expect(a.security.certificateSHA256 == "3fa100112233445566778899aabbccddeeff00112233445566778899aabbccdd")
        #expect(!a.security.required)
        #expect(b.security.pins(sha256: String(repeating: "0", count: 64), subject: "O=trust b,CN=TRUSTB-PACS"))
        #expect(!b.security.pins(sha256: String(repeating: "0", count: 64), subject: "O=Trust B,CN=trusta-pacs"))
        #expect(!a.security.pins(sha256: String(repeating: "0", count: 64), subject: ""))

        let bad = diagnostics("nodes:\n  A: { ae_title: A, roles: [source], certificate_sha256: abc, certificate_subject: nonsense }\n")
        #expect(bad.count == 2, "\(bad)")
        #expect(bad.contains { $0.message.contains("openssl x509 -noout -fingerprint -sha256") })
        let required = singleDiagnostic("nodes:\n  A: { ae_title: A, host: h, port: 1, roles: [destination], tls: required }\n")
        #expect(required?.message.contains("needs gateway.tls") == true, "\(String(describing: required))")
        let mode = singleDiagnostic("nodes:\n  A: { ae_title: A, roles: [source], tls: on }\n")
        #expect(mode?.message.contains("required or off") == true, "\(String(describing: mode))")
    }
}
