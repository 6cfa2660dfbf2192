import CDcmtk
import DicomCore
import Foundation

/// A DICOM TLS context (PS3.15 Annex B, BCP 195): the certificate presented, the CA peers must
/// chain to, the revocation list and the profile. Checked when made: a missing or unreadable
/// file, one that is not PEM, an expired certificate or a key that does not match it is named
/// in the error. Shared by every connection that uses it.
///
/// ```swift
/// let tls = try TLSContext(role: .listener, .init(certificate: "gw.crt", privateKey: "gw.key", trusted: "ca.crt"))
/// ```
public final class TLSContext: @unchecked Sendable {
    // Safe: the C context is immutable after creation and OpenSSL's SSL_CTX is safe to share
    // between threads for making sessions; freed only in deinit, after every user let go.
    public enum Role: Sendable { case listener, client }

    public enum Profile: Sendable {
        /// TLS 1.2 and 1.3 with BCP 195's non-downgrading suites (DCMTK TSP_Profile_BCP195_ND).
        case bcp195ND
        /// TLS 1.2 only, adding ECDSA suites (TSP_Profile_BCP195_Extended).
        case bcp195Extended
    }

    public struct Configuration: Sendable {
        public var certificate: String?
        public var privateKey: String?
        public var trusted: String
        public var crl: String?
        public var profile: Profile
        /// Listener: callers must present a certificate (otherwise it is verified if presented).
        public var requirePeerCertificate: Bool

        public init(certificate: String?, privateKey: String?, trusted: String, crl: String? = nil, profile: Profile = .bcp195ND,
                    requirePeerCertificate: Bool = true) {
            self.certificate = certificate
            self.privateKey = privateKey
            self.trusted = trusted
            self.crl = crl
            self.profile = profile
            self.requirePeerCertificate = requirePeerCertificate
        }
    }

    public let role: Role
    let pointer: OpaquePointer

    public init(role: Role, _ configuration: Configuration) throws(DicomNetworkError) {
        self.role = role
        var st = cdcm_status.empty()
        let made: OpaquePointer? = withOptionalCString(configuration.certificate) { cert in
            withOptionalCString(configuration.privateKey) { key in
                withOptionalCString(configuration.crl) { crl in
                    configuration.trusted.withCString { trusted in
                        var cfg = cdcm_tls_config(
                            acceptor: role == .listener ? 1 : 0, certificate: cert, private_key: key, trusted: trusted, crl: crl,
                            profile: Int32(configuration.profile == .bcp195Extended ? CDCM_TLS_BCP195_EXTENDED.rawValue : CDCM_TLS_BCP195_ND.rawValue),
                            require_peer_certificate: configuration.requirePeerCertificate ? 1 : 0)
                        return cdcm_tls_context_create(&cfg, &st)
                    }
                }
            }
        }
        guard let made else { throw DicomNetworkError(code: .tls, message: "DICOM TLS: \(st.textString)") }
        pointer = made
    }

    deinit { cdcm_tls_context_free(pointer) }

    /// The context the gateway's outbound associations to nodes with `tls` use (the gateway's
    /// certificate and trusted CA); nil until set. Replaced on a configuration reload.
    public static var client: TLSContext? {
        get { clientLock.withLock { clientContext } }
        set { clientLock.withLock { clientContext = newValue } }
    }
    private nonisolated(unsafe) static var clientContext: TLSContext?
    private static let clientLock = NSLockShim()
}

/// A certificate's identity: SHA-256 of its DER (lower-case hex) and subject (RFC 4514).
public struct CertificateIdentity: Sendable, Hashable, CustomStringConvertible {
    public let sha256: String
    public let subject: String
    public var description: String { "\(subject) (SHA-256 \(sha256))" }

    public init(sha256: String, subject: String) {
        self.sha256 = sha256
        self.subject = subject
    }

    /// Reads a PEM certificate file; also returns when it expires.
    public static func read(path: String) throws(DicomNetworkError) -> (identity: CertificateIdentity, notAfter: Date) {
        var info = cdcm_certificate_info()
        var st = cdcm_status.empty()
        guard cdcm_certificate_file_info(path, &info, &st) == 0 else { throw DicomNetworkError(code: .file, message: st.textString) }
        let sha = withUnsafeBytes(of: info.sha256) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let subject = withUnsafeBytes(of: info.subject) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return (CertificateIdentity(sha256: sha, subject: subject), Date(timeIntervalSince1970: TimeInterval(info.not_after)))
    }
}

func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s, !s.isEmpty else { return body(nil) }
    return s.withCString { body($0) }
}
