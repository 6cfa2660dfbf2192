import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Dates as the index stores them on both engines: GRDB's text form, "yyyy-MM-dd HH:mm:ss.SSS" in
/// UTC, which orders as the dates do (so `<=` on the column compares dates). Made and read here
/// without a DateFormatter (ICU), for the per-instance writes and reads.
enum IndexDate {
    static func text(_ date: Date) -> String {
        // Whole milliseconds first, rounded to the nearest as Foundation's DateFormatter hands
        // them to ICU (flooring the fraction alone would lose one).
        let total = Int64((date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down))
        var seconds = time_t(total >= 0 ? total / 1000 : (total - 999) / 1000)
        let millis = Int(total - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))"
    }

    /// The date of a stored text: "yyyy-MM-dd", "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss" or with
    /// a fraction ("T" accepted for the space), as GRDB reads them; nil for anything else.
    static func date(_ text: String) -> Date? {
        var utf8 = Array(text.utf8)
        if utf8.last == UInt8(ascii: "Z") { utf8.removeLast() }
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= utf8.count else { return nil }
            var value = 0
            for i in from..<from + count {
                let c = utf8[i]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard utf8.count >= 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2) else { return nil }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        if utf8.count > 10 {
            guard utf8[10] == UInt8(ascii: " ") || utf8[10] == UInt8(ascii: "T"), utf8.count >= 16,
                  utf8[13] == UInt8(ascii: ":"), let h = number(11, 2), let m = number(14, 2) else { return nil }
            hour = h
            minute = m
            if utf8.count > 16 {
                guard utf8.count >= 19, utf8[16] == UInt8(ascii: ":"), let s = number(17, 2) else { return nil }
                second = s
                if utf8.count > 19 {
                    guard utf8[19] == UInt8(ascii: "."), utf8.count > 20, let digits = number(20, utf8.count - 20) else { return nil }
                    fraction = Double(digits) / pow(10, Double(utf8.count - 20))
                }
            }
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
