import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayReporting
import GatewayRouting
import Logging

/// The running configuration, replaceable on SIGHUP. Readers take a snapshot per association or
/// request, so a reload takes effect for new work and never changes a request half-way.
public final class ConfigurationHolder: @unchecked Sendable {
    // Safe: `value`, `routerValue` and `lastReloadValue` are only read and written under `lock`.
    private let lock = NSLock()
    private var value: GatewayConfiguration
    private var routerValue: Router
    private var reportingValue: ReportingPlan
    private var lastReloadValue: ReloadReport?
    public let sourcePath: String?

    public init(_ configuration: GatewayConfiguration, sourcePath: String?) {
        value = configuration
        routerValue = Router(plan: RoutingPlan(configuration: configuration))
        reportingValue = ReportingPlan(configuration: configuration)
        self.sourcePath = sourcePath
    }

    /// The reporting worklist's rules and sites (rebuilt on reload).
    public var reporting: ReportingPlan {
        lock.lock()
        defer { lock.unlock() }
        return reportingValue
    }

    /// The router built from the current configuration (rebuilt on reload, not per instance).
    public var router: Router {
        lock.lock()
        defer { lock.unlock() }
        return routerValue
    }

    public var current: GatewayConfiguration {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    /// The outcome of the last reload (SIGHUP or the HTTP API), nil before the first.
    public var lastReload: ReloadReport? {
        lock.lock()
        defer { lock.unlock() }
        return lastReloadValue
    }

    /// Re-reads the file. A valid file replaces the configuration (settings that need a restart
    /// are kept and named in the log); an invalid one is refused and the running one kept.
    @discardableResult
    public func reload(logger: Logger) -> Bool {
        reloadReport(logger: logger).succeeded
    }

    /// `reload(logger:)`, saying what happened: every error of a refused file, or which changed
    /// settings wait for a restart.
    public func reloadReport(logger: Logger) -> ReloadReport {
        let report = reloadFile(logger: logger)
        lock.lock()
        lastReloadValue = report
        lock.unlock()
        return report
    }

    private func reloadFile(logger: Logger) -> ReloadReport {
        guard let sourcePath else {
            logger.warning("reload requested, but the gateway runs on its embedded default (no --config file)")
            return ReloadReport(succeeded: false, errors: ["the gateway runs on its embedded default: there is no configuration file to reload"])
        }
        let fresh: GatewayConfiguration
        do {
            fresh = try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: sourcePath))
        } catch {
            logger.error("configuration reload refused; the running configuration is kept", metadata: ["errors": "\(error.description)"])
            return ReloadReport(succeeded: false, errors: error.diagnostics.map(\.description))
        }
        lock.lock()
        let old = value
        var next = fresh
        var needRestart: [String] = []
        if fresh.gateway.port != old.gateway.port || fresh.gateway.bind != old.gateway.bind { needRestart.append("gateway.port/bind") }
        if fresh.gateway.maxAssociations != old.gateway.maxAssociations { needRestart.append("gateway.max_associations") }
        if fresh.gateway.tls?.port != old.gateway.tls?.port || (fresh.gateway.tls == nil) != (old.gateway.tls == nil) {
            needRestart.append("gateway.tls.port")
        }
        if fresh.storage.path != old.storage.path || fresh.storage.indexPath != old.storage.indexPath { needRestart.append("storage.path/index") }
        if fresh.index != old.index { needRestart.append("index") }
        if fresh.cluster != old.cluster { needRestart.append("cluster") }
        if fresh.logging != old.logging { needRestart.append("logging") }
        if fresh.http != old.http { needRestart.append("http") }
        // DICOMweb's routes (root, enabled, CORS, limits, public URL) are mounted when the listener starts.
        if fresh.dicomweb != old.dicomweb { needRestart.append("dicomweb") }
        // The listener's limits are fixed when it starts (they live in the C acceptor).
        if fresh.limits != old.limits { needRestart.append("limits") }
        next.gateway.port = old.gateway.port
        next.gateway.bind = old.gateway.bind
        next.gateway.maxAssociations = old.gateway.maxAssociations
        next.storage.path = old.storage.path
        next.storage.indexPath = old.storage.indexPath
        next.index = old.index
        next.cluster = old.cluster
        next.logging = old.logging
        next.http = old.http
        next.dicomweb = old.dicomweb
        next.limits = old.limits
        value = next
        routerValue = Router(plan: RoutingPlan(configuration: next))
        reportingValue = ReportingPlan(configuration: next)
        lock.unlock()
        logger.notice("configuration reloaded", metadata: [
            "file": "\(sourcePath)", "nodes": "\(next.nodes.count)",
            "needs_restart": "\(needRestart.isEmpty ? "nothing" : needRestart.joined(separator: ", "))"])
        return ReloadReport(succeeded: true, needsRestart: needRestart)
    }
}
