import DicomCore
import Foundation
import GatewayConfig
import GatewayRouting

/// The compiled `reporting:` section and reporter sites: what the worklist decides with.
///
/// ```swift
/// let plan = ReportingPlan(configuration: config)
/// if let placement = plan.placement(for: instance, priority: .urgent) { ... }   // the study needs a report
/// ```
public struct ReportingPlan: Sendable {
    public var settings: ReportingSettings
    public var rules: [ReportingRule]
    /// Reporter sites (nodes with `reporting:`), in file order.
    public var sites: [ReporterSite]
    /// Node name -> its issuer (the organisation a study from it belongs to, for `prefer: origin`).
    public var organisations: [String: String]

    public init(settings: ReportingSettings = ReportingSettings(), rules: [ReportingRule] = [], sites: [ReporterSite] = [],
                organisations: [String: String] = [:]) {
        self.settings = settings
        self.rules = rules
        self.sites = sites
        self.organisations = organisations
    }

    public init(configuration: GatewayConfiguration) {
        var organisations: [String: String] = [:]
        for node in configuration.nodes { if let issuer = node.issuer { organisations[node.name] = issuer } }
        self.init(
            settings: configuration.reporting,
            rules: configuration.reporting.rules.map(ReportingRule.init),
            sites: configuration.nodes.compactMap { node in
                node.reporting.map { ReporterSite(name: node.name, settings: $0, issuer: node.issuer) }
            },
            organisations: organisations)
    }

    public var isEnabled: Bool { !rules.isEmpty }

    /// The item a study gets when this instance is the first of it to match a rule; nil when no
    /// rule matches or the instance is a report (reports close items, they never open one).
    public func placement(for instance: RoutedInstance, priority: PriorityClass) -> Placement? {
        guard instance.category != .report else { return nil }
        guard let rule = rules.first(where: { $0.condition.matches(instance) }) else { return nil }
        let itemClass = rule.priorityClass ?? priority
        let deadline = rule.deadline ?? settings.deadline(for: itemClass)
        return Placement(rule: rule.name, skill: rule.skill, effort: rule.effort, priorityClass: itemClass,
                         deadlineAfter: deadline.seconds)
    }

    /// The rule that would match, for `route test`, with the placement.
    public func site(named name: String) -> ReporterSite? { sites.first { $0.name == name } }
}

/// One compiled reporting rule.
public struct ReportingRule: Sendable {
    public var name: String
    public var condition: Condition
    public var skill: String
    public var deadline: Duration?
    public var effort: Double
    public var priorityClass: PriorityClass?

    public init(_ config: ReportingRuleConfig) {
        name = config.name
        condition = Condition(config.condition)
        skill = config.skill
        deadline = config.deadline
        effort = config.effort
        priorityClass = config.priorityClass
    }
}

/// What a rule gives a study: skill, effort, class and time to deadline.
public struct Placement: Sendable, Equatable {
    public var rule: String
    public var skill: String
    public var effort: Double
    public var priorityClass: PriorityClass
    /// Seconds from the study's arrival.
    public var deadlineAfter: TimeInterval

    public init(rule: String, skill: String, effort: Double, priorityClass: PriorityClass, deadlineAfter: TimeInterval) {
        self.rule = rule
        self.skill = skill
        self.effort = effort
        self.priorityClass = priorityClass
        self.deadlineAfter = deadlineAfter
    }
}

/// A reporter site as the allocator sees it.
public struct ReporterSite: Sendable, Equatable {
    public var name: String
    public var skills: Set<String>
    /// Effort units per hour.
    public var capacity: Double
    public var hours: TimeWindow?
    public var onDemand: Bool
    /// For `prefer: origin`: `organisation`, else the node's issuer.
    public var organisation: String?

    public init(name: String, skills: Set<String>, capacity: Double, hours: TimeWindow? = nil, onDemand: Bool = false,
                organisation: String? = nil) {
        self.name = name
        self.skills = skills
        self.capacity = capacity
        self.hours = hours
        self.onDemand = onDemand
        self.organisation = organisation
    }

    public init(name: String, settings: ReporterSettings, issuer: String?) {
        self.init(name: name, skills: settings.skills, capacity: settings.capacity, hours: settings.hours,
                  onDemand: settings.onDemand, organisation: settings.organisation ?? issuer)
    }

    public func isWorking(at time: TimeOfDay) -> Bool { hours?.contains(time) ?? true }
}

/// Report objects that close a study's item. Every SR, KOS and Encapsulated PDF/CDA is a report
/// (InstanceCategory.report) except the ones a modality or a CAD system makes, which arrive with
/// the images and are no radiologist's report: radiation dose SRs, acquisition context and
/// imaging agent SRs, CAD SRs, the simplified echo SR.
public enum ReportObject {
    public static let notReports: Set<String> = [
        "1.2.840.10008.5.1.4.1.1.88.50",  // Mammography CAD SR
        "1.2.840.10008.5.1.4.1.1.88.65",  // Chest CAD SR
        "1.2.840.10008.5.1.4.1.1.88.67",  // X-Ray Radiation Dose SR
        "1.2.840.10008.5.1.4.1.1.88.68",  // Radiopharmaceutical Radiation Dose SR
        "1.2.840.10008.5.1.4.1.1.88.69",  // Colon CAD SR
        "1.2.840.10008.5.1.4.1.1.88.70",  // Implantation Plan SR
        "1.2.840.10008.5.1.4.1.1.88.71",  // Acquisition Context SR
        "1.2.840.10008.5.1.4.1.1.88.72",  // Simplified Adult Echo SR
        "1.2.840.10008.5.1.4.1.1.88.73",  // Patient Radiation Dose SR
        "1.2.840.10008.5.1.4.1.1.88.74",  // Planned Imaging Agent Administration SR
        "1.2.840.10008.5.1.4.1.1.88.75",  // Performed Imaging Agent Administration SR
        "1.2.840.10008.5.1.4.1.1.88.76",  // Enhanced X-Ray Radiation Dose SR
    ]

    /// Whether an instance of this SOP class reports its study.
    public static func closesItem(sopClassUID: String) -> Bool {
        let uid = sopClassUID.trimmingDicomPadding()
        return InstanceCategory(sopClassUID: uid) == .report && !notReports.contains(uid)
    }
}
