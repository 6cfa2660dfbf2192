#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks that a config value can name a network host: an IP literal or an RFC 1123 host name.
enum HostAddress {
    static func isValid(_ text: String) -> Bool {
        isIPv4(text) || isIPv6(text) || isHostName(text)
    }

    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// Dot-separated labels of letters, digits and inner hyphens, at most 253 characters,
    /// and not all digits (so a mistyped address such as `10.0.0.300` is not taken for a name).
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid = labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
        let numeric = text.allSatisfy { ("0"..."9").contains($0) || $0 == "." }
        return valid && !numeric
    }
}
