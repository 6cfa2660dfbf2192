import DicomCore

/// Reads a route's `coerce:` mapping.
enum CoercionReader {
    static let keys = ["map", "prefix", "set", "issuer_from_node", "remove"]

    static func read(_ item: ConfigValue) -> CoercionConfig? {
        guard let fields = item.mapping(keys: keys) else { return nil }
        var coercion = CoercionConfig()
        var valid = true
        func perTag(_ key: String, _ body: (DicomTag, ConfigValue) -> Bool) {
            guard let section = fields[key] else { return }
            guard let mapping = section.mapping(keys: nil, noun: "attribute") else { valid = false; return }
            for (name, entry) in mapping.entries {
                guard let tag = entry.attributeTag(name, atKey: true) else { valid = false; continue }
                if !body(tag, entry) { valid = false }
            }
        }
        perTag("set") { tag, entry in
            guard let text = entry.text("the value to set") else { return false }
            coercion.set[tag] = text
            return true
        }
        perTag("prefix") { tag, entry in
            guard let text = entry.text("the text to put in front") else { return false }
            guard !text.isEmpty else {
                entry.error(.invalidValue, "the prefix is empty; delete it or give the text to put in front")
                return false
            }
            coercion.prefix[tag] = text
            return true
        }
        perTag("map") { tag, entry in
            guard let pairs = entry.mapping(keys: nil, noun: "value") else { return false }
            var table: [String: String] = [:]
            var ok = true
            for (old, new) in pairs.entries {
                guard let text = new.text("the new value") else { ok = false; continue }
                table[old.trimmingDicomPadding()] = text
            }
            coercion.map[tag] = table
            return ok
        }
        if let flag = fields["issuer_from_node"] {
            if let value = flag.bool() { coercion.issuerFromNode = value } else { valid = false }
        }
        if let list = fields["remove"] {
            if let entries = list.oneOrMore("[ReferringPhysicianName, 0009,0010]") {
                for entry in entries {
                    guard let name = entry.text("an attribute keyword or gggg,eeee") else { valid = false; continue }
                    guard let tag = entry.attributeTag(name, atKey: false) else { valid = false; continue }
                    if coercion.set[tag] != nil {
                        entry.error(.conflict, "'\(name.printable)' is both set and removed; keep one of them")
                        valid = false
                        continue
                    }
                    coercion.remove.append(tag)
                }
            } else {
                valid = false
            }
        }
        return valid ? coercion : nil
    }
}
