import DicomCore
import Foundation
import Testing

/// Certificate rotation on the running gateway (the real binary): the certificate and key files
/// replaced by a renewal from the test CA, SIGHUP, and the next TLS connection is served the new
/// certificate (read back with `openssl s_client`) while DCMTK's echoscu +tls still gets in; a
/// broken replacement (a certificate whose key was not replaced with it) is refused, logged and
/// audited, and the running certificate stays in service.
@Suite(.serialized) struct TLSCertificateReloadTests {
    /// The PEM body of the certificate a new TLS connection to `port` is served.
    static func servedCertificate(port: Int) async throws -> String {
        let r = try await OpenSSLClient.run(["-connect", "127.0.0.1:\(port)", "-cert", TestPKI.path("trusta.crt"),
                                             "-key", TestPKI.path("trusta.key"), "-CAfile", TestPKI.path("ca.crt")])
        return pemBody(r.output)
    }

    /// The base64 of the first certificate in `text`, without line breaks.
    static func pemBody(_ text: String) -> String {
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex) else { return "" }
        return text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
    }

    static func file(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// Copies `from` over `to` as an operator would (a new file renamed into place).
    static func replace(_ to: String, with from: String) throws {
        let staged = to + ".new"
        try? FileManager.default.removeItem(atPath: staged)
        try FileManager.default.copyItem(atPath: from, toPath: staged)
        chmod(staged, to.hasSuffix(".key") ? 0o600 : 0o644)
        _ = rename(staged, to)
    }

    @Test func sighupServesARenewedCertificateAndKeepsTheRunningOneWhenTheReplacementIsBroken() async throws {
        _ = TestPKI.directory
        let dir = TestDirectory("tls-reload")
        let tls = dir.sub("tls")
        let (cert, key) = (tls + "/gateway.crt", tls + "/gateway.key")
        try Self.replace(cert, with: TestPKI.path("gateway.crt"))
        try Self.replace(key, with: TestPKI.path("gateway.key"))
        try TestPKI.issue("renewed", in: tls)
        try TestPKI.issue("another", in: tls)
        let tlsPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, gatewayExtra: "tls: { port: \(tlsPort), certificate: \(cert), private_key: \(key), trusted: \(TestPKI.path("ca.crt")) }")
        let process = try gateway.start()
        defer { _ = gateway.terminate() }
        #expect(Net.waitForListener(tlsPort))
        let original = Self.pemBody(Self.file(TestPKI.path("gateway.crt")))
        let renewed = Self.pemBody(Self.file(tls + "/renewed.crt"))
        #expect(!original.isEmpty && !renewed.isEmpty && original != renewed)
        #expect(try await Self.servedCertificate(port: tlsPort) == original)

        // Rotation: key and certificate replaced, SIGHUP; new connections get the renewal.
        try Self.replace(key, with: tls + "/renewed.key")
        try Self.replace(cert, with: tls + "/renewed.crt")
        process.signal(SIGHUP)
        #expect(try await CacheQR.eventually(timeout: 20) { process.output.contains("DICOM TLS certificates reloaded") }, "\(process.output.suffix(2000))")
        #expect(try await Self.servedCertificate(port: tlsPort) == renewed)
        let echo = try await CacheQR.dcmtk("echoscu", TestPKI.dcmtkClient("trusta") + ["-aet", "MODALITY1", "-aec", "NETGW", "127.0.0.1", "\(tlsPort)"], in: dir)
        #expect(echo.status == 0, "echoscu +tls after the rotation: \(echo.output)")

        // A broken replacement: another certificate, its key not copied with it. Refused, said,
        // audited; the renewal stays in service.
        try Self.replace(cert, with: tls + "/another.crt")
        process.signal(SIGHUP)
        #expect(try await CacheQR.eventually(timeout: 20) { process.output.contains("DICOM TLS reload refused") }, "\(process.output.suffix(2000))")
        #expect(process.output.contains("does not belong to certificate"), "\(process.output.suffix(2000))")
        #expect(try await Self.servedCertificate(port: tlsPort) == renewed)
        let again = try await CacheQR.dcmtk("echoscu", TestPKI.dcmtkClient("trusta") + ["-aet", "MODALITY1", "-aec", "NETGW", "127.0.0.1", "\(tlsPort)"], in: dir)
        #expect(again.status == 0, "echoscu +tls after a refused reload: \(again.output)")
        let audited = try await CacheQR.eventually {
            let rows = try WorklistPeers.rows(gateway, "SELECT outcome, detail FROM audit WHERE event = 'config' AND actor = 'SIGHUP' AND detail LIKE 'DICOM TLS%' ORDER BY id")
            return rows.map { $0["outcome"] as String } == ["reloaded", "refused"]
                && (rows.first?["detail"] as String?)?.contains("CN=netgw") == true
        }
        #expect(audited, "\((try? WorklistPeers.rows(gateway, "SELECT outcome, detail FROM audit WHERE event = 'config'")) ?? [])")
    }
}
