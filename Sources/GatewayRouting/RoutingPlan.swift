import GatewayConfig

/// The compiled rules a `Router` applies: priority rules, routes and the node issuers that
/// `issuer_from_node` needs.
///
/// ```swift
/// let plan = RoutingPlan(configuration: try GatewayConfiguration.load(contentsOf: url))
/// let decision = Router(plan: plan).route(instance)
/// ```
public struct RoutingPlan: Sendable {
    /// In order; the first match gives the class.
    public var priorities: [PriorityRule]
    /// In order; every match applies.
    public var routes: [Route]
    /// Node name -> issuer of its Patient IDs.
    public var issuers: [String: String]

    public init(priorities: [PriorityRule] = [], routes: [Route] = [], issuers: [String: String] = [:]) {
        self.priorities = priorities
        self.routes = routes
        self.issuers = issuers
    }

    /// Compiles the `priorities`, `routes` and node issuers of a validated configuration.
    public init(configuration: GatewayConfiguration) {
        var issuers: [String: String] = [:]
        for node in configuration.nodes {
            if let issuer = node.issuer { issuers[node.name] = issuer }
        }
        self.init(priorities: configuration.priorities.map(PriorityRule.init),
                  routes: configuration.routes.map(Route.init), issuers: issuers)
    }
}
