import DicomNetwork
import Foundation
import GatewayStore
import Logging
import ServiceLifecycle

/// This node's place in the cluster: every second it takes or keeps the leader lock (PostgreSQL
/// only; a node on SQLite is alone and leads), and every two it writes its heartbeat row, so the
/// API and dashboard of any node show every node and which one leads. A graceful stop gives the
/// lock up, so another node takes over at once; a node that dies loses it with its session.
/// On PostgreSQL it also renews this node's delivery leases every second, and the leader puts
/// back the deliveries of a node whose leases expired.
struct ClusterService: Service {
    let index: CacheIndex
    let leadership: Leadership
    let lock: PostgresLeaderLock?
    let node: String
    let address: String
    let logger: Logger

    func run() async throws {
        let started = Date()
        var lastBeat = Date.distantPast
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let leading: Bool
            if let lock {
                leading = (try? await BlockingThread.run(name: "cluster-leader") { lock.poll() }) ?? false
            } else {
                leading = true
            }
            let wasLeading = leadership.isLeader
            if leadership.set(leading: leading) {
                logger.notice("this node now leads the cluster (pull schedules, retention, worklist allocation, orphan watch)",
                              metadata: ["node": "\(node)"])
            } else if wasLeading && !leading {
                logger.warning("this node no longer leads the cluster", metadata: ["node": "\(node)"])
            }
            if lock != nil {
                await keepLeases(leading: leading)
            }
            if Date().timeIntervalSince(lastBeat) >= 2 || leading != wasLeading {
                lastBeat = Date()
                do {
                    try await BlockingThread.run(name: "cluster-heartbeat") { [index, node, address] in
                        try index.recordHeartbeat(node: node, startedAt: started, leader: leading, address: address)
                    }
                } catch {
                    logger.warning("cannot record this node's heartbeat in the index", metadata: ["error": "\(error)"])
                }
            }
            try? await gracefulSleep(.seconds(1))
        }
        if let lock {
            _ = try? await BlockingThread.run(name: "cluster-leader") { lock.release() }
            leadership.set(leading: false)
        }
    }

    /// Renews this node's delivery leases; the leader also puts back the deliveries of nodes
    /// whose leases expired (dead, or cut off from the index), for any node's workers to take.
    private func keepLeases(leading: Bool) async {
        do {
            let reclaimed = try await BlockingThread.run(name: "cluster-leases") { [index] () -> Int in
                try index.renewDeliveryLeases()
                return leading ? try index.reclaimExpiredLeases() : 0
            }
            if reclaimed > 0 {
                logger.warning("took back \(reclaimed) deliveries whose node stopped renewing its leases; they are sent again",
                               metadata: ["node": "\(node)"])
            }
        } catch {
            logger.warning("cannot renew this node's delivery leases", metadata: ["error": "\(error)"])
        }
    }
}
