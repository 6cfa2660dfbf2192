import GatewayConfig

/// What the router decided for one instance.
public struct RoutingDecision: Sendable, Equatable {
    /// What happens to the instance as a whole.
    public enum Disposition: Sendable, Equatable {
        /// Forwarded as `deliveries` says (possibly nowhere, when no route matched).
        case forward
        /// Discarded by the named route, forwarding nothing.
        case drop(reason: String, route: String)
        /// Held for an operator by the named route, forwarding nothing.
        case quarantine(reason: String, route: String)
    }

    /// The instance's priority class (rules, then the DIMSE priority floor).
    public var priority: PriorityClass
    /// The priority rule that gave the class; nil when none matched.
    public var priorityRule: String?
    /// The routes whose condition held, in file order.
    public var matchedRoutes: [String]
    /// One per destination, in route order; empty for a drop or quarantine.
    public var deliveries: [Delivery]
    /// Forward, drop or quarantine.
    public var disposition: Disposition
    /// Things an operator should know: an unresolvable `origin`, a destination two routes share.
    public var notes: [String]

    public init(priority: PriorityClass, priorityRule: String? = nil, matchedRoutes: [String] = [],
                deliveries: [Delivery] = [], disposition: Disposition = .forward, notes: [String] = []) {
        self.priority = priority
        self.priorityRule = priorityRule
        self.matchedRoutes = matchedRoutes
        self.deliveries = deliveries
        self.disposition = disposition
        self.notes = notes
    }

    /// Every rule that matched: the priority rule, then the routes.
    public var matchedRules: [String] { (priorityRule.map { [$0] } ?? []) + matchedRoutes }

    /// The destination node names, `origin` resolved.
    public var destinations: [String] { deliveries.map(\.destination) }

    /// The delivery to `node`, if any.
    public func delivery(to node: String) -> Delivery? { deliveries.first { $0.destination == node } }
}

/// One instance to send to one destination.
public struct Delivery: Sendable, Equatable {
    /// The destination node's name (`origin` already resolved to the sender).
    public var destination: String
    /// The route that asked for it.
    public var route: String
    /// The class the delivery is queued with.
    public var priority: PriorityClass
    /// The coercion to apply to the copy sent there.
    public var edits: AttributeEdits

    public init(destination: String, route: String, priority: PriorityClass, edits: AttributeEdits = [:]) {
        self.destination = destination
        self.route = route
        self.priority = priority
        self.edits = edits
    }
}
