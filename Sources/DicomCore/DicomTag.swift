/// A DICOM data element tag (group, element), PS3.5 section 7.1.
///
/// ```swift
/// let tag = DicomTag.patientID          // (0010,0020)
/// DicomTag(keyword: "StudyDate")        // (0008,0020)
/// DicomTag(parsing: "0020,000D")        // StudyInstanceUID
/// ```
public struct DicomTag: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let group: UInt16
    public let element: UInt16

    public init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    public init(rawValue: UInt32) {
        self.init(UInt16(rawValue >> 16), UInt16(rawValue & 0xFFFF))
    }

    public var rawValue: UInt32 { UInt32(group) << 16 | UInt32(element) }

    /// Accepts a keyword from the dictionary (`PatientID`) or `gggg,eeee` / `(gggg,eeee)` / `ggggeeee` in hex.
    public init?(parsing text: String) {
        if let tag = DicomTag(keyword: text) { self = tag; return }
        let hex = text.filter { $0.isHexDigit }
        let stripped = text.filter { !"(), ".contains($0) }
        guard hex.count == 8, stripped.count == 8, let raw = UInt32(hex, radix: 16) else { return nil }
        self.init(rawValue: raw)
    }

    public var description: String {
        "(" + Self.hex4(group) + "," + Self.hex4(element) + ")"
    }

    /// The keyword from the built-in dictionary, if the tag is one the gateway knows by name.
    public var keyword: String? { DicomDictionary.keyword(for: self) }

    public static func < (lhs: DicomTag, rhs: DicomTag) -> Bool { lhs.rawValue < rhs.rawValue }

    static func hex4(_ value: UInt16) -> String {
        let s = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - s.count) + s
    }
}
