import Foundation
import GatewayAdmin
import GatewayConfig
import Logging

/// The running gateway as the HTTP API sees it: its configuration, reload, and the signal that
/// wakes delivery workers when an operator replays or escalates work.
struct RunningGatewayControl: GatewayControl {
    let holder: ConfigurationHolder
    let signal: DeliverySignal
    let startedAt: Date
    let logger: Logger

    var configuration: GatewayConfiguration { holder.current }
    var lastReload: ReloadReport? { holder.lastReload }

    func reloadConfiguration() -> ReloadReport { holder.reloadReport(logger: logger) }

    func deliveryWorkChanged() {
        for node in holder.current.nodes { signal.notify(node.name) }
    }
}
