import DicomCore
import GatewayConfig

/// The tag edits a route applies to what it forwards. Applied in a fixed order: `map`,
/// `prefix`, `set`, `issuerFromNode`, `remove`; so a prefix goes in front of a mapped value and
/// a removal always wins.
public struct Coercion: Sendable, Hashable {
    /// Per attribute, whole old value (without padding) -> new value.
    public var map: [DicomTag: [String: String]]
    /// Text put in front of a present value, unless the value already starts with it.
    public var prefix: [DicomTag: String]
    /// Values written whatever was there.
    public var set: [DicomTag: String]
    /// Set IssuerOfPatientID to the sending node's issuer (nothing when it has none).
    public var issuerFromNode: Bool
    /// Attributes removed.
    public var remove: [DicomTag]

    public init(map: [DicomTag: [String: String]] = [:], prefix: [DicomTag: String] = [:],
                set: [DicomTag: String] = [:], issuerFromNode: Bool = false, remove: [DicomTag] = []) {
        self.map = map
        self.prefix = prefix
        self.set = set
        self.issuerFromNode = issuerFromNode
        self.remove = remove
    }

    public init(_ config: CoercionConfig) {
        self.init(map: config.map, prefix: config.prefix, set: config.set,
                  issuerFromNode: config.issuerFromNode, remove: config.remove)
    }

    /// True when the coercion changes nothing.
    public var isEmpty: Bool { map.isEmpty && prefix.isEmpty && set.isEmpty && !issuerFromNode && remove.isEmpty }

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
