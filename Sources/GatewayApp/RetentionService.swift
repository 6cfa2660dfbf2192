import Foundation
import GatewayStore
import Logging
import ServiceLifecycle

/// Runs the retention policy periodically until graceful shutdown.
struct RetentionService: Service {
    let runner: RetentionRunner
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try runner.runOnce()
            } catch {
                logger.error("retention pass failed: \(error)")
            }
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
