/// A DICOM unique identifier (PS3.5 section 9): dot-separated decimal components, at most
/// 64 characters. Validation is strict, so a validated UID is safe to use in a file name.
public struct UID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let value: String

    public init(_ text: String) throws(DicomValueError) {
        let trimmed = text.trimmingDicomPadding()
        guard UID.isValid(trimmed) else {
            throw DicomValueError("'\(UID.printable(trimmed))' is not a valid UID (digits and dots, at most 64 characters)")
        }
        value = trimmed
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("invalid UID literal: \(value)") }
    }

    public var description: String { value }

    /// True for 1-64 characters of digits and single dots, neither first nor last.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else {
            return false
        }
        var previousDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                previousDot = false
            } else {
                return false
            }
        }
        return true
    }

    /// A form of untrusted text safe to put in a log line or error message.
    public static func printable(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.prefix(80).map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return text.unicodeScalars.count > 80 ? cleaned + "..." : cleaned
    }
}
