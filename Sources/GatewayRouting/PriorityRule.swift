import GatewayConfig

/// One rule of `priorities:`: instances matching the condition get the class. The first
/// matching rule wins.
public struct PriorityRule: Sendable {
    /// The rule's name (`priorities[N]` when the file gives none).
    public let name: String
    /// The class given.
    public let priorityClass: PriorityClass
    /// When it applies.
    public let condition: Condition

    public init(name: String, priorityClass: PriorityClass, condition: Condition) {
        self.name = name
        self.priorityClass = priorityClass
        self.condition = condition
    }

    public init(_ config: PriorityRuleConfig) {
        self.init(name: config.name, priorityClass: config.priorityClass, condition: Condition(config.condition))
    }
}
