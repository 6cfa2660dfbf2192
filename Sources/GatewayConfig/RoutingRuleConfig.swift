import DicomCore

/// The conditions of a priority rule or route; every part given must hold (an empty condition
/// matches every instance).
///
/// ```yaml
/// from: [TRUST_A]                 # sending node names
/// calling_ae: [TRUSTA_CT1]        # calling AE titles
/// time: "08:00-18:00"             # time of day when the instance arrives
/// when: { Modality: [CT, MR], category: image, PatientID: present }
/// ```
public struct ConditionConfig: Sendable, Hashable {
    /// `when:` attribute keys, in file order.
    public var attributes: [AttributeMatchConfig] = []
    /// `when: { category: ... }`: one of these categories; empty means any.
    public var categories: [InstanceCategory] = []
    /// `from:` sending node names; empty means any (including an unknown sender).
    public var fromNodes: [String] = []
    /// `calling_ae:` calling AE titles; empty means any.
    public var callingAETitles: [AETitle] = []
    /// `time:` the window the arrival time must fall in; nil means any time.
    public var time: TimeWindow?

    public init(attributes: [AttributeMatchConfig] = [], categories: [InstanceCategory] = [],
                fromNodes: [String] = [], callingAETitles: [AETitle] = [], time: TimeWindow? = nil) {
        self.attributes = attributes
        self.categories = categories
        self.fromNodes = fromNodes
        self.callingAETitles = callingAETitles
        self.time = time
    }
}

/// One entry of `priorities:`. The first rule whose condition holds gives the class.
///
/// ```yaml
/// priorities:
///   - { name: stroke, class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
/// ```
public struct PriorityRuleConfig: Sendable, Hashable {
    /// `name:` (optional); `priorities[N]` when not given.
    public var name: String
    /// `class:` the class given to matching instances (required).
    public var priorityClass: PriorityClass
    /// The rule's condition.
    public var condition: ConditionConfig

    public init(name: String, priorityClass: PriorityClass, condition: ConditionConfig) {
        self.name = name
        self.priorityClass = priorityClass
        self.condition = condition
    }
}

/// Tag edits a route applies to what it forwards, in this order: `map`, `prefix`, `set`,
/// `issuer_from_node`, `remove`.
///
/// ```yaml
/// coerce:
///   map: { StudyDescription: { "CT HEAD": "CT Head" } }   # replace whole values
///   prefix: { PatientID: "RTH-" }                         # not added twice
///   set: { InstitutionName: "Royal Trust" }
///   issuer_from_node: true                                # IssuerOfPatientID = sender's issuer
///   remove: [ReferringPhysicianName]
/// ```
public struct CoercionConfig: Sendable, Hashable {
    /// `map:` per attribute, old value -> new value (values compared without DICOM padding).
    public var map: [DicomTag: [String: String]] = [:]
    /// `prefix:` text put in front of a present value.
    public var prefix: [DicomTag: String] = [:]
    /// `set:` values written whether or not the attribute was there.
    public var set: [DicomTag: String] = [:]
    /// `issuer_from_node:` set IssuerOfPatientID from the sending node's `issuer`.
    public var issuerFromNode = false
    /// `remove:` attributes deleted.
    public var remove: [DicomTag] = []

    public init(map: [DicomTag: [String: String]] = [:], prefix: [DicomTag: String] = [:],
                set: [DicomTag: String] = [:], issuerFromNode: Bool = false, remove: [DicomTag] = []) {
        self.map = map
        self.prefix = prefix
        self.set = set
        self.issuerFromNode = issuerFromNode
        self.remove = remove
    }

    /// True when the coercion changes nothing.
    public var isEmpty: Bool { map.isEmpty && prefix.isEmpty && set.isEmpty && !issuerFromNode && remove.isEmpty }
}

/// What a matching route does with an instance.
public enum RouteAction: Sendable, Hashable {
    /// `to:` forward to these nodes; `origin` stands for the sending node.
    case forward(to: [String])
    /// `drop: reason`: accept and discard, forwarding nothing.
    case drop(reason: String)
    /// `quarantine: reason`: keep in the cache, forward nothing, for an operator to release.
    case quarantine(reason: String)
}

/// One entry of `routes:`. Every route whose condition holds applies.
///
/// ```yaml
/// routes:
///   - { name: imaging-to-hub, from: [TRUST_A], when: { Modality: [CT, MR] }, to: [HUB] }
/// ```
public struct RouteConfig: Sendable, Hashable {
    /// The name shown in logs and `route test` (required, unique).
    public var name: String
    /// The route's condition.
    public var condition: ConditionConfig
    /// Forward, drop or quarantine.
    public var action: RouteAction
    /// `coerce:` edits applied to what this route forwards.
    public var coercion: CoercionConfig
    /// `priority:` the class this route's deliveries get instead of the instance's class.
    public var priority: PriorityClass?

    public init(name: String, condition: ConditionConfig, action: RouteAction,
                coercion: CoercionConfig = CoercionConfig(), priority: PriorityClass? = nil) {
        self.name = name
        self.condition = condition
        self.action = action
        self.coercion = coercion
        self.priority = priority
    }

    /// The word `to:` accepts for the node an instance came from.
    public static let origin = "origin"
}
