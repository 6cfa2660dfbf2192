import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging
import ServiceLifecycle

/// Sends queued deliveries to their destinations. Each destination gets as many workers as its
/// `max_associations` (a bad destination never slows the others); when it has two or more, one
/// of them only takes stat and urgent work, so a long routine transfer cannot block them. Workers
/// for destinations added by a reload start within a few seconds; those removed stop.
struct DeliveryService: Service {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let paths: InstancePath
    let signal: DeliverySignal
    let logger: Logger

    func run() async throws {
        try index.requeueInFlightDeliveries()
        let running = RunningWorkers()
        await withTaskGroup(of: Void.self) { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                for (key, destination, slot) in wanted() where running.start(key) {
                    group.addTask {
                        _ = try? await BlockingThread.run(name: "delivery-\(destination)") { [self] in
                            var worker = DeliveryWorker(destination: destination, slot: slot, holder: holder, index: index,
                                                        paths: paths, signal: signal, logger: logger)
                            worker.run()
                        }
                        // Stopped (destination removed, slot or lane changed by a reload): may start again.
                        running.finish(key)
                    }
                }
                try? await gracefulSleep(.seconds(3))
            }
            signal.stop()
            await group.waitForAll()
        }
    }

    /// (key, destination, slot) for every worker the current configuration asks for; the key
    /// includes the lane, so a reload that changes it starts a worker of the right kind.
    private func wanted() -> [(String, String, Int)] {
        holder.current.nodes.filter { $0.address != nil && ($0.hasRole(.destination) || $0.hasRole(.reporter)) }
            .flatMap { node in
                (0..<node.maxAssociations).map { slot in
                    let lane = DeliveryWorker.lane(slot: slot, maxAssociations: node.maxAssociations)
                    return ("\(node.name)#\(slot)#\(lane.rawValue)", node.name, slot)
                }
            }
    }
}

/// Keys of the workers running now; each worker's task removes its own key when it ends.
private final class RunningWorkers: @unchecked Sendable {
    // Safe: `keys` is only touched under `lock`.
    private let lock = NSLock()
    private var keys = Set<String>()

    /// True when `key` was not running (and is now).
    func start(_ key: String) -> Bool { lock.withLock { keys.insert(key).inserted } }
    func finish(_ key: String) { _ = lock.withLock { keys.remove(key) } }
}
