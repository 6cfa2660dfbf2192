import DicomCore
import Foundation

/// Reading of the `priorities:` and `routes:` sections, checked against the nodes.
enum RoutingSection {
    static let priorityKeys = ["name", "class", "when", "from", "calling_ae", "time"]
    static let routeKeys = ["name", "when", "from", "calling_ae", "time", "to", "drop", "quarantine",
                            "coerce", "priority"]

    /// Everything a rule may refer to: the parsed nodes and every name declared under `nodes`
    /// (an invalid node has been reported already; referring to it is not a second error).
    struct Context {
        let nodes: [NodeConfig]
        let declaredNodeNames: Set<String>
    }

    /// Reads `priorities:`; invalid rules are reported and left out.
    static func readPriorities(_ section: ConfigValue, context: Context) -> [PriorityRuleConfig] {
        guard let items = section.list("[{ class: stat, when: { Modality: CT } }]") else { return [] }
        var names = UniqueNames(noun: "priority rule name")
        return items.enumerated().compactMap { index, item in
            guard let fields = item.mapping(keys: priorityKeys) else { return nil }
            let name = fields.optional("name") { names.claim($0) } ?? "priorities[\(index)]"
            let priorityClass = fields.required("class", " (stat, urgent, routine or bulk)") { $0.choice(PriorityClass.self) }
            let condition = ConditionReader(context: context).read(fields)
            guard let priorityClass, let condition else { return nil }
            return PriorityRuleConfig(name: name, priorityClass: priorityClass, condition: condition)
        }
    }

    /// Reads `routes:`; invalid routes are reported and left out.
    static func readRoutes(_ section: ConfigValue, context: Context) -> [RouteConfig] {
        guard let items = section.list("[{ name: to-hub, when: { Modality: CT }, to: [HUB] }]") else { return [] }
        var names = UniqueNames(noun: "route name")
        return items.compactMap { item in
            guard let fields = item.mapping(keys: routeKeys) else { return nil }
            let name = fields.required("name", " (each route needs a unique name)") { names.claim($0) }
            let condition = ConditionReader(context: context).read(fields)
            let action = readAction(fields, context: context)
            let coercion = fields.optional("coerce") { CoercionReader.read($0) } ?? CoercionConfig()
            let priority = fields.optional("priority") { $0.choice(PriorityClass.self) }
            if case .drop? = action { rejectWithoutForwarding(fields, because: "drop") }
            if case .quarantine? = action { rejectWithoutForwarding(fields, because: "quarantine") }
            guard let name, let condition, let action else { return nil }
            return RouteConfig(name: name, condition: condition, action: action, coercion: coercion, priority: priority)
        }
    }

    /// Exactly one of `to`, `drop` and `quarantine`.
    private static func readAction(_ fields: ConfigMapping, context: Context) -> RouteAction? {
        let given = ["to", "drop", "quarantine"].filter { fields[$0] != nil }
        guard let first = given.first else {
            fields.reportMissing("to", " (or 'drop' or 'quarantine': what the route does)")
            return nil
        }
        for extra in given.dropFirst() {
            let item = fields[extra]!
            fields.value.sink.error(.conflict, at: item.keyMark, path: item.path,
                "a route either forwards ('to'), drops or quarantines; '\(extra)' cannot go with '\(first)', split the route in two")
        }
        guard given.count == 1, let item = fields[first] else { return nil }
        switch first {
        case "to": return readDestinations(item, context: context).map { .forward(to: $0) }
        case "drop": return reason(item).map { .drop(reason: $0) }
        default: return reason(item).map { .quarantine(reason: $0) }
        }
    }

    private static func reason(_ item: ConfigValue) -> String? {
        guard let text = item.text("a reason, such as \"test patient\"") else { return nil }
        guard !text.trimmingDicomPadding().isEmpty else {
            item.error(.invalidValue, "the reason is empty; say why, it is shown in logs and audit")
            return nil
        }
        return text
    }

    /// `coerce` and `priority` only make sense on a forwarding route.
    private static func rejectWithoutForwarding(_ fields: ConfigMapping, because action: String) {
        for key in ["coerce", "priority"] {
            guard let item = fields[key] else { continue }
            fields.value.sink.error(.conflict, at: item.keyMark, path: item.path,
                "'\(key)' has no effect on a route that does '\(action)'; delete it")
        }
    }

    /// `to:` known destination nodes or `origin`, at least one.
    private static func readDestinations(_ item: ConfigValue, context: Context) -> [String]? {
        guard let entries = item.oneOrMore("[HUB, origin]") else { return nil }
        guard !entries.isEmpty else {
            item.error(.invalidValue, "'to' lists no destination; name at least one node or origin")
            return nil
        }
        var names: [String] = []
        var valid = true
        for entry in entries {
            guard let name = entry.text("a node name or origin") else { valid = false; continue }
            if name == RouteConfig.origin { names.append(name); continue }
            guard entry.knownNode(name, context: context, extra: [RouteConfig.origin]) else { valid = false; continue }
            if let node = context.nodes.first(where: { $0.name == name }),
               node.roles.isDisjoint(with: [.destination, .reporter]) {
                entry.error(.invalidValue, "node '\(name)' is not a destination (roles: "
                    + node.roles.map(\.rawValue).sorted().joined(separator: ", ") + "); add destination to its roles")
                valid = false
                continue
            }
            names.append(name)
        }
        return valid ? names : nil
    }
}

/// Reports a name seen twice in one list (`route name 'x' is already used on line 12`).
struct UniqueNames {
    let noun: String
    private var lines: [String: Int?] = [:]

    init(noun: String) { self.noun = noun }

    mutating func claim(_ item: ConfigValue) -> String? {
        guard let name = item.text("a name") else { return nil }
        guard !name.isEmpty else {
            item.error(.invalidValue, "the \(noun) is empty")
            return nil
        }
        if let line = lines[name] {
            item.error(.conflict, "\(noun) '\(name.printable)' is already used" + (line.map { " on line \($0)" } ?? "")
                + "; names must be unique")
            return nil
        }
        lines[name] = item.mark?.line
        return name
    }
}

extension ConfigValue {
    /// A scalar as a one-item list, or the items of a list.
    func oneOrMore(_ example: String) -> [ConfigValue]? {
        if case .scalar = node, !isNull { return [self] }
        return list(example)
    }

    /// True when `name` is a node under `nodes:`; otherwise reports it with a hint.
    func knownNode(_ name: String, context: RoutingSection.Context, extra: [String] = []) -> Bool {
        if context.declaredNodeNames.contains(name) { return true }
        let known = context.declaredNodeNames.sorted() + extra
        let hint = Suggestion.closest(to: name, among: known).map { "; did you mean '\($0)'?" }
            ?? (context.declaredNodeNames.isEmpty ? "; declare it under nodes" : "; known: " + known.joined(separator: ", "))
        error(.invalidValue, "unknown node '\(name.printable)'" + hint)
        return false
    }

    /// An attribute named by keyword (`PatientID`) or `gggg,eeee`; reported otherwise.
    /// For a mapping key, call on the entry: the error points at the key.
    func attributeTag(_ text: String, atKey: Bool) -> DicomTag? {
        if let tag = DicomTag(parsing: text) { return tag }
        let hint = Suggestion.closest(to: text, among: DicomDictionary.entries.map(\.keyword))
            .map { "; did you mean '\($0)'?" } ?? "; write a keyword such as PatientID, or the tag as gggg,eeee"
        sink.error(.unknownKey, at: atKey ? keyMark : mark, path: path,
                   "unknown attribute '\(text.printable)'" + hint)
        return nil
    }
}
