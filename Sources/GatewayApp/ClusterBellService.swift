import DicomNetwork
import Foundation
import GatewayStore
import Logging
import Metrics
import ServiceLifecycle

/// Carries the cluster's work notifications (PostgreSQL LISTEN/NOTIFY, `PostgresWorkBell`):
/// deliveries queued on this node ring the others, and theirs wake this node's workers at once.
/// A node on SQLite is alone and has none.
struct ClusterBellService: Service {
    let bell: PostgresWorkBell
    let signal: DeliverySignal

    func run() async throws {
        try await withGracefulShutdownHandler {
            _ = try? await BlockingThread.run(name: "cluster-bell") { [bell, signal] in
                bell.run { destination in
                    if destination != nil {
                        Counter(label: "dicom_gateway_cluster_rings_heard_total").increment()
                    }
                    signal.wake(destination)
                }
            }
        } onGracefulShutdown: { [bell] in
            bell.stop()
        }
    }
}
