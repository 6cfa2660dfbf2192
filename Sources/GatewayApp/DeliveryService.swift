import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging
import ServiceLifecycle

/// Sends queued deliveries to their destinations: one worker per destination (a bad destination
/// never slows the others), highest priority class first, re-choosing after every batch so stat
/// work overtakes a routine backlog; stat/urgent go out with DIMSE priority HIGH. Failures retry
/// with capped exponential backoff and jitter; permanent refusals and exhausted budgets are `dead`.
struct DeliveryService: Service {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let paths: InstancePath
    let logger: Logger
    var batchSize = 32
    var maxAttempts = 10

    func run() async throws {
        try index.requeueInFlightDeliveries()
        let destinations = holder.current.nodes.filter { $0.address != nil && ($0.hasRole(.destination) || $0.hasRole(.reporter)) }
            .map(\.name)
        await withTaskGroup(of: Void.self) { group in
            for name in destinations {
                group.addTask { await self.worker(for: name) }
            }
        }
        // Nothing to deliver to: stay up until shutdown like every other service.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await gracefulSleep(.seconds(3600))
        }
    }

    private func worker(for destination: String) async {
        var outage = 0  // consecutive batches the destination could not be reached
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let batch: [DeliveryWork]
            do {
                batch = try index.leaseDeliveries(destination: destination, limit: batchSize)
            } catch {
                logger.error("delivery queue read failed", metadata: ["destination": "\(destination)", "error": "\(error)"])
                try? await gracefulSleep(.seconds(2))
                continue
            }
            if batch.isEmpty {
                try? await gracefulSleep(.milliseconds(200))
                continue
            }
            let configuration = holder.current
            guard let node = configuration.node(named: destination), let address = node.address else {
                index.releaseDeliveries(ids: batch.map(\.id), error: "destination \(destination) is no longer configured",
                                        retryAt: Date().addingTimeInterval(60))
                continue
            }
            let stalled = (try? await BlockingThread.run(name: "delivery-\(destination)") {
                self.send(batch, to: address, destination: destination, callingAE: configuration.gateway.aeTitle)
            }) ?? true
            if stalled {
                // Back off on the destination, not on its instances: an outage of hours kills nothing.
                outage += 1
                try? await gracefulSleep(.milliseconds(Int(1000 * min(60.0, pow(2.0, Double(min(outage, 6))) - 1))))
            } else {
                outage = 0
            }
        }
    }

    /// Sends one batch over one association; returns true when the destination could not be reached.
    private func send(_ batch: [DeliveryWork], to address: DicomNode, destination: String, callingAE: AETitle) -> Bool {
        let contexts = PresentationContextProposal.forStorage(of: batch.map {
            DicomFileInfo(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopUID, transferSyntaxUID: $0.transferSyntax)
        })
        let association: DicomAssociation
        do {
            association = try DicomAssociation.open(to: address, callingAE: callingAE, contexts: Array(contexts.prefix(128)))
        } catch {
            index.releaseDeliveries(ids: batch.map(\.id), error: "\(error)", retryAt: Date())
            logger.warning("destination unreachable; deliveries will be retried",
                           metadata: ["destination": "\(destination)", "error": "\(error)", "queued": "\(batch.count)"])
            return true
        }
        let priority: DIMSEPriority = batch[0].priorityRank >= 2 ? .high : (batch[0].priorityRank == 0 ? .low : .medium)
        for (position, work) in batch.enumerated() {
            do {
                let result = try association.store(file: try outgoingFile(work), priority: priority)
                cleanUpOutgoing(work)
                switch result.status.category {
                case .success, .warning:
                    index.finishDelivery(id: work.id, succeeded: true)
                default:
                    let permanent = Self.isPermanent(result.status)
                    let dead = permanent || work.attempts + 1 >= maxAttempts
                    index.finishDelivery(id: work.id, succeeded: false, error: "\(result.status) \(result.errorComment)",
                                         retryAt: dead ? nil : Date().addingTimeInterval(backoff(work.attempts)))
                }
            } catch {
                cleanUpOutgoing(work)
                if error.code == .file || error.code == .noPresentationContext {
                    index.finishDelivery(id: work.id, succeeded: false, error: "\(error)",
                                         retryAt: work.attempts + 1 >= maxAttempts ? nil : Date().addingTimeInterval(backoff(work.attempts)))
                    continue
                }
                // The association broke: this one and the rest go back to the queue.
                let rest = batch[position...]
                index.releaseDeliveries(ids: rest.map(\.id), error: "\(error)",
                                        retryAt: Date().addingTimeInterval(backoff(work.attempts)))
                association.abort()
                return true
            }
        }
        association.release()
        return false
    }

    /// The file to send: the cached one, or a coerced copy when the route asks for edits.
    private func outgoingFile(_ work: DeliveryWork) throws(DicomNetworkError) -> String {
        let cached = paths.absolutePath(relative: work.path)
        let edits = Self.edits(fromJSON: work.editsJSON)
        if edits.isEmpty { return cached }
        let directory = paths.root + "/outgoing"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = directory + "/delivery-\(work.id).dcm"
        try DicomFile.write(from: cached, to: copy, setting: edits)
        return copy
    }

    private func cleanUpOutgoing(_ work: DeliveryWork) {
        if work.editsJSON != "{}" { try? FileManager.default.removeItem(atPath: paths.root + "/outgoing/delivery-\(work.id).dcm") }
    }

    static func edits(fromJSON json: String) -> [DicomTag: String?] {
        guard json != "{}", let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [:] }
        var edits: [DicomTag: String?] = [:]
        for (key, value) in object {
            guard let tag = DicomTag(parsing: key) else { continue }
            edits[tag] = value is NSNull ? nil : "\(value)"
        }
        return edits
    }

    /// Refusals that a retry cannot fix: data set does not match SOP class, SOP class not supported,
    /// cannot understand.
    static func isPermanent(_ status: DIMSEStatus) -> Bool {
        (0xA900...0xA9FF).contains(status.code) || status.code == 0x0122 || (0xC000...0xCFFF).contains(status.code)
    }

    /// 5 s doubling per attempt, capped at 10 minutes, with up to 20% jitter.
    func backoff(_ attempts: Int) -> TimeInterval {
        let base = min(600.0, 5.0 * pow(2.0, Double(min(attempts, 10))))
        return base * Double.random(in: 0.8...1.0)
    }
}
