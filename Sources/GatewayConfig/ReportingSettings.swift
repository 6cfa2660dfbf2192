import Foundation

/// The `reporting:` section: the network's shared reporting worklist. A study that matches a
/// rule gets one worklist item (skill, effort, deadline), which is allocated to a reporter site
/// with that skill and spare capacity, reallocated when it stalls, escalated as its deadline
/// nears, and shown as overdue or orphaned when nobody reports it.
///
/// ```yaml
/// reporting:
///   deadlines: { stat: 1h, urgent: 4h, routine: 7d, bulk: 28d }
///   grace: 30m
///   escalate_at: 75%
///   orphan_after: 14d
///   prefer: origin
///   notify: { webhook: "http://127.0.0.1:9000/hooks/reporting" }
///   rules:
///     - { name: stroke, when: { Modality: CT, StudyDescription: "~(?i)stroke" }, skill: neuro, deadline: 30m }
/// ```
public struct ReportingSettings: Sendable, Hashable {
    /// Time from a study's arrival to its report deadline, per class (`deadlines`; defaults
    /// stat 1h, urgent 4h, routine 7d, bulk 28d). A rule's `deadline` overrides it.
    public var deadlines: [PriorityClass: Duration] = [
        .stat: .seconds(3600), .urgent: .seconds(4 * 3600), .routine: .seconds(7 * 86_400), .bulk: .seconds(28 * 86_400),
    ]
    /// An allocated item not started within this is offered to another site (`grace`, default 30m).
    public var grace: Duration = .seconds(30 * 60)
    /// The fraction of the time to deadline after which the study's waiting deliveries move up
    /// one class (`escalate_at`, written `75%` or `0.75`; default 0.75).
    public var escalateAt: Double = 0.75
    /// A study that matched no rule and has no report after this is an orphan; so is a report
    /// not home this long after it arrived (`orphan_after`, default 14d).
    public var orphanAfter: Duration = .seconds(14 * 86_400)
    /// Which sites are tried first (`prefer`, default `none`).
    public var prefer: ReportingPreference = .none
    /// Where overdue, orphan and reallocation events are POSTed as JSON (`notify.webhook`).
    public var webhook: URL?
    /// How often the worklist is reviewed: allocation, grace, escalation, deadlines, orphans
    /// (`review_interval`, default 10s).
    public var reviewInterval: Duration = .seconds(10)
    /// The rules, in file order; the first match gives a study its item (`rules`).
    public var rules: [ReportingRuleConfig] = []

    public init() {}

    /// True when any rule exists: the worklist is off without rules.
    public var isEnabled: Bool { !rules.isEmpty }

    /// The deadline of a class when no rule sets one.
    public func deadline(for priorityClass: PriorityClass) -> Duration {
        deadlines[priorityClass] ?? .seconds(7 * 86_400)
    }
}

/// Which reporter sites an allocation tries first.
public enum ReportingPreference: String, Sendable, Hashable, CaseIterable {
    /// Every eligible site is equal; the one with the most spare capacity wins.
    case none
    /// Sites of the study's origin organisation (a reporter's `organisation` equal to the origin
    /// node's issuer) first, while they have spare capacity; then every eligible site.
    case origin
}

/// One entry of `reporting.rules`: which studies need a report, with what skill, by when.
public struct ReportingRuleConfig: Sendable, Hashable {
    /// The rule's name (`name`, required, unique), shown on items and in explanations.
    public var name: String
    /// When it applies (`when`, `from`, `calling_ae`, `time`, as in routes).
    public var condition: ConditionConfig
    /// The skill a reporter site must have (`skill`, required; a skill some site has).
    public var skill: String
    /// Time from arrival to deadline (`deadline`); nil: the class's deadline.
    public var deadline: Duration?
    /// Effort units the item costs a site (`effort`, default 1; capacity is effort per hour).
    public var effort: Double = 1
    /// The item's class (`class`); nil: the class the priority rules gave the study.
    public var priorityClass: PriorityClass?

    public init(name: String, condition: ConditionConfig, skill: String, deadline: Duration? = nil, effort: Double = 1,
                priorityClass: PriorityClass? = nil) {
        self.name = name
        self.condition = condition
        self.skill = skill
        self.deadline = deadline
        self.effort = effort
        self.priorityClass = priorityClass
    }
}

/// A reporter node's `reporting:` key: what its radiologists read and how much.
///
/// ```yaml
/// nodes:
///   NEURO_HUB: { ..., roles: [destination, reporter], reporting: { skills: [neuro], capacity: 12, hours: "08:00-20:00" } }
/// ```
public struct ReporterSettings: Sendable, Hashable {
    /// What the site reports (`skills`, required, at least one; lower-case names).
    public var skills: Set<String>
    /// Effort units it reports per hour (`capacity`, default 10, more than 0).
    public var capacity: Double = 10
    /// When it takes new work (`hours`, a daily window like `08:00-20:00`); nil: always.
    public var hours: TimeWindow?
    /// True: images are not pushed on allocation, the site retrieves them (`on_demand`, default false).
    public var onDemand = false
    /// The organisation the site belongs to, for `prefer: origin` (`organisation`; default the node's issuer).
    public var organisation: String?

    public init(skills: Set<String>, capacity: Double = 10, hours: TimeWindow? = nil, onDemand: Bool = false,
                organisation: String? = nil) {
        self.skills = skills
        self.capacity = capacity
        self.hours = hours
        self.onDemand = onDemand
        self.organisation = organisation
    }
}
