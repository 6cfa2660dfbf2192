import Foundation

/// The `delivery:` section: how queued deliveries are sent, retried, aged and given up.
///
/// ```yaml
/// delivery: { batch_size: 32, max_attempts: 10, max_age: 7d, aging: 30m, retry_initial: 5s, retry_max: 10m }
/// ```
public struct DeliverySettings: Sendable, Hashable {
    /// Instances sent per association before the worker chooses again (`batch_size`, default 32).
    /// Smaller batches let stat work in sooner on a destination with a single association.
    public var batchSize = 32
    /// Attempts before a delivery is `dead` (`max_attempts`, default 10).
    public var maxAttempts = 10
    /// A delivery still failing this long after it was queued is `dead` (`max_age`, default 7d).
    public var maxAge: Duration = .seconds(7 * 86_400)
    /// Work waiting longer than this moves up one class in the order workers take it, so a
    /// routine backlog is never starved by a stream of urgent work (`aging`, default 30m).
    /// It never changes the DIMSE priority the instance is sent with.
    public var aging: Duration = .seconds(30 * 60)
    /// First retry delay after a refusal; it doubles per attempt (`retry_initial`, default 5s).
    public var retryInitial: Duration = .seconds(5)
    /// Longest retry delay (`retry_max`, default 10m).
    public var retryMax: Duration = .seconds(600)

    /// The embedded defaults.
    public init() {}

    static let keys = ["batch_size", "max_attempts", "max_age", "aging", "retry_initial", "retry_max"]

    static func read(_ section: ConfigMapping) -> DeliverySettings {
        var settings = DeliverySettings()
        settings.batchSize = section.read("batch_size", default: settings.batchSize) { $0.int(in: 1...1000, noun: "a batch size") }
        settings.maxAttempts = section.read("max_attempts", default: settings.maxAttempts) {
            $0.int(in: 1...1000, noun: "a number of attempts")
        }
        settings.maxAge = section.read("max_age", default: settings.maxAge) { $0.duration() }
        settings.aging = section.read("aging", default: settings.aging) { $0.duration() }
        settings.retryInitial = section.read("retry_initial", default: settings.retryInitial) { $0.duration() }
        settings.retryMax = section.read("retry_max", default: settings.retryMax) { $0.duration() }
        return settings
    }
}

extension Duration {
    /// Whole seconds, for arithmetic with dates.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// Parses `90`, `90s`, `15m`, `2h` or `7d` (a positive whole number and an optional unit).
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(trimmed)
        var multiplier: Int64 = 1
        if let last = trimmed.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value > 0,
              value <= Int64(365 * 86_400) / multiplier
        else { return nil }
        self = .seconds(value * multiplier)
    }
}

extension ConfigValue {
    /// A positive duration such as `30s`, `15m`, `2h`, `7d` (a plain number is seconds, at most a year).
    func duration() -> Duration? {
        guard let raw = text("a duration such as 30s, 15m, 2h or 7d") else { return nil }
        guard let duration = Duration(parsing: raw) else {
            error(.invalidValue, "'\(raw.printable)' is not a duration; write a positive number with s, m, h or d (at most a year), e.g. 15m")
            return nil
        }
        return duration
    }
}
