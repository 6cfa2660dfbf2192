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
}
