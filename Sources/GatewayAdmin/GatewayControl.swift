import Foundation
import GatewayConfig
import GatewayStore

/// What the HTTP API needs from the running gateway beyond its index. GatewayApp implements it;
/// GatewayAdmin never imports the DICOM side.
public protocol GatewayControl: Sendable {
    /// The configuration in force now (replaced by a reload).
    var configuration: GatewayConfiguration { get }
    /// When the gateway started.
    var startedAt: Date { get }
    /// The outcome of the last reload, nil when there has been none.
    var lastReload: ReloadReport? { get }
    /// Re-reads the configuration file, as SIGHUP does.
    func reloadConfiguration() -> ReloadReport
    /// Tells the delivery workers that queued work changed (replayed, escalated).
    func deliveryWorkChanged()
    /// The reporting worklist's actions; nil when the gateway runs without them (tests of the API alone).
    var worklist: (any WorklistControl)? { get }
}

extension GatewayControl {
    public var worklist: (any WorklistControl)? { nil }
}

/// What a configuration reload did.
public struct ReloadReport: Sendable, Equatable {
    public var time: Date
    public var succeeded: Bool
    /// Every problem of a refused file, one diagnostic per entry (file:line:column: ...).
    public var errors: [String]
    /// Settings that changed in the file but take effect only after a restart.
    public var needsRestart: [String]

    public init(time: Date = Date(), succeeded: Bool, errors: [String] = [], needsRestart: [String] = []) {
        self.time = time
        self.succeeded = succeeded
        self.errors = errors
        self.needsRestart = needsRestart
    }
}

/// A reporter site as the worklist API shows it (from the configuration, with its hours now).
public struct WorklistSiteView: Sendable, Equatable, Codable {
    public var site: String
    public var skills: [String]
    /// Effort units per hour.
    public var capacity: Double
    /// `HH:MM-HH:MM`, nil: always.
    public var hours: String?
    public var inHoursNow: Bool
    public var onDemand: Bool
    public var organisation: String?

    public init(site: String, skills: [String], capacity: Double, hours: String?, inHoursNow: Bool, onDemand: Bool,
                organisation: String?) {
        self.site = site
        self.skills = skills
        self.capacity = capacity
        self.hours = hours
        self.inHoursNow = inHoursNow
        self.onDemand = onDemand
        self.organisation = organisation
    }
}

/// A worklist request that names something that does not exist or cannot be done (400/404).
public struct WorklistRequestError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case badRequest, notFound }
    public var kind: Kind
    public var message: String
    public var description: String { message }
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// The worklist actions that need the allocator and the delivery workers. GatewayApp implements
/// them; each throws `WorklistConflict` (409) when the item's state forbids it and
/// `WorklistRequestError` for an unknown item or site.
public protocol WorklistControl: Sendable {
    /// The site takes the item (`in_progress`, by `reporter`); refused when another site has started it.
    func claimWorklistItem(_ id: Int64, site: String, reporter: String, actor: String) throws -> WorklistItem
    /// Back to scheduled; the allocator tries other sites first.
    func releaseWorklistItem(_ id: Int64, actor: String, reason: String) throws -> WorklistItem
    /// An operator gives the item to `site` (images follow unless it pulls on demand).
    func reassignWorklistItem(_ id: Int64, site: String, actor: String) throws -> WorklistItem
    func cancelWorklistItem(_ id: Int64, actor: String, reason: String) throws -> WorklistItem
    /// The configured reporter sites.
    func worklistSites() -> [WorklistSiteView]
    /// Each site's open work as the running gateway tracks it (read from the index at most a few
    /// seconds ago, adjusted at each allocation since); nil: read the index. May block.
    func worklistSiteLoads() -> [WorklistSiteLoad]?
}

extension WorklistControl {
    public func worklistSiteLoads() -> [WorklistSiteLoad]? { nil }
}
