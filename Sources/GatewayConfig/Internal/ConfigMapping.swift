import Yams

/// A YAML mapping whose keys have been checked: duplicates, non-text keys and keys outside the
/// known set are reported once, on construction, with a "did you mean" hint for typos.
struct ConfigMapping {
    /// The mapping itself (or the null that stands for an empty one).
    let value: ConfigValue
    /// The entries in file order, keys as written.
    private(set) var entries: [(key: String, value: ConfigValue)] = []

    init(empty value: ConfigValue) {
        self.value = value
    }

    /// `keys: nil` accepts every key; `noun` names keys in messages ("key", "section").
    init(_ value: ConfigValue, keys: [String]?, noun: String) {
        self.value = value
        guard case let .mapping(mapping) = value.node else { return }
        var firstMarks: [String: Mark?] = [:]
        for (keyNode, valueNode) in mapping {
            guard case let .scalar(scalar) = keyNode else {
                value.sink.error(.wrongType, at: keyNode.mark, path: value.path,
                                 "a \(noun) must be plain text, found a \(keyNode.mapping != nil ? "mapping" : "list")")
                continue
            }
            let key = scalar.string
            let item = value.child(key, node: valueNode, keyMark: keyNode.mark)
            if let first = firstMarks[key] {
                let where_ = first.map { " (first on line \($0.line))" } ?? ""
                value.sink.error(.duplicateKey, at: keyNode.mark, path: item.path,
                                 "\(noun) '\(key.printable)' appears twice\(where_); delete one of them")
                continue
            }
            firstMarks[key] = keyNode.mark
            if let keys, !keys.contains(key) {
                value.sink.error(.unknownKey, at: keyNode.mark, path: item.path,
                                 Self.unknownMessage(key, noun: noun, known: keys))
                continue
            }
            entries.append((key, item))
        }
    }

    static func unknownMessage(_ key: String, noun: String, known: [String]) -> String {
        let head = "unknown \(noun) '\(key.printable)'"
        if let near = Suggestion.closest(to: key, among: known) { return head + "; did you mean '\(near)'?" }
        return head + "; expected one of: " + known.joined(separator: ", ")
    }

    subscript(key: String) -> ConfigValue? {
        entries.first { $0.key == key }?.value
    }

    /// The value read from `key`, or `defaultValue` when the key is absent or invalid
    /// (an invalid value has then been reported).
    func read<T>(_ key: String, default defaultValue: T, _ reader: (ConfigValue) -> T?) -> T {
        guard let item = self[key] else { return defaultValue }
        return reader(item) ?? defaultValue
    }

    /// The value read from `key`, or nil when absent (and reported as missing) or invalid.
    func required<T>(_ key: String, _ why: String = "", _ reader: (ConfigValue) -> T?) -> T? {
        guard let item = self[key] else {
            reportMissing(key, why)
            return nil
        }
        guard !item.isNull else {
            item.error(.missingKey, "required key '\(key)' has no value" + why)
            return nil
        }
        return reader(item)
    }

    /// True when `key` is present with a value other than null.
    func isSet(_ key: String) -> Bool {
        self[key].map { !$0.isNull } ?? false
    }

    /// Reports that `key` must be present; `why` is appended to the message.
    func reportMissing(_ key: String, _ why: String = "") {
        value.sink.error(.missingKey, at: value.keyMark ?? value.mark, path: value.path,
                         "missing required key '\(key)'" + why)
    }

    /// The value read from `key`, or nil when absent or invalid; for settings without a default.
    func optional<T>(_ key: String, _ reader: (ConfigValue) -> T?) -> T? {
        guard let item = self[key], !item.isNull else { return nil }
        return reader(item)
    }
}
