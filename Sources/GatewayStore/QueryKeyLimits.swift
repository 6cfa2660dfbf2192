import DicomCore

/// Bounds on C-FIND/C-MOVE/C-GET matching keys, checked before a query runs: a key past them is
/// refused with a clear Error Comment, never dropped (which would match everything) and never
/// allowed to stall the index (SQLite's LIKE backtracks on many wildcards).
public enum QueryKeyLimits {
    /// Values in one list key (e.g. a StudyInstanceUID list); SQLite binds at most 32,766.
    public static let maxListValues = 20_000
    /// Bytes of one value of a key (no stored attribute a query matches on comes near this).
    public static let maxValueBytes = 4_096
    /// `*` and `?` wildcards in one value.
    public static let maxWildcards = 32

    /// Why `identifier` cannot be matched, as an Error Comment (at most 64 characters), or nil.
    public static func problem(_ identifier: DicomAttributes) -> String? {
        for (tag, value) in identifier {
            // Text and name keys are matched as one pattern, backslashes included (SQLite refuses
            // LIKE/GLOB patterns over 50,000 bytes): the whole value is bounded, not each part.
            if let kind = QueryAttributes.byTag[tag]?.kind, kind == .text || kind == .personName {
                if value.utf8.count > maxValueBytes { return "\(tag) value of \(value.utf8.count) bytes; at most \(maxValueBytes)" }
                if value.utf8.lazy.filter({ $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }).count > maxWildcards {
                    return "\(tag) has more than \(maxWildcards) wildcards"
                }
                continue
            }
            let values = value.split(separator: "\\", omittingEmptySubsequences: false)
            if values.count > maxListValues {
                return "\(tag) lists \(values.count) values; at most \(maxListValues)"
            }
            for v in values {
                if v.utf8.count > maxValueBytes {
                    return "\(tag) value of \(v.utf8.count) bytes; at most \(maxValueBytes)"
                }
                if v.utf8.lazy.filter({ $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }).count > maxWildcards {
                    return "\(tag) has more than \(maxWildcards) wildcards"
                }
            }
        }
        return nil
    }
}
