import DicomCore
import Yams

/// A YAML node at a key path, with readers that convert it to a typed value or report, through
/// the sink, exactly what is wrong with it and where. A reader returns nil after reporting;
/// callers then fall back to a default so that parsing continues and later errors are found too.
struct ConfigValue {
    let node: Node
    /// Dotted key path, e.g. `nodes.HUB.port`.
    let path: String
    /// Where the value is named (its key), for messages about the value as a whole.
    let keyMark: Mark?
    let sink: DiagnosticSink

    var mark: Mark? { node.mark ?? keyMark }

    /// A plain `~`, `null` or nothing at all after the colon.
    var isNull: Bool {
        guard case let .scalar(scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// How the value looks, for "expected X, found Y" messages.
    var shape: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(scalar): return isNull ? "nothing" : "'\(scalar.string.printable)'"
        }
    }

    func error(_ code: ConfigDiagnostic.Code, _ message: String) {
        sink.error(code, at: mark, path: path, message)
    }

    func child(_ key: String, node: Node, keyMark: Mark?) -> ConfigValue {
        ConfigValue(node: node, path: path.isEmpty ? key : path + "." + key, keyMark: keyMark, sink: sink)
    }

    // MARK: Scalars

    /// The text of a scalar; `what` names the expected value in messages ("an AE title").
    func text(_ what: String = "a value") -> String? {
        if isNull {
            error(.wrongType, "no value given; write \(what), or delete the key to use the default")
            return nil
        }
        guard case let .scalar(scalar) = node else {
            error(.wrongType, "expected \(what), found \(shape)")
            return nil
        }
        return scalar.string
    }

    /// A whole number in `range`; `noun` completes "70000 is not a port (1-65535)".
    func int(in range: ClosedRange<Int>, noun: String) -> Int? {
        guard let raw = text(noun) else { return nil }
        let bounds = "(\(range.lowerBound)-\(range.upperBound))"
        guard let number = Int(raw) else {
            error(.wrongType, "'\(raw.printable)' is not \(noun) \(bounds)")
            return nil
        }
        guard range.contains(number) else {
            error(.invalidValue, "\(number) is not \(noun) \(bounds)")
            return nil
        }
        return number
    }

    func bool() -> Bool? {
        guard let raw = text("true or false") else { return nil }
        switch raw.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(.wrongType, "'\(raw.printable)' is not true or false")
            return nil
        }
    }

    /// One of the cases of `E`, matched without regard to case.
    func choice<E: ConfigChoice>(_ type: E.Type = E.self) -> E? {
        let options = E.allCases.map(\.rawValue)
        guard let raw = text("one of " + options.joined(separator: ", ")) else { return nil }
        if let value = E(rawValue: raw.lowercased()) { return value }
        let list = options.joined(separator: ", ")
        let hint = Suggestion.closest(to: raw, among: options).map { "did you mean '\($0)'? (one of \(list))" }
        let message = "'\(raw.printable)' is not \(E.noun); " + (hint ?? "use one of \(list)")
        error(.invalidValue, message)
        return nil
    }

    /// Converts the text with a validating initializer, reporting its message on failure.
    func convert<T>(_ what: String, _ make: (String) throws(DicomValueError) -> T) -> T? {
        guard let raw = text(what) else { return nil }
        do {
            return try make(raw)
        } catch {
            self.error(.invalidValue, error.message)
            return nil
        }
    }

    // MARK: Collections

    /// The value as a mapping with the given known keys; a null value is an empty mapping.
    /// `keys: nil` accepts any key (for mappings whose keys are names, like `nodes`).
    func mapping(keys: [String]?, noun: String = "key") -> ConfigMapping? {
        if isNull { return ConfigMapping(empty: self) }
        guard case .mapping = node else {
            error(.wrongType, "expected a mapping (key: value lines), found \(shape)")
            return nil
        }
        return ConfigMapping(self, keys: keys, noun: noun)
    }

    /// The items of a list; a null value is an empty list.
    func list(_ example: String) -> [ConfigValue]? {
        if isNull { return [] }
        guard case let .sequence(sequence) = node else {
            error(.wrongType, "expected a list such as \(example), found \(shape)")
            return nil
        }
        return sequence.enumerated().map { index, item in
            ConfigValue(node: item, path: "\(path)[\(index)]", keyMark: item.mark, sink: sink)
        }
    }
}

/// A closed set of words a config value can take (`keep | replace | reject`).
protocol ConfigChoice: RawRepresentable<String>, CaseIterable {
    /// Completes "'x' is not NOUN", e.g. "a duplicate policy".
    static var noun: String { get }
}

extension String {
    /// The text made safe and short for an error message.
    var printable: String { UID.printable(self) }
}
