#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address or CIDR range (`10.1.2.0/24`, `10.1.2.3`, `2001:db8::/32`, `::1`), for
/// `nodes.*.hosts`. An IPv4 range also matches the IPv4-mapped IPv6 form of its addresses
/// (`::ffff:10.1.2.3`), as a dual-stack listener reports them.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The network address (4 or 16 bytes), with the bits past the prefix cleared.
    public let network: [UInt8]
    /// The prefix length in bits (32 or 128 for a single address).
    public let prefixLength: Int

    public struct ParseError: Error, Sendable {
        public let message: String
    }

    /// - Throws: `ParseError` naming what is wrong (a host name, a bad prefix, set host bits).
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let bytes = Self.bytes(of: parts[0]) else {
            let hint = HostAddress.isHostName(parts[0]) ? " (host names are not looked up here: write its address)" : ""
            throw ParseError(message: "'\(text.printable)' is not an IPv4 or IPv6 address or CIDR range such as 10.1.2.0/24\(hint)")
        }
        let bits = bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length), parts[1].allSatisfy(\.isNumber) else {
                throw ParseError(message: "'\(text.printable)' has an invalid prefix length; use /0 to /\(bits)")
            }
            prefix = length
        }
        let masked = Self.mask(bytes, prefix)
        guard masked == bytes else {
            throw ParseError(message: "'\(text.printable)' has bits set beyond its /\(prefix) prefix; "
                + "did you mean \(Self.format(masked))/\(prefix)?")
        }
        network = masked
        prefixLength = prefix
    }

    /// Whether `address` (an IP literal as the listener reports it) lies in the range; false for
    /// anything that is not an IP literal.
    public func contains(_ address: String) -> Bool {
        guard var bytes = Self.bytes(of: address) else { return false }
        // ::ffff:a.b.c.d against an IPv4 range; a.b.c.d against an IPv4-mapped IPv6 range.
        if bytes.count == 16, network.count == 4, bytes.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) {
            bytes = Array(bytes.suffix(4))
        }
        guard bytes.count == network.count else { return false }
        return Self.mask(bytes, prefixLength) == network
    }

    public var description: String {
        let full = network.count * 8
        return prefixLength == full ? Self.format(network) : "\(Self.format(network))/\(prefixLength)"
    }

    static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = max(0, min(8, prefix - index * 8))
            return keep == 8 ? byte : byte & ~(UInt8(0xFF) >> keep)
        }
    }

    static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(cString: buffer) : bytes.map(String.init).joined(separator: ".")
    }
}
