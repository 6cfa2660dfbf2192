import CDcmtk

/// What a data set received or read from the cache may contain before DCMTK parses it: DCMTK
/// 3.6.7 recurses once per nested sequence without bound, so deeper data could overflow a
/// thread's stack. Checked by a scanner that does not recurse (`CDcmtk_limits.h`), as the bytes
/// arrive (C-STORE, query identifiers) or from a file (`DicomFile.checkLimits`).
public struct InputLimits: Sendable, Hashable {
    public var maxSequenceDepth = 64
    public var maxElements: Int64 = 1_000_000
    public var maxValueLength: Int64 = 16 << 20
    public var maxDatasetBytes: Int64 = 4 << 30

    public init() {}

    var c: cdcm_limits {
        cdcm_limits(max_sequence_depth: Int32(clamping: maxSequenceDepth), max_elements: maxElements,
                    max_value_length: maxValueLength, max_total_bytes: maxDatasetBytes)
    }
}

/// Why a data set was refused by the input limits.
public struct LimitsVerdict: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Int32, Sendable { case ok = 0, depth, elements, valueLength, total, malformed, io }
    public let kind: Kind
    /// One line for an operator, naming the limit, the tag and the offset (never a value).
    public let text: String
    public var description: String { text }
    public var isOK: Bool { kind == .ok }
}

extension DicomFile {
    /// Checks a cached or received Part 10 file against the limits without parsing it.
    public static func checkLimits(_ path: String, _ limits: InputLimits) -> LimitsVerdict {
        var c = limits.c
        var verdict = cdcm_limit_verdict()
        let kind = cdcm_file_check_limits(path, &c, &verdict)
        let text = withUnsafeBytes(of: &verdict.text) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return LimitsVerdict(kind: LimitsVerdict.Kind(rawValue: kind) ?? .malformed, text: text)
    }
}
