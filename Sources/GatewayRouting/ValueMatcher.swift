import Foundation
import GatewayConfig

/// A `ValuePattern` made ready to test values: regular expressions and wildcards compiled once.
///
/// Values are compared without DICOM padding. `exact`, `wildcard` and `range` match the whole
/// value or any one of its `\`-separated values (`ORIGINAL\PRIMARY` matches `PRIMARY`);
/// `regex` searches the whole value.
public struct ValueMatcher: Sendable {
    /// The pattern as written.
    public let pattern: ValuePattern
    private let expression: NSRegularExpression?

    /// Compiles `pattern`. A regular expression that does not compile (configuration validation
    /// rejects these) matches nothing.
    public init(_ pattern: ValuePattern) {
        self.pattern = pattern
        switch pattern {
        case let .regex(text):
            expression = try? NSRegularExpression(pattern: text)
        case let .wildcard(text):
            let body = text.map { character -> String in
                switch character {
                case "*": return ".*"
                case "?": return "."
                default: return NSRegularExpression.escapedPattern(for: String(character))
                }
            }.joined()
            expression = try? NSRegularExpression(pattern: "^" + body + "$", options: [.dotMatchesLineSeparators])
        default:
            expression = nil
        }
    }

    /// Whether `value` matches; `value` is nil when the attribute is absent or empty.
    public func matches(_ value: String?) -> Bool {
        switch pattern {
        case .present: return value != nil
        case .absent: return value == nil
        default: break
        }
        guard let value else { return false }
        let whole = value.trimmingDicomPadding()
        let candidates = [whole] + (whole.contains("\\") ? whole.split(separator: "\\").map { String($0).trimmingDicomPadding() } : [])
        switch pattern {
        case let .exact(text):
            return candidates.contains(text.trimmingDicomPadding())
        case .regex:
            return search(whole)
        case .wildcard:
            return candidates.contains { search($0) }
        case let .range(lower, upper):
            return candidates.contains { Self.value($0, isBetween: lower, and: upper) }
        case .present, .absent:
            return false
        }
    }

    private func search(_ text: String) -> Bool {
        guard let expression else { return false }
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// DICOM range matching on digit strings: at or after `lower`; `upper` compares as many
    /// characters as it has, so `-1800` takes 18:00:59 and `-20241231` the whole last day.
    static func value(_ value: String, isBetween lower: String?, and upper: String?) -> Bool {
        guard !value.isEmpty else { return false }
        if let lower, value < lower { return false }
        if let upper, String(value.prefix(upper.count)) > upper { return false }
        return true
    }
}
