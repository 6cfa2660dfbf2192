import DicomCore
import Foundation
import GatewayConfig

/// The test PKI of scripts/make-test-pki, made once per test run in a temporary directory: a CA,
/// the gateway's and nodes' certificates, an expired one, one from another CA and a revoked one.
enum TestPKI {
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "dicom-gateway-pki-\(getpid())"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/make-test-pki").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: script)
        p.arguments = [dir]
        p.standardOutput = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
        return dir
    }()

    static func path(_ file: String) -> String { directory + "/" + file }

    /// `gateway.tls` with the test PKI's gateway certificate and CA (optionally its CRL).
    static func gatewayTLS(port: Int, crl: Bool = false) -> GatewayTLSSettings {
        GatewayTLSSettings(port: port, certificate: URL(fileURLWithPath: path("gateway.crt")),
                           privateKey: URL(fileURLWithPath: path("gateway.key")), trusted: URL(fileURLWithPath: path("ca.crt")),
                           crl: crl ? URL(fileURLWithPath: path("ca.crl")) : nil)
    }

    /// DCMTK tool arguments for a TLS client presenting `name`'s certificate (nil: none, `+tla`).
    static func dcmtkClient(_ name: String?, trusting ca: String = "ca.crt") -> [String] {
        (name.map { ["+tls", path("\($0).key"), path("\($0).crt")] } ?? ["+tla"]) + ["+cf", path(ca)]
    }

    /// SHA-256 of a certificate of the test PKI, as openssl prints it (upper case, colons).
    static func fingerprint(_ name: String) throws -> String {
        let p = Process()
        let pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["x509", "-noout", "-fingerprint", "-sha256", "-in", path("\(name).crt")]
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return String(text.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A node pinned to the test PKI certificate `name`.
    static func pin(_ node: inout NodeConfig, to name: String, required: Bool = true) throws {
        node.security = NodeTLSSettings(required: required, certificateSHA256: NodeTLSSettings.normalizedSHA256(try fingerprint(name)))
    }

    /// A new key and certificate for `subject`, signed by the test CA (a renewal: same subject,
    /// new key and serial), written to `directory/name.key` and `name.crt`.
    static func issue(_ name: String, subject: String = "/O=Test Network/CN=netgw", in directory: String) throws {
        let (key, csr, crt, ext) = ["key", "csr", "crt", "ext"].map { directory + "/" + name + "." + $0 }.tuple4
        try "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        for step in [["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject],
                     ["x509", "-req", "-in", csr, "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-set_serial", "\(UInt32.random(in: 1...UInt32.max))",
                      "-days", "30", "-sha256", "-extfile", ext, "-out", crt]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = step
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw TestFailure("openssl \(step[0]) for \(name) failed") }
        }
        chmod(key, 0o600)
        try? FileManager.default.removeItem(atPath: csr)
    }
}

extension Array {
    fileprivate var tuple4: (Element, Element, Element, Element) { (self[0], self[1], self[2], self[3]) }
}
