import DicomCore

extension ReporterSettings {
    static let keys = ["skills", "capacity", "hours", "on_demand", "organisation"]
    /// The largest `capacity`, effort units per hour.
    static let maximumCapacity = 10_000.0

    /// Reads a node's `reporting:` key; nil when `skills` is missing or invalid (reported).
    /// `issuer` is the node's: the organisation when none is written.
    static func read(_ fields: ConfigMapping, issuer: String?) -> ReporterSettings? {
        let skills = fields.required("skills", " (what the site reports, e.g. [neuro, chest])") { $0.skills() }
        let capacity = fields.read("capacity", default: 10.0) {
            $0.positiveNumber(atMost: maximumCapacity, noun: "a capacity (effort units per hour)", example: "12")
        }
        let hours = fields.optional("hours") { $0.timeWindow() }
        let onDemand = fields.read("on_demand", default: false) { $0.bool() }
        let organisation = fields.optional("organisation") { $0.organisation() } ?? issuer
        guard let skills else { return nil }
        return ReporterSettings(skills: skills, capacity: capacity, hours: hours, onDemand: onDemand,
                                organisation: organisation)
    }

    /// True for a skill name: lower-case letters, digits, `_` and `-`.
    static func isValidSkill(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }
}

extension ConfigValue {
    /// A reporter site's skills: one name or a non-empty list of names.
    func skills() -> Set<String>? {
        guard let items = oneOrMore("[neuro, chest]") else { return nil }
        guard !items.isEmpty else {
            error(.invalidValue, "a reporter site needs at least one skill, e.g. skills: [neuro]")
            return nil
        }
        let names = items.map { $0.skillName() }
        return names.contains(nil) ? nil : Set(names.compactMap { $0 })
    }

    /// A skill name such as `neuro` or `paeds-msk`.
    func skillName() -> String? {
        guard let raw = text("a skill name such as neuro") else { return nil }
        guard ReporterSettings.isValidSkill(raw) else {
            let lower = raw.lowercased()
            let hint = lower != raw && ReporterSettings.isValidSkill(lower) ? "; write '\(lower)'" : ""
            error(.invalidValue, "'\(raw.printable)' is not a skill name; use lower-case letters, digits, '_' and '-'" + hint)
            return nil
        }
        return raw
    }

    /// The organisation a reporter site belongs to: 1-64 printable characters, compared with issuers.
    func organisation() -> String? {
        guard let raw = text("an organisation such as an ODS code") else { return nil }
        let trimmed = raw.trimmingDicomPadding()
        guard !trimmed.isEmpty, trimmed.count <= 64, trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
        else {
            error(.invalidValue, "'\(raw.printable)' is not an organisation; write the issuer of the site's trust, "
                + "such as RTH (1-64 characters, no control characters)")
            return nil
        }
        return trimmed
    }
}
