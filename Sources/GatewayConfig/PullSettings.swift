import DicomCore

/// A source node's `pull:` section: the gateway asks the source what it holds and retrieves
/// what is not cached yet.
///
/// ```yaml
/// TRUST_A:
///   ae_title: TRUSTA_PACS
///   host: 10.1.2.3
///   port: 104
///   roles: [source]
///   pull: { interval: 5m, lookback: 2d, method: move, filters: { ModalitiesInStudy: CT, StationName: "CT*" } }
/// ```
public struct PullSettings: Sendable, Hashable {
    /// How often the source is asked (`interval`, default 5m).
    public var interval: Duration = .seconds(300)
    /// How far back the StudyDate range reaches (`lookback`, default 1d; whole days, today included).
    public var lookback: Duration = .seconds(86_400)
    /// How studies are retrieved (`method`, default `move`: C-MOVE to the gateway's own AE title,
    /// so the source must list the gateway as a move destination; `get`: C-GET, the instances
    /// come back on the gateway's own association).
    public var method: PullMethod = .move
    /// Extra C-FIND keys with their matching values (`filters`, keyword: value), e.g. `ModalitiesInStudy: CT`.
    public var filters: [DicomTag: String] = [:]

    public init() {}

    /// Whole days of look-back, at least 1.
    public var lookbackDays: Int { max(1, Int((lookback.seconds / 86_400).rounded(.up))) }

    static let keys = ["interval", "lookback", "method", "filters"]

    static func read(_ section: ConfigMapping) -> PullSettings {
        var settings = PullSettings()
        settings.interval = section.read("interval", default: settings.interval) { $0.duration() }
        settings.lookback = section.read("lookback", default: settings.lookback) { $0.duration() }
        settings.method = section.read("method", default: settings.method) { $0.choice() }
        if let filters = section.optional("filters", { $0.mapping(keys: nil) }) {
            for (key, value) in filters.entries {
                guard let tag = DicomTag(keyword: key) else {
                    value.error(.unknownKey, "'\(key.printable)' is not a DICOM keyword the gateway knows (e.g. ModalitiesInStudy, StationName, StudyDescription)")
                    continue
                }
                if let text = value.text("a C-FIND matching value such as CT or CT*") { settings.filters[tag] = text }
            }
        }
        return settings
    }
}

/// How studies are retrieved from a source.
public enum PullMethod: String, Sendable, CaseIterable, ConfigChoice {
    /// C-MOVE with the gateway's AE title as destination (the source must know the gateway).
    case move
    /// C-GET: the instances come back on the gateway's own association (no route back needed).
    case get

    static let noun = "a retrieve method"
}
