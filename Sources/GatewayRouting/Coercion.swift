import DicomCore
import GatewayConfig

/// The tag edits a route applies to what it forwards: the validated `coerce:` section itself,
/// with the behaviour here. Applied in a fixed order: `map`, `prefix`, `set`, `issuerFromNode`,
/// `remove`; so a prefix goes in front of a mapped value and a removal always wins.
public typealias Coercion = CoercionConfig

extension CoercionConfig {
    /// The edits that turn `attributes` into the coerced instance; tags whose value would not
    /// change are left out.
    ///
    /// - Parameter senderIssuer: the sending node's issuer, for `issuerFromNode`.
    public func edits(for attributes: DicomAttributes, senderIssuer: String?) -> AttributeEdits {
        var edits: AttributeEdits = [:]
        func current(_ tag: DicomTag) -> String? {
            if let edited = edits[tag] { return edited }
            return attributes.string(tag)
        }
        for (tag, table) in map {
            if let value = attributes.string(tag), let replacement = table[value] {
                edits.updateValue(replacement, forKey: tag)
            }
        }
        for (tag, text) in prefix {
            if let value = current(tag), !value.hasPrefix(text) {
                edits.updateValue(text + value, forKey: tag)
            }
        }
        for (tag, value) in set {
            edits.updateValue(value, forKey: tag)
        }
        if issuerFromNode, let senderIssuer {
            edits.updateValue(senderIssuer, forKey: .issuerOfPatientID)
        }
        for tag in remove {
            edits.updateValue(nil, forKey: tag)
        }
        return edits.filter { tag, value in
            switch value {
            case let .some(new): return attributes[tag] != new
            case .none: return attributes[tag] != nil
            }
        }
    }
}
