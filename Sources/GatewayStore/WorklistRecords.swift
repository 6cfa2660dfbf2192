import Foundation

/// Where a worklist item is in its life. `scheduled → allocated → in_progress → reported →
/// returned`, or `cancelled` from any open state.
public enum WorklistState: String, Sendable, CaseIterable, Codable {
    case scheduled, allocated
    case inProgress = "in_progress"
    case reported, returned, cancelled

    /// Still waiting for a report.
    public var isOpen: Bool { self == .scheduled || self == .allocated || self == .inProgress }

    /// The open states as SQL text literals, for `state IN (...)`.
    static let openSQL = "('scheduled', 'allocated', 'in_progress')"
}

/// Why an item is an orphan: a study nobody is going to report unless someone acts.
public enum WorklistOrphan: String, Sendable, CaseIterable, Codable {
    /// The study matched no reporting rule and has had no report for `orphan_after`.
    case noRule = "no_rule"
    /// Its report arrived but has not reached the origin trust within `orphan_after`.
    case reportNotReturned = "report_not_returned"
}

extension Date {
    /// Seconds since 1970: how the worklist tables store times (so SQL can do arithmetic on them).
    var epoch: Double { timeIntervalSince1970 }
}

/// One row of `worklist_item`: a study that needs a report.
public struct WorklistItem: IndexRecord, Sendable, Equatable {
    public static let indexTable = "worklist_item"

    public var id: Int64
    public var studyUID: String
    public var origin: String?
    public var patientID: String
    public var issuer: String
    /// 3 stat, 2 urgent, 1 routine, 0 bulk.
    public var priority: Int
    public var skill: String
    public var effort: Double
    public var rule: String?
    public var arrivedAt: Date
    public var deadline: Date
    public var state: WorklistState
    public var site: String?
    public var reporter: String
    public var pushImages: Bool
    public var siteEdits: String
    public var networkEdits: String
    public var originEdits: String
    public var passedOver: String
    public var allocatedAt: Date?
    public var startedAt: Date?
    public var reportedAt: Date?
    public var reportedBy: String
    public var returnedAt: Date?
    public var cancelledAt: Date?
    public var escalatedAt: Date?
    public var overdueAt: Date?
    public var orphan: WorklistOrphan?
    public var flag: String
    public var explanation: String
    public var transactionUID: String?
    public var updatedAt: Date

    public init(row: IndexRow) {
        id = row["id"]; studyUID = row["studyUID"]; origin = row["origin"]; patientID = row["patientID"]; issuer = row["issuer"]
        priority = row["priority"]; skill = row["skill"]; effort = row["effort"]; rule = row["rule"]
        arrivedAt = row["arrivedAt"]; deadline = row["deadline"]
        state = WorklistState(rawValue: row["state"]) ?? .scheduled
        site = row["site"]; reporter = row["reporter"]; pushImages = row["pushImages"]; siteEdits = row["siteEdits"]
        networkEdits = row["networkEdits"]; originEdits = row["originEdits"]; passedOver = row["passedOver"]
        allocatedAt = row["allocatedAt"]; startedAt = row["startedAt"]; reportedAt = row["reportedAt"]; reportedBy = row["reportedBy"]
        returnedAt = row["returnedAt"]; cancelledAt = row["cancelledAt"]; escalatedAt = row["escalatedAt"]; overdueAt = row["overdueAt"]
        orphan = (row["orphan"] as String?).flatMap(WorklistOrphan.init(rawValue:))
        flag = row["flag"]; explanation = row["explanation"]; transactionUID = row["transactionUID"]; updatedAt = row["updatedAt"]
    }

    /// Past its deadline without a report (a cancelled item is never overdue; an orphan found by
    /// the watch had no rule and so no deadline: it is an orphan, not overdue).
    public func isOverdue(at now: Date) -> Bool { state.isOpen && rule != nil && deadline <= now }

    /// Sites the item was taken from (released, reallocated); the allocator tries others first.
    public var passedOverSites: [String] { passedOver.split(separator: ",").map(String.init) }
}

/// The study-level attributes shown beside an item (the study row, when still cached).
public struct WorklistStudyInfo: Sendable, Equatable {
    public var accessionNumber: String
    public var studyDescription: String
    public var modalities: String
    public var studyDate: String
    public var instanceCount: Int
}

/// An item with its study's attributes, as the API and dashboard list it.
public struct WorklistListing: Sendable, Equatable {
    public var item: WorklistItem
    public var study: WorklistStudyInfo?
}

/// One step in an item's history.
public struct WorklistEvent: Sendable, Equatable, Codable {
    public var time: Date
    public var event: String
    public var actor: String
    public var site: String
    public var detail: String
}

/// What a reporting rule decided for a received instance: written by the transaction that files it
/// (a new item for its study, or nothing when the study has one).
public struct WorklistPlacement: Sendable, Equatable {
    public var rule: String
    public var skill: String
    public var effort: Double
    public var priorityRank: Int
    /// From the study's arrival to its deadline.
    public var deadlineAfter: TimeInterval
    /// The Patient ID and issuer the network sees.
    public var patientID: String
    public var issuer: String
    /// Identity edits (JSON, as deliveries carry them) for copies to a reporter outside the
    /// origin organisation, and for one inside it.
    public var networkEdits: String
    public var originEdits: String

    public init(rule: String, skill: String, effort: Double, priorityRank: Int, deadlineAfter: TimeInterval,
                patientID: String = "", issuer: String = "", networkEdits: String = "{}", originEdits: String = "{}") {
        self.rule = rule
        self.skill = skill
        self.effort = effort
        self.priorityRank = priorityRank
        self.deadlineAfter = deadlineAfter
        self.patientID = patientID
        self.issuer = issuer
        self.networkEdits = networkEdits
        self.originEdits = originEdits
    }
}

/// Which items a listing returns. Every field narrows; nil fields do not.
public struct WorklistFilter: Sendable, Equatable {
    public var site: String?
    public var skill: String?
    public var states: [WorklistState]?
    public var priorityRank: Int?
    public var origin: String?
    public var overdue: Bool?
    public var orphan: Bool?
    public var studyUID: String?

    public init(site: String? = nil, skill: String? = nil, states: [WorklistState]? = nil, priorityRank: Int? = nil,
                origin: String? = nil, overdue: Bool? = nil, orphan: Bool? = nil, studyUID: String? = nil) {
        self.site = site
        self.skill = skill
        self.states = states
        self.priorityRank = priorityRank
        self.origin = origin
        self.overdue = overdue
        self.orphan = orphan
        self.studyUID = studyUID
    }
}

/// A site's open work: the effort of its allocated and in-progress items.
public struct WorklistSiteLoad: Sendable, Equatable {
    public var site: String
    public var openEffort: Double
    public var openItems: Int
    /// Items allocated whose deliveries to the site are failing (retrying or dead).
    public var failingItems: Int

    public init(site: String, openEffort: Double, openItems: Int, failingItems: Int) {
        self.site = site
        self.openEffort = openEffort
        self.openItems = openItems
        self.failingItems = failingItems
    }
}

/// A change an operator or a site asked for that the item's state does not allow.
public struct WorklistConflict: Error, Sendable, CustomStringConvertible {
    public var itemID: Int64
    public var state: WorklistState
    public var site: String?
    public var message: String
    public var description: String { message }
}
