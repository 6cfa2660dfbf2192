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

    public static func < (lhs: PriorityClass, rhs: PriorityClass) -> Bool { lhs.rank < rhs.rank }
}
