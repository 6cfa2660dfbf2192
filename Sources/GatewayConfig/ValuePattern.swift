import DicomCore

/// One way an attribute value can match in a rule's `when:` mapping, as written in the file.
///
/// | written                 | pattern                                   |
/// |-------------------------|-------------------------------------------|
/// | `CT`                    | `.exact("CT")`                            |
/// | `"~(?i)stroke"`         | `.regex("(?i)stroke")`, searched anywhere |
/// | `"CT*"`, `"HEAD?"`      | `.wildcard`, the whole value, DICOM-style |
/// | `20240101-20241231`     | `.range` (DA, TM and DT attributes only)  |
/// | `present` / `absent`    | `.present` / `.absent`                    |
/// | `"=present"`, `"=~x"`   | `.exact` of the text after `=`            |
///
/// A list (`[CT, MR]`) matches when any of its patterns matches.
public enum ValuePattern: Sendable, Hashable, CustomStringConvertible {
    /// The value (DICOM padding trimmed), or one of its `\`-separated values, equals the text.
    case exact(String)
    /// An `NSRegularExpression` pattern found anywhere in the value (anchor with `^...$`).
    case regex(String)
    /// `*` any run of characters, `?` one character; matches the whole value or one of its values.
    case wildcard(String)
    /// An inclusive range of DA/TM/DT values; a nil bound is open (`20240101-`, `-20241231`).
    case range(lower: String?, upper: String?)
    /// The attribute is there with a non-empty value.
    case present
    /// The attribute is missing or empty.
    case absent

    public var description: String {
        switch self {
        case let .exact(text): return text
        case let .regex(pattern): return "~" + pattern
        case let .wildcard(pattern): return pattern
        case let .range(lower, upper): return (lower ?? "") + "-" + (upper ?? "")
        case .present: return "present"
        case .absent: return "absent"
        }
    }
}

/// An attribute and the patterns its value is tested against (any one must match).
public struct AttributeMatchConfig: Sendable, Hashable {
    /// The attribute, from its keyword or `gggg,eeee`.
    public var tag: DicomTag
    /// Alternatives; the condition holds when one matches.
    public var patterns: [ValuePattern]

    public init(tag: DicomTag, patterns: [ValuePattern]) {
        self.tag = tag
        self.patterns = patterns
    }
}

/// What kind of object an instance is, derived from its SOP Class UID.
public enum InstanceCategory: String, Sendable, CaseIterable, ConfigChoice {
    /// Any image storage SOP class (CT, MR, CR, DX, US, secondary capture ...).
    case image
    /// Structured reports, key object selections, encapsulated PDF and CDA documents.
    case report
    /// Presentation states (grayscale, color, pseudo-color, blending ...).
    case presentation_state
    /// Everything else: waveforms, raw data, RT plans and structures, unknown classes.
    case other

    static let noun = "a category"
}
