import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayStore
import Logging

/// The running gateway as the HTTP API sees it: its configuration, reload, and the signal that
/// wakes delivery workers when an operator replays or escalates work.
struct RunningGatewayControl: GatewayControl {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let signal: DeliverySignal
    let startedAt: Date
    let logger: Logger
    /// The reporting worklist's actions.
    var worklistCoordinator: WorklistCoordinator?
    var worklist: (any WorklistControl)? { worklistCoordinator }

    var configuration: GatewayConfiguration { holder.current }
    var lastReload: ReloadReport? { holder.lastReload }

    func reloadConfiguration() -> ReloadReport { Self.reload(holder, index: index, actor: "http-api", logger: logger) }

    /// Reloads the configuration file and writes the outcome to the audit trail.
    static func reload(_ holder: ConfigurationHolder, index: CacheIndex, actor: String, logger: Logger) -> ReloadReport {
        let report = holder.reloadReport(logger: logger)
        let detail = report.succeeded
            ? (report.needsRestart.isEmpty ? "taken" : "taken; needs a restart for \(report.needsRestart.joined(separator: ", "))")
            : "\(report.errors.count) error(s): \(report.errors.prefix(3).joined(separator: "; "))"
        let record = AuditRecord(event: "config", actor: actor, outcome: report.succeeded ? "reloaded" : "refused",
                                 detail: String(detail.prefix(2000)))
        do {
            // Written before the answer: a reload is rare, and its record should not wait.
            try index.write { db in
                var r = record
                try r.insert(db)
            }
        } catch {
            logger.error("cannot write the reload to the audit trail", metadata: ["error": "\(error)"])
        }
        index.observed(record)
        return report
    }

    func deliveryWorkChanged() {
        for node in holder.current.nodes { signal.notify(node.name) }
    }
}
