import Foundation

/// `gateway.tls:`: the DICOM TLS listener (PS3.15 Annex B, BCP 195) and the identity the gateway
/// presents when it calls nodes over TLS.
///
/// ```yaml
/// gateway:
///   tls:
///     port: 2762
///     certificate: /etc/dicom-gateway/tls/gateway.crt
///     private_key: /etc/dicom-gateway/tls/gateway.key
///     trusted: /etc/dicom-gateway/tls/network-ca.crt
/// ```
public struct GatewayTLSSettings: Sendable, Hashable {
    /// The DICOM TLS port (`port`, default 2762, IANA dicom-tls).
    public var port: Int = 2762
    /// The gateway's certificate, PEM (`certificate`, required); presented to callers and to the
    /// nodes the gateway calls over TLS.
    public var certificate: URL
    /// Its private key, PEM, unencrypted, readable by the gateway's user only (`private_key`, required).
    public var privateKey: URL
    /// The CA certificate(s) peers' certificates must chain to: a PEM file or a directory of them
    /// (`trusted`, required).
    public var trusted: URL
    /// A PEM certificate revocation list of that CA (`crl`, optional).
    public var crl: URL?
    /// Protocol versions and cipher suites (`profile`, default bcp195-nd).
    public var profile: TLSProfile = .bcp195ND
    /// Callers over TLS must present a certificate the trusted CA signed (`require_client_certificate`,
    /// default true). When false, a caller without one is accepted as far as TLS goes.
    public var requireClientCertificate = true

    public init(port: Int = 2762, certificate: URL, privateKey: URL, trusted: URL, crl: URL? = nil) {
        self.port = port
        self.certificate = certificate
        self.privateKey = privateKey
        self.trusted = trusted
        self.crl = crl
    }

    static let keys = ["port", "certificate", "private_key", "trusted", "crl", "profile", "require_client_certificate"]

    /// Problems that do not stop the gateway: a private key that other users may read.
    public var warnings: [String] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: privateKey.path),
              let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0
        else { return [] }
        return ["the private key \(privateKey.path) may be read by other users (mode \(String(mode, radix: 8))): chmod 600 it"]
    }

    static func read(_ section: ConfigMapping, baseDirectory: URL) -> GatewayTLSSettings? {
        let port = section.read("port", default: 2762) { $0.int(in: 1...65535, noun: "a port") }
        func file(_ key: String, directoryAllowed: Bool = false, required: Bool = true) -> URL? {
            guard let item = section[key], !item.isNull else {
                if required { section.reportMissing(key, " (DICOM TLS needs the gateway's certificate, its key and the trusted CA)") }
                return nil
            }
            guard let path = item.filePath() else { return nil }
            let url = StorageSettings.resolve(path, against: baseDirectory)
            if let problem = Self.fileProblem(url, directoryAllowed: directoryAllowed) {
                item.error(.invalidValue, problem)
                return nil
            }
            return url
        }
        let certificate = file("certificate")
        let privateKey = file("private_key")
        let trusted = file("trusted", directoryAllowed: true)
        let crl = file("crl", required: false)
        let profile = section.read("profile", default: TLSProfile.bcp195ND) { $0.choice() }
        let require = section.read("require_client_certificate", default: true) { $0.bool() }
        guard let certificate, let privateKey, let trusted, section["crl"] == nil || section["crl"]!.isNull || crl != nil
        else { return nil }
        var settings = GatewayTLSSettings(port: port, certificate: certificate, privateKey: privateKey, trusted: trusted, crl: crl)
        settings.profile = profile
        settings.requireClientCertificate = require
        return settings
    }

    /// Why a configured file cannot be used (missing, unreadable, a directory), or nil.
    static func fileProblem(_ url: URL, directoryAllowed: Bool) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            return "no such file: \(url.path)"
        }
        if isDirectory.boolValue {
            return directoryAllowed ? nil : "\(url.path) is a directory; give the PEM file"
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            return "cannot read \(url.path) (permissions: the gateway's user must be able to read it)"
        }
        return nil
    }
}

/// Which TLS versions and cipher suites DICOM TLS allows (DCMTK's BCP 195 profiles).
public enum TLSProfile: String, Sendable, CaseIterable, ConfigChoice {
    /// TLS 1.2 and 1.3 with the four non-downgrading BCP 195 suites (ECDHE/DHE-RSA with AES-GCM).
    case bcp195ND = "bcp195-nd"
    /// TLS 1.2 only, adding the ECDSA suites.
    case bcp195Extended = "bcp195-extended"

    static let noun = "a TLS profile"
}
