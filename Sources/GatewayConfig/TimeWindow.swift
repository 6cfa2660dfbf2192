import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A time of day to the minute, 00:00 to 23:59.
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Minutes since midnight, 0 ..< 1440.
    public let minutes: Int

    /// Clamps `hour` and `minute` into a valid time of day.
    public init(hour: Int, minute: Int) {
        minutes = max(0, min(23, hour)) * 60 + max(0, min(59, minute))
    }

    /// The local time of day at `date` (the machine's time zone), from localtime_r: routing asks for
    /// it for every instance, and a Calendar with its time zone costs far more.
    public static func local(at date: Date = Date()) -> TimeOfDay {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        return TimeOfDay(hour: Int(parts.tm_hour), minute: Int(parts.tm_min))
    }

    /// Parses `HH:MM` (24-hour clock); nil for anything else.
    public init?(parsing text: String) {
        guard let minutes = Self.minutes(text), minutes < 1440 else { return nil }
        self.minutes = minutes
    }

    /// Minutes since midnight of `HH:MM`, allowing `24:00` (1440); nil when malformed.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { ("0"..."9").contains($0) } }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), minute < 60,
              hour < 24 || (hour == 24 && minute == 0)
        else { return nil }
        return hour * 60 + minute
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }

    public var description: String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }
}

/// A daily window such as `08:00-18:00`: the start minute is inside, the end minute is not.
/// A window whose end is before its start wraps midnight (`22:00-06:00` is the night);
/// `00:00-24:00` is the whole day.
public struct TimeWindow: Sendable, Hashable, CustomStringConvertible {
    /// Minutes since midnight of the start, 0 ..< 1440.
    public let start: Int
    /// Minutes since midnight of the end, 0 ... 1440.
    public let end: Int

    /// Parses `HH:MM-HH:MM`; nil when malformed or empty (start equal to end).
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let start = TimeOfDay.minutes(String(parts[0]).trimmingCharacters(in: " ")),
              let end = TimeOfDay.minutes(String(parts[1]).trimmingCharacters(in: " ")),
              start < 1440, start != end, !(start == 0 && end == 0)
        else { return nil }
        self.start = start
        self.end = end
    }

    /// Whether `time` falls in the window.
    public func contains(_ time: TimeOfDay) -> Bool {
        start < end ? (start <= time.minutes && time.minutes < end)
                    : (time.minutes >= start || time.minutes < end)
    }

    public var description: String {
        TimeOfDay(hour: start / 60, minute: start % 60).description + "-"
            + (end == 1440 ? "24:00" : TimeOfDay(hour: end / 60, minute: end % 60).description)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
