import Yams

/// Reading of `reporting.rules` and the checks that span rules and nodes: every rule can
/// match some study, every skill is some reporter site's, and some site can take the items.
enum ReportingRules {
    static let keys = ["name", "when", "from", "calling_ae", "time", "skill", "deadline", "effort", "class"]

    /// Reads the rules; invalid rules are reported and left out.
    static func read(_ section: ConfigValue, context: RoutingSection.Context) -> [ReportingRuleConfig] {
        guard let items = section.list("[{ name: stroke, when: { Modality: CT }, skill: neuro }]") else { return [] }
        var names = UniqueNames(noun: "reporting rule name")
        var matchesEverything: (name: String, line: Int?)?
        var skills: [(skill: String, item: ConfigValue)] = []
        var rules: [ReportingRuleConfig] = []
        for (index, item) in items.enumerated() {
            guard let fields = item.mapping(keys: keys) else { continue }
            let name = fields.required("name", " (each reporting rule needs a unique name)") { names.claim($0) }
            let condition = ConditionReader(context: context).read(fields)
            let skill = fields.required("skill", " (the skill a reporter site needs, e.g. neuro)") { $0.skillName() }
            let deadline = fields.optional("deadline") { $0.deadline() }
            let effort = fields.read("effort", default: 1.0) {
                $0.positiveNumber(atMost: 1000, noun: "an effort", example: "1 or 0.2")
            }
            let priorityClass = fields.optional("class") { $0.choice(PriorityClass.self) }
            if let skill, let skillItem = fields["skill"] { skills.append((skill, skillItem)) }
            if let condition {
                let label = name ?? "reporting.rules[\(index)]"
                if let earlier = matchesEverything {
                    let line = earlier.line.map { " on line \($0)" } ?? ""
                    (fields["name"] ?? item).error(.invalidValue, "reporting rule '\(label.printable)' can never match: "
                        + "rule '\(earlier.name.printable)'\(line) has no condition (no when, from, calling_ae or time) and "
                        + "the first matching rule wins; move this rule above it, or give '\(earlier.name.printable)' a condition")
                } else if condition == ConditionConfig() {
                    matchesEverything = (label, item.mark?.line)
                }
                checkCanMatch(fields, condition: condition, context: context)
            }
            guard let name, let condition, let skill else { continue }
            rules.append(ReportingRuleConfig(name: name, condition: condition, skill: skill, deadline: deadline,
                                             effort: effort, priorityClass: priorityClass))
        }
        checkSites(for: skills, rules: section, anyRule: !items.isEmpty, context: context)
        return rules
    }

    /// A rule for reports only, or from a node that sends no studies, can never give an item.
    private static func checkCanMatch(_ fields: ConfigMapping, condition: ConditionConfig, context: RoutingSection.Context) {
        if !condition.categories.isEmpty, condition.categories.allSatisfy({ $0 == .report }),
           let when = fields["when"], let category = when.node.mapping?["category"] {
            fields.value.sink.error(.invalidValue, at: category.mark, path: when.path + ".category",
                "a reporting rule for reports only can never match: reports close worklist items, they never need one; "
                + "match images (category: image) or leave category out")
        }
        guard let from = fields["from"], let entries = from.oneOrMore("[TRUST_A]") else { return }
        for entry in entries {
            guard case let .scalar(scalar) = entry.node,
                  let node = context.nodes.first(where: { $0.name == scalar.string }), !node.hasRole(.source)
            else { continue }
            entry.error(.invalidValue, "node '\(node.name)' is not a source (roles: "
                + node.roles.map(\.rawValue).sorted().joined(separator: ", ") + "), so no study ever arrives from it "
                + "and this rule can never match; name the source nodes the studies come from")
        }
    }

    /// Every rule's skill must be some reporter site's, and some site must have `reporting:`.
    /// Skipped while a node could not be read: its skills are unknown and it is reported already.
    private static func checkSites(for skills: [(skill: String, item: ConfigValue)], rules: ConfigValue, anyRule: Bool,
                                   context: RoutingSection.Context) {
        guard anyRule, context.nodes.count == context.declaredNodeNames.count else { return }
        let sites = context.nodes.compactMap(\.reporting)
        guard !sites.isEmpty else {
            rules.sink.error(.invalidValue, at: rules.keyMark ?? rules.mark, path: rules.path,
                "no reporter site has a reporting: key, so no item could ever be allocated; give the reporter nodes "
                + "that report these studies reporting: { skills: [...] }")
            return
        }
        let known = Set(sites.flatMap(\.skills)).sorted()
        for (skill, item) in skills where !known.contains(skill) {
            let hint = Suggestion.closest(to: skill, among: known).map { "did you mean '\($0)'? " } ?? ""
            item.error(.invalidValue, "no reporter site has skill '\(skill)'; \(hint)sites have: "
                + known.joined(separator: ", ") + " (add it to a reporter node's reporting.skills, or use one of those)")
        }
    }
}
