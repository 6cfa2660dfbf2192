import DicomCore

/// A node's DICOM TLS settings (keys of its entry under `nodes:`): whether it is called over TLS
/// and must call over TLS, and which certificate is its own.
///
/// ```yaml
/// nodes:
///   TRUST_A:
///     tls: required
///     certificate_sha256: "3F:A1:...:09"      # or certificate_subject: "CN=trusta-pacs,O=RTH"
/// ```
public struct NodeTLSSettings: Sendable, Hashable {
    /// `tls: required`: the gateway calls it over TLS only, and refuses its associations over
    /// plain TCP. `off` (the default): plain TCP both ways (it may still call the TLS port).
    public var required = false
    /// The SHA-256 of its certificate, lower-case hex without colons (`certificate_sha256`).
    public var certificateSHA256: String?
    /// The subject its certificate must carry (`certificate_subject`, RFC 4514; the same set of
    /// attributes in any order, values compared without regard to case).
    public var certificateSubject: DistinguishedName?

    public init(required: Bool = false, certificateSHA256: String? = nil, certificateSubject: DistinguishedName? = nil) {
        self.required = required
        self.certificateSHA256 = certificateSHA256
        self.certificateSubject = certificateSubject
    }

    /// True when the node names its certificate (a pin).
    public var isPinned: Bool { certificateSHA256 != nil || certificateSubject != nil }

    /// What a certificate must be to be this node's (its pins).
    public var requirement: TLSPeerRequirement {
        TLSPeerRequirement(certificateSHA256: certificateSHA256, certificateSubject: certificateSubject)
    }

    /// Whether a certificate with this SHA-256 (hex) and subject (RFC 4514) is this node's: every
    /// pin given must match; without a pin, nothing is the node's.
    public func pins(sha256: String, subject: String) -> Bool {
        isPinned && requirement.accepts(sha256: sha256, subject: subject)
    }

    static let keys = ["tls", "certificate_sha256", "certificate_subject"]

    /// Hex digits only, lower case ("3F:A1 ..." -> "3fa1..."); nil unless 64 hex digits remain.
    public static func normalizedSHA256(_ text: String) -> String? { TLSPeerRequirement.normalizedSHA256(text) }

    static func read(_ fields: ConfigMapping) -> NodeTLSSettings {
        var settings = NodeTLSSettings()
        settings.required = fields.read("tls", default: NodeTLSMode.off) { $0.choice() } == .required
        settings.certificateSHA256 = fields.optional("certificate_sha256") { item in
            guard let raw = item.text("a SHA-256 fingerprint") else { return nil }
            guard let hex = normalizedSHA256(raw) else {
                item.error(.invalidValue, "'\(raw.printable)' is not a SHA-256 fingerprint (64 hex digits, colons allowed); "
                    + "print one with: openssl x509 -noout -fingerprint -sha256 -in node.crt")
                return nil
            }
            return hex
        }
        settings.certificateSubject = fields.optional("certificate_subject") { item in
            guard let raw = item.text("a certificate subject such as CN=trusta-pacs,O=RTH") else { return nil }
            guard let name = DistinguishedName(raw) else {
                item.error(.invalidValue, "'\(raw.printable)' is not a certificate subject (RFC 4514, e.g. CN=trusta-pacs,O=RTH); "
                    + "print one with: openssl x509 -noout -subject -nameopt RFC2253 -in node.crt")
                return nil
            }
            return name
        }
        return settings
    }
}

/// `tls:` of a node.
enum NodeTLSMode: String, CaseIterable, ConfigChoice {
    case required, off
    static let noun = "a TLS mode (required or off)"
}

