/// An amount of storage, written in config files as `500GB`, `1.5 TB`, `64MB` or a plain number
/// of bytes. Units are binary: 1 KB = 1024 B (`KiB`, `MiB` ... are accepted as synonyms), as
/// `df -h` counts them. Units are case-insensitive.
///
/// ```swift
/// ByteCount(parsing: "1GB")?.bytes   // 1_073_741_824
/// ```
public struct ByteCount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let bytes: Int64

    public init(bytes: Int64) {
        self.bytes = bytes
    }

    public static func kilobytes(_ n: Int64) -> ByteCount { ByteCount(bytes: n << 10) }
    public static func megabytes(_ n: Int64) -> ByteCount { ByteCount(bytes: n << 20) }
    public static func gigabytes(_ n: Int64) -> ByteCount { ByteCount(bytes: n << 30) }
    public static func terabytes(_ n: Int64) -> ByteCount { ByteCount(bytes: n << 40) }

    /// The units accepted after the number, with their size in bytes.
    static let units: [(names: [String], shift: Int64)] = [
        (["b", ""], 0), (["kb", "kib", "k"], 10), (["mb", "mib", "m"], 20),
        (["gb", "gib", "g"], 30), (["tb", "tib", "t"], 40),
    ]

    /// Parses `<number>[ ]<unit>`; nil for anything else, negative values or overflow.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces()
        let numberPart = trimmed.prefix { ("0"..."9").contains($0) || $0 == "." }
        let unitPart = trimmed.dropFirst(numberPart.count).trimmingSpaces().lowercased()
        guard !numberPart.isEmpty, let number = Double(numberPart),
              let unit = Self.units.first(where: { $0.names.contains(unitPart) })
        else { return nil }
        let value = number * Double(Int64(1) << unit.shift)
        guard value.isFinite, value < Double(Int64.max) else { return nil }
        bytes = Int64(value.rounded())
    }

    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.bytes < rhs.bytes }

    /// The largest unit that divides the value exactly: `500GB`, `1536MB`, `12B`.
    public var description: String {
        for (names, shift) in Self.units.reversed() where shift > 0 {
            let size = Int64(1) << shift
            if bytes != 0, bytes % size == 0 { return "\(bytes / size)\(names[0].uppercased())" }
        }
        return "\(bytes)B"
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
