/// The `priors:` section: when a new study arrives from a source, earlier studies of the same
/// patient at that source are fetched at `bulk` priority and sent where the new study goes, so
/// the reporter can compare.
///
/// ```yaml
/// priors: { count: 2, years: 5, match: [modality, body_part] }
/// ```
public struct PriorsSettings: Sendable, Hashable {
    /// Priors fetched per new study (`count`, default 0: off).
    public var count = 0
    /// Only studies at most this many years older (`years`, default 5).
    public var years = 5
    /// What a prior must share with the new study (`match`: modality, body_part; default
    /// [modality]); with both, either is enough.
    public var match: Set<PriorMatch> = [.modality]

    public init() {}

    public var isEnabled: Bool { count > 0 }

    static let keys = ["count", "years", "match"]

    static func read(_ section: ConfigMapping) -> PriorsSettings {
        var settings = PriorsSettings()
        settings.count = section.read("count", default: settings.count) { $0.int(in: 0...20, noun: "a number of priors") }
        settings.years = section.read("years", default: settings.years) { $0.int(in: 1...50, noun: "a number of years") }
        if let items = section.optional("match", { $0.list("[modality, body_part]") }) {
            let parsed = items.map { $0.choice(PriorMatch.self) }
            if parsed.allSatisfy({ $0 != nil }), !parsed.isEmpty { settings.match = Set(parsed.compactMap { $0 }) }
        }
        return settings
    }
}

/// What a prior study must have in common with the new one.
public enum PriorMatch: String, Sendable, CaseIterable, ConfigChoice {
    case modality
    case bodyPart = "body_part"

    static let noun = "a prior match (modality or body_part)"
}
