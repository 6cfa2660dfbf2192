import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import GRDB
import Testing

/// DICOM TLS on the gateway's TLS port (PS3.15 Annex B, BCP 195): DCMTK's tools with a valid
/// client certificate get in; without one, with one from another CA, expired or revoked they are
/// refused and each refusal is a security alert; old protocol versions and weak suites are
/// refused by the server itself.
@Suite(.serialized) struct DicomTLSTests {
    static func boot(_ label: String, crl: Bool = false, configure: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in })
        async throws -> (GatewayUnderTest, Int)
    {
        let tlsPort = Net.freePort()
        _ = TestPKI.directory
        let gw = try await CacheQR.boot(label) { c in
            c.gateway.tls = TestPKI.gatewayTLS(port: tlsPort, crl: crl)
            configure(&c)
        }
        #expect(gw.gateway.dicomServer.tlsPort == tlsPort)
        return (gw, tlsPort)
    }

    static func echo(_ gw: GatewayUnderTest, _ tlsPort: Int, certificate: String?, ca: String = "ca.crt", ae: String = "MODALITY1")
        async throws -> (status: Int32, output: String)
    {
        try await CacheQR.dcmtk("echoscu", TestPKI.dcmtkClient(certificate, trusting: ca) + ["-aet", ae, "-aec", "NETGW", "127.0.0.1", "\(tlsPort)"],
                                in: gw.directory)
    }

    static func audit(_ gw: GatewayUnderTest) throws -> [AuditRecord] {
        try gw.gateway.index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit ORDER BY id") }
    }

    @Test func aValidClientCertificateEchoesAndStoresOverTLS() async throws {
        let (gw, tlsPort) = try await Self.boot("tls-ok")
        defer { Task { await gw.stop() } }
        let echo = try await Self.echo(gw, tlsPort, certificate: "newcomer")
        #expect(echo.status == 0, "\(echo.output)")
        let files = try TestData.study(in: gw.directory.sub("in"), count: 5)
        let store = try await CacheQR.dcmtk("storescu", TestPKI.dcmtkClient("newcomer") + ["-aet", "MODALITY1", "-aec", "NETGW", "127.0.0.1", "\(tlsPort)"] + files,
                                            in: gw.directory)
        #expect(store.status == 0, "\(store.output)")
        #expect(try await CacheQR.eventually { gw.storedFiles().count == 5 }, "stored \(gw.storedFiles().count) of 5 over TLS")
        // The unknown caller's certificate subject is in the audit trail.
        #expect(try await CacheQR.eventually { try Self.audit(gw).contains { $0.outcome == "unknown-caller-tls" && $0.detail.contains("CN=newcomer") } })
        // The plain port still works beside the TLS one.
        let plain = try await CacheQR.dcmtk("echoscu", ["-aet", "MODALITY1", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(plain.status == 0, "\(plain.output)")
    }

    @Test(arguments: [nil, "other", "expired", "revoked"] as [String?])
    func aCallerWithoutAValidCertificateIsRefusedAndAlerted(certificate: String?) async throws {
        let (gw, tlsPort) = try await Self.boot("tls-bad", crl: true)
        defer { Task { await gw.stop() } }
        let refused = try await Self.echo(gw, tlsPort, certificate: certificate)
        #expect(refused.status != 0, "echoscu with \(certificate ?? "no certificate") must be refused: \(refused.output)")
        #expect(try await CacheQR.eventually {
            try Self.audit(gw).contains { $0.event == "security-alert" && $0.outcome == "bad-certificate" && $0.peer == "127.0.0.1" }
        }, "\((try? Self.audit(gw))?.map { "\($0.event)/\($0.outcome)/\($0.detail)" } ?? [])")
        // With the CRL in force, a valid certificate still gets in.
        let valid = try await Self.echo(gw, tlsPort, certificate: "trusta")
        #expect(valid.status == 0, "\(valid.output)")
    }

    @Test func oldProtocolVersionsAndWeakSuitesAreRefusedByTheServer() async throws {
        let (gw, tlsPort) = try await Self.boot("tls-versions")
        defer { Task { await gw.stop() } }
        let client = ["-connect", "127.0.0.1:\(tlsPort)", "-cert", TestPKI.path("trusta.crt"), "-key", TestPKI.path("trusta.key"),
                      "-CAfile", TestPKI.path("ca.crt")]
        for old in ["-tls1", "-tls1_1"] {
            let r = try await OpenSSLClient.run(client + [old, "-cipher", "DEFAULT@SECLEVEL=0"])
            #expect(r.status != 0, "\(old) must be refused by the server: \(r.output)")
            #expect(!r.output.contains("Verify return code: 0 (ok)") || r.output.contains("Cipher is (NONE)"), "\(r.output)")
        }
        for current in ["-tls1_2", "-tls1_3"] {
            let r = try await OpenSSLClient.run(client + [current])
            #expect(r.status == 0, "\(current) must be accepted: \(r.output)")
            #expect(r.output.contains(current == "-tls1_2" ? "TLSv1.2" : "TLSv1.3"), "\(r.output)")
        }
        let weak = try await OpenSSLClient.run(client + ["-tls1_2", "-cipher", "AES128-SHA"])
        #expect(weak.status != 0, "a TLS 1.2 client offering only AES128-SHA must be refused: \(weak.output)")
    }

    @Test func handshakesThatNeverCompleteHoldNoSlotAndAreClosedByTheTimeout() async throws {
        let (gw, tlsPort) = try await Self.boot("tls-idle") { c in
            c.gateway.maxAssociations = 1
            c.limits.associationRequestTimeout = .seconds(1)
        }
        defer { Task { await gw.stop() } }
        var silent: [RawConnection] = []
        for _ in 0..<10 { if let c = RawConnection(port: tlsPort) { silent.append(c) } }
        // Half a ClientHello: a TLS record header announcing 512 bytes, and 20 of them.
        var half: [RawConnection] = []
        for _ in 0..<5 {
            guard let c = RawConnection(port: tlsPort) else { continue }
            c.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + Array(repeating: 0x42, count: 20))
            half.append(c)
        }
        #expect(silent.count == 10 && half.count == 5)
        // With one association slot, a real caller still gets in while they wait.
        let echo = try await Self.echo(gw, tlsPort, certificate: "trusta")
        #expect(echo.status == 0, "a TLS caller must get in while 15 handshakes hang: \(echo.output)")
        let waiting = silent + half
        let closed = await OffPool.waitUntil(timeout: 5) { waiting.allSatisfy { $0.peerClosed() } }
        #expect(closed, "the gate must close handshakes that do not complete within association_request_timeout")
        for c in silent + half { c.close() }
        #expect(try await CacheQR.eventually {
            try Self.audit(gw).contains { $0.event == "security-alert" && $0.outcome == "tls-handshake-failed" }
        })
    }
}

/// `openssl s_client`, stdin closed, so it ends after the handshake.
enum OpenSSLClient {
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await CacheQR.offPool {
            let p = Process()
            let pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = ["s_client"] + arguments
            p.standardInput = FileHandle.nullDevice
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }
}
