import DicomCore
import GatewayConfig

/// Decides, without side effects, the priority and destinations of an instance.
///
/// - Priority: the first matching rule of `priorities` gives the class (`routine` when none
///   does); a request sent with DIMSE priority HIGH is at least `urgent`.
/// - Routes: every matching route applies, in file order. A matching `drop` or `quarantine`
///   route overrides all forwarding (the first such route gives the reason). `origin` is the
///   sending node. When two routes name the same destination, the first route's delivery is
///   kept. A route's `priority` replaces the instance class for that route's deliveries; without
///   one, a report going home (to the study's origin node, from another node) is at least `urgent`.
///
/// ```swift
/// let decision = Router(plan: plan).route(instance)
/// for delivery in decision.deliveries { queue(delivery.destination, delivery.priority, delivery.edits) }
/// ```
public struct Router: Sendable {
    public let plan: RoutingPlan

    public init(plan: RoutingPlan) {
        self.plan = plan
    }

    /// The class of `instance` and the name of the rule that gave it (nil when none matched).
    public func classify(_ instance: RoutedInstance) -> (priority: PriorityClass, rule: String?) {
        let rule = plan.priorities.first { $0.condition.matches(instance) }
        var priority = rule?.priorityClass ?? .routine
        if instance.dimsePriority == .high { priority = max(priority, .urgent) }
        return (priority, rule?.name)
    }

    /// The full decision for `instance`.
    public func route(_ instance: RoutedInstance) -> RoutingDecision {
        let (priority, rule) = classify(instance)
        var decision = RoutingDecision(priority: priority, priorityRule: rule)
        let issuer = instance.sendingNode.flatMap { plan.issuers[$0] }
        for route in plan.routes where route.condition.matches(instance) {
            decision.matchedRoutes.append(route.name)
            switch route.action {
            case let .drop(reason):
                if decision.disposition == .forward { decision.disposition = .drop(reason: reason, route: route.name) }
            case let .quarantine(reason):
                if decision.disposition == .forward { decision.disposition = .quarantine(reason: reason, route: route.name) }
            case let .forward(destinations):
                let edits = route.coercion.edits(for: instance.attributes, senderIssuer: issuer)
                if route.coercion.issuerFromNode, issuer == nil {
                    decision.notes.append("route '\(route.name)': the sender has no issuer; IssuerOfPatientID left as it was")
                }
                for name in destinations {
                    guard let node = resolve(name, instance: instance, route: route.name, notes: &decision.notes) else { continue }
                    if let existing = decision.delivery(to: node) {
                        decision.notes.append("route '\(route.name)': \(node) already receives it by route '\(existing.route)'; that delivery is kept")
                        continue
                    }
                    decision.deliveries.append(Delivery(destination: node, route: route.name,
                                                        priority: deliveryClass(route, to: node, instance: instance, priority),
                                                        edits: edits))
                }
            }
        }
        if decision.disposition != .forward { decision.deliveries = [] }
        return decision
    }

    /// The route's class when it sets one; otherwise the instance's, and at least `urgent` for a
    /// report going home (to the node the study came from, sent by another node).
    private func deliveryClass(_ route: Route, to node: String, instance: RoutedInstance, _ priority: PriorityClass) -> PriorityClass {
        if let fixed = route.priority { return fixed }
        if instance.category == .report, let home = instance.studyOriginNode, node == home, instance.sendingNode != home {
            return max(priority, .urgent)
        }
        return priority
    }

    private func resolve(_ name: String, instance: RoutedInstance, route: String, notes: inout [String]) -> String? {
        guard name == RouteConfig.origin else { return name }
        if let studyOrigin = instance.studyOriginNode { return studyOrigin }
        guard let sender = instance.sendingNode else {
            notes.append("route '\(route)': the sender is not a configured node, so 'origin' is unknown; not sent back")
            return nil
        }
        return sender
    }
}
