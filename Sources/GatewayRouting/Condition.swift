import DicomCore
import GatewayConfig

/// When a priority rule or route applies. Every part must hold; an empty condition always does.
public struct Condition: Sendable {
    /// One attribute and its alternatives: the attribute test holds when any matcher matches.
    public struct AttributeTest: Sendable {
        public let tag: DicomTag
        public let matchers: [ValueMatcher]

        public init(tag: DicomTag, patterns: [ValuePattern]) {
            self.tag = tag
            matchers = patterns.map(ValueMatcher.init)
        }

        public func holds(for attributes: DicomAttributes) -> Bool {
            let value = attributes.string(tag)
            return matchers.contains { $0.matches(value) }
        }
    }

    /// Attribute tests, all of which must hold.
    public var attributes: [AttributeTest]
    /// Allowed categories; empty allows any.
    public var categories: Set<InstanceCategory>
    /// Allowed sending nodes; empty allows any sender, known or not.
    public var fromNodes: Set<String>
    /// Allowed calling AE titles; empty allows any.
    public var callingAETitles: Set<AETitle>
    /// The time-of-day window; nil allows any time.
    public var time: TimeWindow?

    public init(attributes: [AttributeTest] = [], categories: Set<InstanceCategory> = [],
                fromNodes: Set<String> = [], callingAETitles: Set<AETitle> = [], time: TimeWindow? = nil) {
        self.attributes = attributes
        self.categories = categories
        self.fromNodes = fromNodes
        self.callingAETitles = callingAETitles
        self.time = time
    }

    /// Compiles a condition read from the configuration.
    public init(_ config: ConditionConfig) {
        self.init(attributes: config.attributes.map { AttributeTest(tag: $0.tag, patterns: $0.patterns) },
                  categories: Set(config.categories), fromNodes: Set(config.fromNodes),
                  callingAETitles: Set(config.callingAETitles), time: config.time)
    }

    /// Whether `instance` satisfies every part.
    public func matches(_ instance: RoutedInstance) -> Bool {
        if !fromNodes.isEmpty {
            guard let node = instance.sendingNode, fromNodes.contains(node) else { return false }
        }
        if !callingAETitles.isEmpty {
            guard let text = instance.callingAE, let title = try? AETitle(text),
                  callingAETitles.contains(title) else { return false }
        }
        if let time, !time.contains(instance.timeOfDay) { return false }
        if !categories.isEmpty, !categories.contains(instance.category) { return false }
        return attributes.allSatisfy { $0.holds(for: instance.attributes) }
    }
}
