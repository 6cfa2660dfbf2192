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
        await withTaskGroup(of: Void.self) { group in
            var running: Set<String> = []
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                for (key, destination, lane) in wanted() where !running.contains(key) {
                    running.insert(key)
                    group.addTask {
                        _ = try? await BlockingThread.run(name: "delivery-\(destination)") { [self] in
                            var worker = DeliveryWorker(destination: destination, lane: lane, holder: holder, index: index,
                                                        paths: paths, signal: signal, logger: logger)
                            worker.run()
                        }
                    }
                }
                try? await gracefulSleep(.seconds(3))
                // A worker whose destination left the configuration has returned: allow a restart
                // if the node comes back.
                running = running.intersection(wanted().map(\.0))
            }
            signal.stop()
            await group.waitForAll()
        }
    }

    /// (key, destination, lane) for every worker the current configuration asks for.
    private func wanted() -> [(String, String, DeliveryWorker.Lane)] {
        holder.current.nodes.filter { $0.address != nil && ($0.hasRole(.destination) || $0.hasRole(.reporter)) }
            .flatMap { node in
                (0..<node.maxAssociations).map { slot in
                    let lane: DeliveryWorker.Lane = node.maxAssociations >= 2 && slot == 0 ? .priorityLane : .any
                    return ("\(node.name)#\(slot)", node.name, lane)
                }
            }
    }
}
