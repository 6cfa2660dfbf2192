/// An application entity title (PS3.5 VR AE): 1-16 characters of the default character
/// repertoire, no backslash or control characters, not only spaces.
public struct AETitle: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let value: String

    /// Validates `text`; leading and trailing spaces are not significant.
    public init(_ text: String) throws(DicomValueError) {
        let trimmed = text.trimmingDicomPadding()
        guard !trimmed.isEmpty else { throw DicomValueError("AE title is empty") }
        guard trimmed.utf8.count <= 16 else {
            throw DicomValueError("AE title '\(trimmed)' is longer than 16 characters")
        }
        guard trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
            throw DicomValueError("AE title contains a control character, backslash or non-ASCII character")
        }
        value = trimmed
    }

    public init(stringLiteral value: String) {
        // Literals are programmer-written constants; an invalid one is a bug.
        do { try self.init(value) } catch { preconditionFailure("invalid AE title literal: \(value)") }
    }

    public var description: String { value }
}

/// A value that breaks the rules of its DICOM value representation.
public struct DicomValueError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
