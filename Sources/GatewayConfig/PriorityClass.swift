/// How urgently an instance must reach its destinations: `stat` > `urgent` > `routine` > `bulk`.
///
/// Workers always take the highest class first; outgoing requests carry DIMSE priority HIGH
/// for `stat` and `urgent`. Compare classes with `<`: `PriorityClass.routine < .urgent`.
public enum PriorityClass: String, Sendable, CaseIterable, Comparable, ConfigChoice {
    /// Life-threatening (stroke, trauma): overtakes everything on every link.
    case stat
    /// Needed soon: ahead of routine work.
    case urgent
    /// The default for anything no rule classifies.
    case routine
    /// Prefetch and backfill: only when nothing else waits.
    case bulk

    static let noun = "a priority class"

    /// 3 for `stat` down to 0 for `bulk`.
    public var rank: Int {
        switch self {
        case .stat: return 3
        case .urgent: return 2
        case .routine: return 1
        case .bulk: return 0
        }
    }

    /// The class stored as `rank` in the index; nil for a rank no class has.
    public init?(rank: Int) {
        guard let match = Self.allCases.first(where: { $0.rank == rank }) else { return nil }
        self = match
    }

    /// The name of the class stored as `rank`, or the number itself when no class has it.
    public static func name(ofRank rank: Int) -> String { PriorityClass(rank: rank)?.rawValue ?? "\(rank)" }

    public static func < (lhs: PriorityClass, rhs: PriorityClass) -> Bool { lhs.rank < rhs.rank }
}
