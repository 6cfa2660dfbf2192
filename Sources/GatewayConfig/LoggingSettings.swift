/// The `logging:` section.
public struct LoggingSettings: Sendable, Hashable {
    /// The gateway's own log level (`level`, default info).
    public var level: LogLevel = .info
    /// The level of DCMTK's log, which is forwarded to the gateway's log (`dcmtk_level`,
    /// default warning: DCMTK is chatty at info).
    public var dcmtkLevel: LogLevel = .warning
    /// Plain text lines or one JSON object per line (`format`, default text).
    public var format: LogFormat = .text
    /// When true, log lines may carry patient names and IDs (`patient_data`, default false).
    /// Leave false unless the log files are handled as patient records.
    public var patientData = false

    /// The embedded defaults.
    public init() {}

    static let keys = ["level", "dcmtk_level", "format", "patient_data"]

    static func read(_ section: ConfigMapping) -> LoggingSettings {
        var settings = LoggingSettings()
        settings.level = section.read("level", default: settings.level) { $0.choice() }
        settings.dcmtkLevel = section.read("dcmtk_level", default: settings.dcmtkLevel) { $0.choice() }
        settings.format = section.read("format", default: settings.format) { $0.choice() }
        settings.patientData = section.read("patient_data", default: settings.patientData) { $0.bool() }
        return settings
    }
}

/// A log level; the cases match swift-log's `Logger.Level` by name.
public enum LogLevel: String, Sendable, CaseIterable, Comparable, ConfigChoice {
    case trace, debug, info, notice, warning, error, critical

    static let noun = "a log level"

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable, ConfigChoice {
    /// Human-readable lines with `key=value` metadata.
    case text
    /// One JSON object per line, for log shippers.
    case json

    static let noun = "a log format"
}
