import Foundation

/// A distinguished name as a set of attribute type and value pairs (RFC 4514 text), so that
/// "CN=a,O=b" and "O=b, CN=a" are the same name. Types compare without case (and known OIDs by
/// their short names); values without case, after unescaping.
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    public let attributes: [String: [String]]
    public let description: String

    public init?(_ text: String) {
        var attributes: [String: [String]] = [:]
        var current = ""
        var parts: [String] = []
        var escaped = false
        for ch in text {
            if escaped {
                current.append("\\")
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "," || ch == "+" || ch == ";" {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        guard !escaped else { return nil }
        parts.append(current)
        for part in parts {
            guard let eq = part.firstIndex(of: "=") else { return nil }
            let type = Self.canonicalType(part[..<eq].trimmingCharacters(in: .whitespaces))
            let value = Self.unescape(String(part[part.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
            guard !type.isEmpty, !value.isEmpty else { return nil }
            attributes[type, default: []].append(value.lowercased())
        }
        guard !attributes.isEmpty else { return nil }
        self.attributes = attributes.mapValues { $0.sorted() }
        description = text
    }

    public static func == (a: DistinguishedName, b: DistinguishedName) -> Bool { a.attributes == b.attributes }
    public func hash(into hasher: inout Hasher) { hasher.combine(attributes) }

    private static let aliases = ["2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C", "2.5.4.7": "L",
                                  "2.5.4.8": "ST", "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "EMAILADDRESS",
                                  "E": "EMAILADDRESS", "S": "ST"]

    private static func canonicalType(_ raw: String) -> String {
        let upper = raw.uppercased()
        let stripped = upper.hasPrefix("OID.") ? String(upper.dropFirst(4)) : upper
        return aliases[stripped] ?? stripped
    }

    /// Backslash escapes of RFC 4514: a special character, or two hex digits.
    private static func unescape(_ value: String) -> String {
        var out: [UInt8] = []
        var chars = Array(value.utf8)[...]
        while let c = chars.popFirst() {
            guard c == UInt8(ascii: "\\"), let next = chars.first else {
                out.append(c)
                continue
            }
            if chars.count >= 2, let byte = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) {
                out.append(byte)
                chars = chars.dropFirst(2)
            } else {
                out.append(next)
                chars = chars.dropFirst()
            }
        }
        var text = String(decoding: out, as: UTF8.self)
        if text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        return text
    }
}

/// What an outbound TLS peer's certificate must be, beyond chaining to the trusted CA: its
/// SHA-256 and/or subject when the node pins them.
public struct TLSPeerRequirement: Sendable, Hashable {
    /// Lower-case hex without colons.
    public var certificateSHA256: String?
    public var certificateSubject: DistinguishedName?

    public init(certificateSHA256: String? = nil, certificateSubject: DistinguishedName? = nil) {
        self.certificateSHA256 = certificateSHA256.flatMap(Self.normalizedSHA256)
        self.certificateSubject = certificateSubject
    }

    /// True when every pin given matches (and with no pin at all).
    public func accepts(sha256: String, subject: String) -> Bool {
        if let pinned = certificateSHA256, Self.normalizedSHA256(sha256) != pinned { return false }
        if let pinned = certificateSubject {
            guard let actual = DistinguishedName(subject), actual == pinned else { return false }
        }
        return true
    }

    /// Hex digits only, lower case ("3F:A1 ..." -> "3fa1..."); nil unless 64 hex digits remain.
    public static func normalizedSHA256(_ text: String) -> String? {
        let digits = text.lowercased().filter { $0 != ":" && $0 != " " }
        guard digits.count == 64, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
        return digits
    }
}
