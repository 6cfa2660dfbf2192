import Foundation

/// The `limits:` section: what the gateway accepts from a peer before it parses anything, so
/// that hostile or broken input gets a clear refusal instead of crashing or starving the daemon.
///
/// Data sets (C-STORE, and the identifiers of C-FIND/C-MOVE/C-GET) are checked as their bytes
/// arrive, by a scanner that does not recurse; only what passes reaches DCMTK's parser. The
/// same check runs on every cached file written by an older version before it is parsed.
public struct LimitsSettings: Sendable, Hashable {
    /// Deepest nesting of sequences in a data set (`max_sequence_depth`, default 64, at most 256).
    /// Real objects nest fewer than 10 levels (structured reports rarely past 20); DCMTK 3.6.7
    /// parses nesting recursively, so this keeps every parse far inside a thread's stack.
    public var maxSequenceDepth = 64
    /// Elements in one data set, nested ones included (`max_elements`, default 1,000,000).
    public var maxElements: Int64 = 1_000_000
    /// Bytes of one value other than bulk data such as pixel data (`max_value_length`, default 16MB).
    public var maxValueLength = ByteCount.megabytes(16)
    /// Bytes of one encoded data set (`max_dataset_size`, default 4GB).
    public var maxDatasetSize = ByteCount.gigabytes(4)
    /// How long a new connection may take to send its whole A-ASSOCIATE-RQ
    /// (`association_request_timeout`, default 5s). Until then it holds no association slot and
    /// no thread; a connection that sends nothing, or drips, is closed when this runs out.
    public var associationRequestTimeout: Duration = .seconds(5)
    /// Connections from one address still waiting to send their A-ASSOCIATE-RQ
    /// (`max_pending_per_address`, default 32). A newer connection from an address at the limit
    /// closes that address's oldest waiting one, so idle connections cannot lock a caller out.
    public var maxPendingPerAddress = 32
    /// Connections waiting for their A-ASSOCIATE-RQ in all (`max_pending`, default 512).
    public var maxPending = 512

    /// The embedded defaults.
    public init() {}

    static let keys = ["max_sequence_depth", "max_elements", "max_value_length", "max_dataset_size",
                       "association_request_timeout", "max_pending_per_address", "max_pending"]

    static func read(_ section: ConfigMapping) -> LimitsSettings {
        var s = LimitsSettings()
        s.maxSequenceDepth = section.read("max_sequence_depth", default: s.maxSequenceDepth) {
            $0.int(in: 1...256, noun: "a sequence nesting depth")
        }
        s.maxElements = section.read("max_elements", default: s.maxElements) {
            $0.int(in: 1_000...10_000_000, noun: "a number of elements").map(Int64.init)
        }
        s.maxValueLength = section.read("max_value_length", default: s.maxValueLength) { $0.byteCount(minimum: 65_536) }
        s.maxDatasetSize = section.read("max_dataset_size", default: s.maxDatasetSize) { $0.byteCount(minimum: 1 << 20) }
        s.associationRequestTimeout = section.read("association_request_timeout", default: s.associationRequestTimeout) {
            $0.duration()
        }
        s.maxPendingPerAddress = section.read("max_pending_per_address", default: s.maxPendingPerAddress) {
            $0.int(in: 1...10_000, noun: "a number of connections")
        }
        s.maxPending = section.read("max_pending", default: s.maxPending) {
            $0.int(in: 1...100_000, noun: "a number of connections")
        }
        return s
    }
}
