/// One media range of an HTTP `Accept` header (RFC 9110 12.5.1), as DICOMweb clients send them:
/// `multipart/related; type="application/octet-stream"; transfer-syntax=*;q=0.9`.
///
/// Type, subtype and parameter names are lowercased; parameter values are unquoted (OHIF sends
/// `type=application/octet-stream` without quotes when `omitQuotationForMultipartRequest` is set,
/// cornerstone and dicomweb-client quote it); `q` is taken out of the parameters.
public struct AcceptedMediaType: Sendable, Equatable, CustomStringConvertible {
    /// `type/subtype`, lowercased, e.g. `multipart/related`, `*/*`.
    public let mediaType: String
    /// Parameters other than `q`, names lowercased, values unquoted (case kept: UIDs, `*`).
    public let parameters: [String: String]
    /// Quality, 0...1 (1 when absent or unreadable).
    public let quality: Double

    public init(mediaType: String, parameters: [String: String] = [:], quality: Double = 1) {
        self.mediaType = mediaType.lowercased()
        self.parameters = parameters
        self.quality = quality
    }

    /// The `type` parameter of a multipart range, lowercased (`application/dicom`...).
    public var partType: String? { parameters["type"]?.lowercased() }
    /// The `transfer-syntax` parameter (`*` or a UID).
    public var transferSyntax: String? { parameters["transfer-syntax"] }

    /// Whether this range accepts `mediaType` (wildcards `*/*` and `type/*` included).
    public func matches(_ other: String) -> Bool {
        let other = other.lowercased()
        if mediaType == "*/*" || mediaType == other { return true }
        if mediaType.hasSuffix("/*") { return other.hasPrefix(mediaType.dropLast()) }
        return false
    }

    public var description: String {
        ([mediaType] + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: "; ")
    }
}

/// Parses `Accept` headers.
public enum AcceptHeader {
    /// The media ranges of one or more `Accept` header values, most preferred first (by `q`, then
    /// in the order given); ranges with `q=0` are dropped. An absent or empty header means `*/*`.
    ///
    /// ```swift
    /// AcceptHeader.parse(["multipart/related; type=application/octet-stream; transfer-syntax=*"])
    /// // [multipart/related; transfer-syntax=*; type=application/octet-stream]
    /// ```
    public static func parse(_ values: [String]) -> [AcceptedMediaType] {
        var ranges: [AcceptedMediaType] = []
        for value in values {
            for element in split(value, on: ",") {
                if let range = mediaRange(element) { ranges.append(range) }
            }
        }
        if values.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { return [AcceptedMediaType(mediaType: "*/*")] }
        return ranges.enumerated()
            .filter { $0.element.quality > 0 }
            .sorted { $0.element.quality != $1.element.quality ? $0.element.quality > $1.element.quality : $0.offset < $1.offset }
            .map(\.element)
    }

    static func mediaRange(_ text: String) -> AcceptedMediaType? {
        let pieces = split(text, on: ";")
        guard let first = pieces.first?.trimmingWhitespace(), first.contains("/"), !first.contains(" ") else { return nil }
        var parameters: [String: String] = [:]
        var quality = 1.0
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingWhitespace().lowercased()
            var value = piece[piece.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = unescape(String(value.dropFirst().dropLast()))
            }
            if name == "q" {
                quality = Double(value).map { min(max($0, 0), 1) } ?? 1
            } else if !name.isEmpty {
                parameters[name] = value
            }
        }
        return AcceptedMediaType(mediaType: first, parameters: parameters, quality: quality)
    }

    /// Splits on `separator` outside double quotes.
    static func split(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == separator && !quoted {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts.filter { !$0.trimmingWhitespace().isEmpty }
    }

    private static func unescape(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return result
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        return String(String.UnicodeScalarView(scalars))
    }
}
