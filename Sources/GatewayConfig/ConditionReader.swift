import DicomCore
import Foundation

/// Reads the condition keys shared by priority rules and routes: `when`, `from`, `calling_ae`
/// and `time`. Returns nil after reporting when any of them is invalid.
struct ConditionReader {
    let context: RoutingSection.Context

    /// Keys that belong beside `when:`, not inside it.
    static let ruleLevelKeys = ["from", "calling_ae", "time"]

    func read(_ fields: ConfigMapping) -> ConditionConfig? {
        var condition = ConditionConfig()
        var valid = true
        if let item = fields["when"], !item.isNull {
            valid = readWhen(item, into: &condition) && valid
        }
        if let item = fields["from"] {
            if let names = nodeNames(item) { condition.fromNodes = names } else { valid = false }
        }
        if let item = fields["calling_ae"] {
            if let titles = aeTitles(item) { condition.callingAETitles = titles } else { valid = false }
        }
        if let item = fields["time"] {
            if let window = item.timeWindow() { condition.time = window } else { valid = false }
        }
        return valid ? condition : nil
    }

    private func readWhen(_ item: ConfigValue, into condition: inout ConditionConfig) -> Bool {
        guard let when = item.mapping(keys: nil, noun: "attribute") else { return false }
        var valid = true
        for (key, entry) in when.entries {
            if key == "category" {
                if let categories = self.categories(entry) { condition.categories = categories } else { valid = false }
                continue
            }
            if Self.ruleLevelKeys.contains(key) {
                entry.sink.error(.unknownKey, at: entry.keyMark, path: entry.path,
                                 "'\(key)' belongs beside 'when', not inside it")
                valid = false
                continue
            }
            guard let tag = entry.attributeTag(key, atKey: true) else { valid = false; continue }
            guard let patterns = patterns(entry, tag: tag) else { valid = false; continue }
            condition.attributes.append(AttributeMatchConfig(tag: tag, patterns: patterns))
        }
        return valid
    }

    private func categories(_ item: ConfigValue) -> [InstanceCategory]? {
        guard let entries = item.oneOrMore("[image, report]"), !entries.isEmpty else {
            if !item.isNull { item.error(.invalidValue, "'category' lists nothing; name image, report, presentation_state or other") }
            return nil
        }
        let values = entries.map { $0.choice(InstanceCategory.self) }
        return values.contains { $0 == nil } ? nil : values.compactMap { $0 }
    }

    private func patterns(_ item: ConfigValue, tag: DicomTag) -> [ValuePattern]? {
        guard let entries = item.oneOrMore("[CT, MR]") else { return nil }
        guard !entries.isEmpty else {
            item.error(.invalidValue, "no value to match; write a value, a list, ~regex, present or absent")
            return nil
        }
        let patterns = entries.map { ValuePatternReader.read($0, vr: DicomDictionary.vr(for: tag)) }
        return patterns.contains { $0 == nil } ? nil : patterns.compactMap { $0 }
    }

    private func nodeNames(_ item: ConfigValue) -> [String]? {
        guard let entries = item.oneOrMore("[TRUST_A, TRUST_B]") else { return nil }
        var names: [String] = []
        var valid = true
        for entry in entries {
            guard let name = entry.text("a node name") else { valid = false; continue }
            if name == RouteConfig.origin {
                entry.error(.invalidValue, "'origin' is only a destination; in 'from', name the sending nodes")
                valid = false
            } else if entry.knownNode(name, context: context) {
                names.append(name)
            } else {
                valid = false
            }
        }
        return valid ? names : nil
    }

    private func aeTitles(_ item: ConfigValue) -> [AETitle]? {
        guard let entries = item.oneOrMore("[TRUSTA_CT1]") else { return nil }
        let titles = entries.map { $0.aeTitle() }
        return titles.contains { $0 == nil } ? nil : titles.compactMap { $0 }
    }
}

extension ConfigValue {
    /// A daily window `HH:MM-HH:MM` (a condition's `time`, a reporter site's `hours`).
    func timeWindow() -> TimeWindow? {
        guard let text = text("a time window such as \"08:00-18:00\"") else { return nil }
        guard let window = TimeWindow(parsing: text) else {
            error(.invalidValue, "'\(text.printable)' is not a time window; write HH:MM-HH:MM, "
                + "e.g. 08:00-18:00 (22:00-06:00 wraps midnight, 00:00-24:00 is all day)")
            return nil
        }
        return window
    }
}

/// Turns one written value into a `ValuePattern`, checking regular expressions and ranges.
enum ValuePatternReader {
    static func read(_ item: ConfigValue, vr: String?) -> ValuePattern? {
        guard let text = item.text("a value, ~regex, present or absent") else { return nil }
        if text.hasPrefix("=") { return .exact(String(text.dropFirst())) }
        if text == "present" { return .present }
        if text == "absent" { return .absent }
        if text.hasPrefix("~") { return regex(String(text.dropFirst()), item) }
        if let vr, ["DA", "TM", "DT"].contains(vr), text.contains("-") { return range(text, vr: vr, item) }
        if text.contains("*") || text.contains("?") { return .wildcard(text) }
        return .exact(text)
    }

    private static func regex(_ pattern: String, _ item: ConfigValue) -> ValuePattern? {
        guard !pattern.isEmpty else {
            item.error(.invalidValue, "'~' needs a regular expression after it, e.g. \"~(?i)stroke\"")
            return nil
        }
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return .regex(pattern)
        } catch {
            item.error(.invalidValue, "'\(pattern.printable)' is not a valid regular expression (ICU syntax); "
                + "check brackets and escapes")
            return nil
        }
    }

    private static func range(_ text: String, vr: String, _ item: ConfigValue) -> ValuePattern? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let example = vr == "DA" ? "20240101-20241231" : vr == "TM" ? "0800-1800" : "20240101-20241231235959"
        func bound(_ part: String) -> Bool {
            guard !part.isEmpty else { return true }
            let digits = part.split(separator: ".", omittingEmptySubsequences: false)
            guard digits.count <= (vr == "DA" ? 1 : 2),
                  digits.allSatisfy({ !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }) else { return false }
            return vr != "DA" || part.count == 8
        }
        guard parts.count == 2, parts.allSatisfy(bound), !(parts[0].isEmpty && parts[1].isEmpty) else {
            item.error(.invalidValue, "'\(text.printable)' is not a \(vr) range; write LOW-HIGH such as \(example) "
                + "(either side may be left open)")
            return nil
        }
        if !parts[0].isEmpty, !parts[1].isEmpty, parts[0] > parts[1], parts[0].count == parts[1].count {
            item.error(.invalidValue, "range '\(text.printable)' is empty: \(parts[0]) is after \(parts[1])")
            return nil
        }
        return .range(lower: parts[0].isEmpty ? nil : parts[0], upper: parts[1].isEmpty ? nil : parts[1])
    }
}
