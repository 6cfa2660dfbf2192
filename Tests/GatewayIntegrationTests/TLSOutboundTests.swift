import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import Testing

/// Associations the gateway opens to a node with `tls: required` use DICOM TLS and verify the
/// node's certificate (trusted CA and pin): deliveries and C-MOVE sub-operations reach
/// `storescp +tls`; a peer with another certificate, or one the CA did not sign, is refused.
@Suite(.serialized) struct TLSOutboundTests {
    /// storescp over TLS presenting `certificate`, requiring the caller's certificate from the test CA.
    static func storescp(_ dir: TestDirectory, port: Int, certificate: String, out: String) throws -> PeerProcess {
        let scp = try PeerProcess("storescp", ["+tls", TestPKI.path("\(certificate).key"), TestPKI.path("\(certificate).crt"),
                                               "+cf", TestPKI.path("ca.crt"), "-aet", "VIEWER", "-od", out, "\(port)"],
                                  logDirectory: dir.path).start()
        #expect(Net.waitForListener(port))
        return scp
    }

    static func received(_ out: String) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: out).count) ?? 0 }

    static func nodesYAML(viewerPort: Int) throws -> String {
        """
        nodes:
          SRC: { ae_title: MODALITY1, roles: [source] }
          VIEWER: { ae_title: VIEWER, host: 127.0.0.1, port: \(viewerPort), roles: [destination], tls: required, certificate_sha256: "\(try TestPKI.fingerprint("trusta"))" }
        routes:
          - { name: to-viewer, from: [SRC], when: { StudyDescription: routed }, to: [VIEWER] }
        """
    }

    static var gatewayTLSYAML: String {
        "tls: { port: \(Net.freePort()), certificate: \(TestPKI.path("gateway.crt")), private_key: \(TestPKI.path("gateway.key")), trusted: \(TestPKI.path("ca.crt")) }"
    }

    @Test func routedDeliveriesGoOverTLSToTheVerifiedNode() async throws {
        _ = TestPKI.directory
        let dir = TestDirectory("tls-deliver")
        let viewerPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: try Self.nodesYAML(viewerPort: viewerPort), gatewayExtra: Self.gatewayTLSYAML)
        try gateway.start()
        defer { _ = gateway.terminate() }
        let out = dir.sub("viewer")
        let scp = try Self.storescp(dir, port: viewerPort, certificate: "trusta", out: out)
        defer { scp.stop() }
        let routed = try TestData.study(in: dir.sub("routed"), count: 3, description: "routed")
        let (status, output) = try await CacheQR.dcmtk("storescu", ["-aet", "MODALITY1", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + routed, in: dir)
        #expect(status == 0, "\(output)")
        #expect(try await CacheQR.eventually(timeout: 30) { Self.received(out) == 3 }, "delivered over TLS: \(Self.received(out)) of 3")
    }

    @Test func moveSubOperationsGoOverTLSToTheVerifiedNode() async throws {
        _ = TestPKI.directory
        let viewerPort = Net.freePort()
        let parsed = try GatewayConfiguration.parse(yaml: "gateway: { \(Self.gatewayTLSYAML) }\n" + (try Self.nodesYAML(viewerPort: viewerPort)),
                                                    sourceName: "tls-out.yaml", baseDirectory: URL(fileURLWithPath: "/"))
        let gw = try await CacheQR.boot("tls-move") { c in
            c.gateway.tls = parsed.gateway.tls
            c.nodes = parsed.nodes
        }
        defer { Task { await gw.stop() } }
        let out = gw.directory.sub("viewer")
        let scp = try Self.storescp(gw.directory, port: viewerPort, certificate: "trusta", out: out)
        defer { scp.stop() }
        let study = TestData.newUID()
        let moved = try TestData.study(in: gw.directory.sub("moved"), count: 2, studyUID: study)
        try await CacheQR.storescu(gw, moved, callingAE: "MODALITY1")
        let (status, output) = try await CacheQR.dcmtk("movescu", [
            "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "VIEWER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
        ], in: gw.directory)
        #expect(status == 0, "\(output)")
        #expect(try await CacheQR.eventually(timeout: 30) { Self.received(out) == 2 }, "C-MOVE sub-operations over TLS: \(Self.received(out)) of 2")
    }

    @Test func aPeerWithAnotherCertificateOrAnUntrustedOneIsRefused() async throws {
        let dir = TestDirectory("tls-out-pin")
        try DicomRuntime.bootstrap()
        let tls = try TLSContext(role: .client, .init(certificate: TestPKI.path("gateway.crt"), privateKey: TestPKI.path("gateway.key"),
                                                      trusted: TestPKI.path("ca.crt")))
        let files = try TestData.study(in: dir.sub("in"), count: 1)
        let port = Net.freePort(), out = dir.sub("out")
        let scp = try Self.storescp(dir, port: port, certificate: "trusta", out: out)
        defer { scp.stop() }
        var node = DicomNode(aeTitle: "VIEWER", host: "127.0.0.1", port: port)
        // The right pin: stored over TLS, and the peer's certificate is known to the caller.
        node.tls = TLSPeerRequirement(certificateSHA256: try TestPKI.fingerprint("trusta"))
        let a = try DicomAssociation.open(to: node, callingAE: "NETGW", contexts: [.init(SOPClass.verification)], tls: tls)
        #expect(a.peerCertificate?.subject.contains("CN=trusta-pacs") == true, "\(String(describing: a.peerCertificate))")
        try a.echo()
        a.release()
        // Pinned to another node's certificate: refused after the handshake, nothing sent.
        node.tls = TLSPeerRequirement(certificateSubject: DistinguishedName("CN=trustb-pacs,O=Trust B"))
        do {
            _ = try DicomAssociation.open(to: node, callingAE: "NETGW", contexts: [.init(SOPClass.verification)], tls: tls)
            Issue.record("a peer with another node's certificate must be refused")
        } catch {
            #expect(error.code == .tls && error.message.contains("CN=trusta-pacs"), "\(error)")
        }
        // A peer whose certificate another CA signed: the handshake fails.
        let otherPort = Net.freePort()
        let other = try Self.storescp(dir, port: otherPort, certificate: "other", out: dir.sub("other"))
        defer { other.stop() }
        let untrusted = DicomNode(aeTitle: "VIEWER", host: "127.0.0.1", port: otherPort)
        do {
            _ = try DicomAssociation.open(to: untrusted, callingAE: "NETGW", contexts: [.init(SOPClass.verification)], tls: tls)
            Issue.record("a peer whose certificate the trusted CA did not sign must be refused")
        } catch {
            #expect(error.message.contains("TLS"), "\(error)")
        }
        _ = files
        #expect(Self.received(dir.sub("other")) == 0)
    }

    @Test func theCommandLineEchoesAndSendsOverTLS() async throws {
        let dir = TestDirectory("tls-cli")
        let port = Net.freePort(), out = dir.sub("out")
        let scp = try Self.storescp(dir, port: port, certificate: "trusta", out: out)
        defer { scp.stop() }
        let tls = ["--tls", "--tls-cert", TestPKI.path("reporter.crt"), "--tls-key", TestPKI.path("reporter.key"),
                   "--tls-trusted", TestPKI.path("ca.crt")]
        let echo = try await CacheQR.offPool {
            try PeerProcess(GatewayProcess.binary, ["echo"] + tls + ["VIEWER@127.0.0.1:\(port)"], logDirectory: dir.path).run(timeout: 60)
        }
        #expect(echo.status == 0, "\(echo.output)")
        let files = try TestData.study(in: dir.sub("in"), count: 2)
        let send = try await CacheQR.offPool {
            try PeerProcess(GatewayProcess.binary, ["send"] + tls + ["VIEWER@127.0.0.1:\(port)"] + files, logDirectory: dir.path).run(timeout: 60)
        }
        #expect(send.status == 0, "\(send.output)")
        #expect(Self.received(out) == 2)
        // Without a client certificate storescp (which requires one) refuses.
        let anonymous = try await CacheQR.offPool {
            try PeerProcess(GatewayProcess.binary, ["echo", "--tls", "--tls-trusted", TestPKI.path("ca.crt"), "VIEWER@127.0.0.1:\(port)"],
                            logDirectory: dir.path).run(timeout: 60)
        }
        #expect(anonymous.status != 0, "\(anonymous.output)")
    }
}
