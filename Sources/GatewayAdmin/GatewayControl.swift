import Foundation
import GatewayConfig

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
