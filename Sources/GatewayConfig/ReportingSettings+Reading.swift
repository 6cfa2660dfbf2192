import Foundation

extension ReportingPreference: ConfigChoice {
    static let noun = "a reporting preference"
}

extension ReportingSettings {
    static let keys = ["deadlines", "grace", "escalate_at", "orphan_after", "prefer", "notify", "review_interval", "rules"]
    static let notifyKeys = ["webhook"]

    /// Reads the `reporting:` section. Its rules refer to nodes and their `reporting:` keys, so
    /// it is read after `nodes`, `priorities` and `routes`; absent keys keep their defaults.
    static func read(_ section: ConfigMapping, context: RoutingSection.Context) -> ReportingSettings {
        var settings = ReportingSettings()
        let classes = PriorityClass.allCases.map(\.rawValue)
        if let deadlines = section.optional("deadlines", { $0.mapping(keys: classes, noun: "priority class") }) {
            for (key, item) in deadlines.entries {
                guard let priorityClass = PriorityClass(rawValue: key), let deadline = item.deadline() else { continue }
                settings.deadlines[priorityClass] = deadline
            }
        }
        settings.grace = section.read("grace", default: settings.grace) { $0.duration() }
        settings.escalateAt = section.read("escalate_at", default: settings.escalateAt) { $0.fraction() }
        settings.orphanAfter = section.read("orphan_after", default: settings.orphanAfter) { $0.duration() }
        settings.reviewInterval = section.read("review_interval", default: settings.reviewInterval) { $0.duration() }
        settings.prefer = section.read("prefer", default: settings.prefer) { $0.choice() }
        if let notify = section.optional("notify", { $0.mapping(keys: notifyKeys) }) {
            settings.webhook = notify.optional("webhook") { $0.webhookURL() }
        }
        if let rules = section["rules"] {
            settings.rules = ReportingRules.read(rules, context: context)
        }
        return settings
    }
}

extension ConfigValue {
    /// A report deadline: a duration such as `30m`, `4h` or `7d`, more than zero.
    func deadline() -> Duration? {
        if case let .scalar(scalar) = node, !isNull, Self.isZeroDuration(scalar.string) {
            error(.invalidValue, "'\(scalar.string.printable)' is no time at all: a deadline must be more than zero; "
                + "write e.g. 30m, 4h or 7d")
            return nil
        }
        return duration()
    }

    /// `0`, `0s`, `00m`...: a duration of zero, written with or without a unit.
    static func isZeroDuration(_ text: String) -> Bool {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if let last = digits.last, "smhd".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0 == "0" }
    }

    /// A fraction in (0, 1], written as a percentage (`75%`) or a number (`0.75`).
    func fraction() -> Double? {
        guard let raw = text("a fraction such as 75% or 0.75") else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        let isPercentage = trimmed.hasSuffix("%")
        let number = isPercentage ? String(trimmed.dropLast()).trimmingCharacters(in: .whitespaces) : trimmed
        guard let parsed = Self.decimal(number) else {
            error(.wrongType, "'\(raw.printable)' is not a fraction; write a percentage such as 75% or a number such as 0.75")
            return nil
        }
        let value = isPercentage ? parsed / 100 : parsed
        guard value > 0, value <= 1 else {
            let hint = !isPercentage && parsed > 1 && parsed <= 100 ? "; did you mean \(number)%?" : ""
            error(.invalidValue, "\(raw.printable) is out of range: write more than 0% and at most 100% "
                + "(or a number more than 0 and at most 1), e.g. 75% or 0.75" + hint)
            return nil
        }
        return value
    }

    /// A number more than 0 and at most `maximum`, whole or decimal (`12`, `0.2`);
    /// `noun` completes "'x' is not NOUN".
    func positiveNumber(atMost maximum: Double, noun: String, example: String) -> Double? {
        guard let raw = text(noun) else { return nil }
        let limit = maximum.rounded() == maximum ? String(Int(maximum)) : String(maximum)
        guard let value = Self.decimal(raw.trimmingCharacters(in: .whitespaces)) else {
            error(.wrongType, "'\(raw.printable)' is not \(noun); write a number such as \(example)")
            return nil
        }
        guard value > 0, value <= maximum else {
            error(.invalidValue, "\(raw.printable) is not \(noun): it must be more than 0 and at most \(limit)")
            return nil
        }
        return value
    }

    /// Digits with at most one decimal point (`12`, `0.2`, `.5`); no sign, exponent or `inf`.
    static func decimal(_ text: String) -> Double? {
        guard text.contains(where: { ("0"..."9").contains($0) }),
              text.allSatisfy({ ("0"..."9").contains($0) || $0 == "." }),
              text.filter({ $0 == "." }).count <= 1
        else { return nil }
        return Double(text)
    }

    /// An http or https URL with a host, such as a webhook's.
    func webhookURL() -> URL? {
        guard let raw = text("an http or https URL") else { return nil }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else {
            error(.invalidValue, "'\(raw.printable)' is not a webhook URL; write an http or https URL with a host, "
                + "e.g. http://127.0.0.1:9000/hooks/reporting")
            return nil
        }
        return url
    }
}
