import GatewayConfig

/// One entry of `routes:`: when the condition holds, forward (with coercion), drop or quarantine.
public struct Route: Sendable {
    /// The route's unique name.
    public let name: String
    /// When it applies.
    public let condition: Condition
    /// Forward to nodes (`origin` for the sender), drop or quarantine.
    public let action: RouteAction
    /// Edits applied to what the route forwards.
    public let coercion: Coercion
    /// The class of this route's deliveries, replacing the instance's class; nil keeps it.
    public let priority: PriorityClass?

    public init(name: String, condition: Condition, action: RouteAction,
                coercion: Coercion = Coercion(), priority: PriorityClass? = nil) {
        self.name = name
        self.condition = condition
        self.action = action
        self.coercion = coercion
        self.priority = priority
    }

    public init(_ config: RouteConfig) {
        self.init(name: config.name, condition: Condition(config.condition), action: config.action,
                  coercion: config.coercion, priority: config.priority)
    }
}
