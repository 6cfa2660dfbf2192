import Foundation
import GatewayStore
import Logging
import ServiceLifecycle

/// Runs the retention policy periodically until graceful shutdown.
///
/// `sweep` removes what was derived from studies no longer cached (DICOMweb's kept metadata): once
/// at start (studies may have gone while the process was down, or by recovery) and after each
/// pass that evicted something.
struct RetentionService: Service {
    let runner: RetentionRunner
    let interval: Duration
    let logger: Logger
    var sweep: @Sendable () -> Void = {}
    /// Only the cluster's leader retires studies (always true for a node alone).
    var leadership = Leadership.alone()

    func run() async throws {
        var first = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            guard leadership.isLeader else {
                try? await gracefulSleep(.seconds(1))
                continue
            }
            var evicted: [String] = []
            do {
                evicted = try runner.runOnce()
            } catch {
                logger.error("retention pass failed: \(error)")
            }
            if first || !evicted.isEmpty { sweep() }
            first = false
            try? await gracefulSleep(interval)
        }
    }
}

/// Sleeps, returning early on graceful shutdown or cancellation.
func gracefulSleep(_ duration: Duration) async throws {
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(for: duration)
    }
}
