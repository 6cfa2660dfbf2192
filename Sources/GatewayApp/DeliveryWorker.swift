import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging

/// One outbound association's worth of delivery work for one destination, on a thread of its own.
///
/// It leases a batch (highest class first, the series it was sending next), sends it over an
/// association it keeps open while work keeps coming, and chooses again. A batch of lower-class
/// work is cut short as soon as higher-class work is queued, so a stat study waits for at most
/// one instance on a busy link. The `priorityLane` worker only takes stat and urgent work: it is
/// the association kept free for them on destinations allowed more than one.
struct DeliveryWorker {
    enum Lane: String, Sendable {
        case any, priorityLane = "priority"
    }

    let destination: String
    /// Which of the destination's `max_associations` this worker is (0 is the lane when there are two or more).
    let slot: Int
    let lane: Lane
    let holder: ConfigurationHolder
    let index: CacheIndex
    let paths: InstancePath
    let signal: DeliverySignal
    let logger: Logger

    /// Stat/urgent work waits this long for the lane before the other workers help.
    static let laneOverflow: TimeInterval = 2
    /// Whether this worker shares the destination with a stat/urgent lane worker.
    var besideLane: Bool {
        lane == .any && (holder.current.node(named: destination)?.maxAssociations ?? 1) >= 2
    }

    private var association: DicomAssociation?
    private var idleSince: Date?
    private var lastSeries: Int64?
    /// What was sent on the association since its last audit entry (one Export message per association).
    private var exports = DeliveryExportTally()

    init(destination: String, slot: Int, holder: ConfigurationHolder, index: CacheIndex, paths: InstancePath,
         signal: DeliverySignal, logger: Logger) {
        self.destination = destination
        self.slot = slot
        self.lane = Self.lane(slot: slot, maxAssociations: holder.current.node(named: destination)?.maxAssociations ?? 1)
        self.holder = holder
        self.index = index
        self.paths = paths
        self.signal = signal
        var logger = logger
        logger[metadataKey: "destination"] = "\(destination)"
        logger[metadataKey: "lane"] = "\(lane.rawValue)"
        self.logger = logger
    }

    /// The lane of a slot: with two or more associations, slot 0 is kept for stat and urgent work.
    static func lane(slot: Int, maxAssociations: Int) -> Lane {
        maxAssociations >= 2 && slot == 0 ? .priorityLane : .any
    }

    /// Works until the signal stops, or the destination leaves the configuration or no longer
    /// has this slot (a reload changed `max_associations`: the service starts the right workers).
    mutating func run() {
        var outage = 0  // consecutive batches the destination could not be reached
        var holdsSlot = false
        defer {
            closeAssociation()
            if holdsSlot { index.releaseDeliverySlot(destination: destination, slot: slot) }
        }
        while !signal.isStopped {
            let configuration = holder.current
            guard let node = configuration.node(named: destination), let address = node.address,
                  slot < node.maxAssociations, lane == Self.lane(slot: slot, maxAssociations: node.maxAssociations)
            else {
                logger.notice("destination or its association slot no longer configured; this worker stops")
                return
            }
            // In a cluster one node at a time sends on this slot (max_associations holds across the nodes).
            if !holdsSlot {
                holdsSlot = (try? index.holdDeliverySlot(destination: destination, slot: slot)) ?? false
                if !holdsSlot {
                    signal.wait(destination, since: signal.generation(destination), timeout: 1)
                    continue
                }
            }
            let settings = configuration.delivery
            let seen = signal.generation(destination)
            let batch: [DeliveryWork]
            do {
                batch = try index.leaseDeliveries(CacheIndex.LeaseRequest(
                    destination: destination, limit: settings.batchSize, minimumRank: lane == .priorityLane ? 2 : 0,
                    agedBefore: Date().addingTimeInterval(-settings.aging.seconds), continuingSeries: lastSeries,
                    priorityOverflowBefore: besideLane ? Date().addingTimeInterval(-Self.laneOverflow) : nil))
            } catch {
                logger.error("delivery queue read failed", metadata: ["error": "\(error)"])
                signal.wait(destination, since: seen, timeout: 2)
                continue
            }
            if batch.isEmpty {
                // Stat/urgent work is the lane's: an idle association held here may be the one the
                // destination accepts, so it goes at once rather than after the linger.
                if besideLane, association != nil {
                    let higher = index.higherClassWork(destination: destination, above: 1)
                    if higher.dueRank >= 0 || higher.inFlightRank >= 0 {
                        closeAssociation()
                        idleSince = nil
                    }
                }
                closeWhenIdle()
                signal.wait(destination, since: seen, timeout: association == nil ? 1 : 0.3)
                continue
            }
            idleSince = nil
            if send(batch, to: address, callingAE: configuration.gateway.aeTitle, settings: settings, seen: seen) {
                outage = 0
                if exports.isDue() { auditExports() }
            } else {
                // Back off on the destination, not on its instances: an outage of hours kills nothing.
                // Newly queued work cuts the pause short, so a stat study reaches a destination that
                // has just come back without waiting out the backoff.
                outage += 1
                backOff(pause: min(60.0, pow(2.0, Double(min(outage, 6))) - 1), failedRank: batch.map(\.effectiveRank).max() ?? 0,
                        since: seen)
            }
        }
    }

    /// After a failed attempt: waits `pause`, or until work is queued (counted from `seen`, the
    /// generation before the attempt: an attempt can take as long as a connect timeout). The
    /// work that failed is tried at most once a second; higher-class work queued meanwhile (a
    /// stat study for a destination that has just come back) is tried after a tenth of a second.
    private func backOff(pause: TimeInterval, failedRank: Int, since seen: UInt64) {
        let started = Date()
        signal.wait(destination, since: seen, timeout: pause)
        while !signal.isStopped {
            let waited = Date().timeIntervalSince(started)
            if waited >= 1 { return }
            if waited < 0.1 {
                Thread.sleep(forTimeInterval: 0.1 - waited)
                continue
            }
            let generation = signal.generation(destination)
            if index.higherClassWork(destination: destination, above: failedRank).dueRank > failedRank { return }
            signal.wait(destination, since: generation, timeout: 1 - waited)
            // While routine work pours in, look at the queue at most every 20 ms.
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The lane is (about to be) sending higher-class work to this destination: release our
    /// association (a destination may take only one at a time) and wait until that work is sent.
    /// After `laneOverflow` seconds with such work still waiting, we return and help with it.
    private mutating func yieldLink(above rank: Int) {
        closeAssociation()
        let deadline = Date().addingTimeInterval(Self.laneOverflow)
        while !signal.isStopped && Date() < deadline {
            let higher = index.higherClassWork(destination: destination, above: rank)
            if higher.dueRank < 0 && higher.inFlightRank < 0 { return }
            signal.wait(destination, since: signal.generation(destination), timeout: 0.1)
        }
    }

    /// Releases the association after two idle seconds (0.3 s beside a lane, which may need the
    /// destination's only association).
    private mutating func closeWhenIdle() {
        guard association != nil else { return }
        let now = Date()
        let linger: TimeInterval = besideLane ? 0.3 : 2
        if let idleSince, now.timeIntervalSince(idleSince) >= linger {
            closeAssociation()
            self.idleSince = nil
        } else if idleSince == nil {
            idleSince = now
        }
    }

    /// Audits what the association carried, then releases (or aborts) it.
    private mutating func closeAssociation(abort: Bool = false) {
        auditExports()
        if abort { association?.abort() } else { association?.release() }
        association = nil
    }

    /// One `delivered` audit entry (PS3.15 Export, 110106) for what was sent since the last one.
    private mutating func auditExports() {
        guard !exports.isEmpty else { return }
        let configuration = holder.current
        let node = configuration.node(named: destination)
        exports.flush(to: index, destination: destination, aeTitle: node?.aeTitle.value ?? destination, host: node?.host ?? "",
                      callingAE: configuration.gateway.aeTitle.value)
    }

    /// An association that accepts every SOP class of the batch: the open one, or a new one.
    private mutating func link(for batch: [DeliveryWork], to address: DicomNode, callingAE: AETitle) throws(DicomNetworkError) -> DicomAssociation {
        if let association, batch.allSatisfy({ association.accepted($0.sopClassUID) }) { return association }
        closeAssociation()
        let contexts = PresentationContextProposal.forStorage(of: batch.map {
            DicomFileInfo(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopUID, transferSyntaxUID: $0.transferSyntax)
        })
        let opened = try DicomAssociation.open(to: address, callingAE: callingAE, contexts: Array(contexts.prefix(128)))
        association = opened
        return opened
    }

    /// Sends one batch; returns false when the destination could not be reached or the link broke.
    private mutating func send(_ batch: [DeliveryWork], to address: DicomNode, callingAE: AETitle,
                               settings: DeliverySettings, seen: UInt64) -> Bool {
        let link: DicomAssociation
        do {
            link = try self.link(for: batch, to: address, callingAE: callingAE)
        } catch {
            index.releaseDeliveries(ids: batch.map(\.id), error: "\(error)", retryAt: Date())
            GatewayMetrics.unreachable(destination: destination)
            logger.warning("destination unreachable; deliveries will be retried",
                           metadata: ["error": "\(error)", "queued": "\(batch.count)"])
            return false
        }
        let batchRank = batch.map(\.effectiveRank).max() ?? 0
        var checked = seen
        for (position, work) in batch.enumerated() {
            // Higher-class work queued since the last look goes first; the rest of this batch waits its turn.
            if batchRank < 3, position == 0 || signal.generation(destination) != checked {
                checked = signal.generation(destination)
                let higher = index.higherClassWork(destination: destination, above: batchRank)
                // Beside a lane, stat/urgent work is the lane's: give it the link. Other higher-class
                // work (routine above bulk), or any when alone: take it next.
                let forLane = besideLane && (higher.dueRank >= 2 || higher.inFlightRank >= 2)
                if forLane || higher.dueRank > batchRank {
                    index.unleaseDeliveries(ids: batch[position...].map(\.id))
                    logger.debug("batch cut short for higher-class work", metadata: ["sent": "\(position)", "class_rank": "\(batchRank)"])
                    if forLane { yieldLink(above: max(batchRank, 1)) }
                    return true
                }
            }
            lastSeries = work.seriesRef
            do {
                let result = try CrashJournal.during(.delivery(id: work.id, instanceID: work.instanceID, destination: destination)) { () throws(DicomNetworkError) in
                    try link.store(file: try outgoingFile(work), priority: Self.dimsePriority(work.priorityRank))
                }
                cleanUpOutgoing(work)
                switch result.status.category {
                case .success, .warning:
                    index.finishDelivery(id: work.id, succeeded: true)
                    exports.add(work)
                    GatewayMetrics.delivered(destination: destination, rank: work.priorityRank, queuedAt: work.queuedAt)
                default:
                    fail(work, "\(result.status) \(result.errorComment)", permanent: Self.isPermanent(result.status), settings: settings)
                }
            } catch {
                cleanUpOutgoing(work)
                if error.code == .file, Date().timeIntervalSince(work.queuedAt) < 30,
                   !FileManager.default.fileExists(atPath: paths.absolutePath(relative: work.path)) {
                    // The index commit and the file's rename run side by side at ingest: a delivery
                    // can be visible a moment before its file is in place. Try again shortly, no attempt spent.
                    index.releaseDeliveries(ids: [work.id], error: "file not yet in place", retryAt: Date().addingTimeInterval(0.05))
                    continue
                }
                if error.code == .file || error.code == .noPresentationContext {
                    fail(work, "\(error)", permanent: false, settings: settings)
                    continue
                }
                // The association broke: this instance spends an attempt (one that always breaks the
                // link must end up dead, not block the destination), the rest go back untouched and
                // due: the destination's own back-off paces the next try, not each instance's.
                fail(work, "association broke: \(error)", permanent: false, settings: settings)
                index.releaseDeliveries(ids: batch[(position + 1)...].map(\.id), error: "\(error)", retryAt: Date())
                closeAssociation(abort: true)
                logger.warning("association broke during delivery; the rest of the batch is requeued",
                               metadata: ["error": "\(error)", "requeued": "\(batch.count - position)"])
                return false
            }
        }
        return true
    }

    private func fail(_ work: DeliveryWork, _ error: String, permanent: Bool, settings: DeliverySettings) {
        let expired = Date().timeIntervalSince(work.queuedAt) > settings.maxAge.seconds
        let dead = permanent || expired || work.attempts + 1 >= settings.maxAttempts
        index.finishDelivery(id: work.id, succeeded: false, error: error,
                             retryAt: dead ? nil : Date().addingTimeInterval(Self.backoff(work.attempts, settings, rank: work.priorityRank)))
        GatewayMetrics.deliveryFailed(destination: destination, rank: work.priorityRank, dead: dead)
        if dead {
            let why = permanent ? "permanent refusal" : expired ? "older than max_age" : "retry budget spent"
            logger.error("delivery is dead (\(why)); replay it with 'dicom-gateway queue replay'",
                         metadata: ["delivery": "\(work.id)", "sop_instance_uid": "\(work.sopUID)", "error": "\(error)"])
        } else {
            logger.warning("delivery refused; will retry", metadata: ["delivery": "\(work.id)", "error": "\(error)",
                                                                       "attempt": "\(work.attempts + 1)"])
        }
    }

    /// The file to send: the cached one, or a coerced copy when the route asks for edits.
    private func outgoingFile(_ work: DeliveryWork) throws(DicomNetworkError) -> String {
        let cached = paths.absolutePath(relative: work.path)
        let edits = Self.edits(fromJSON: work.editsJSON)
        if edits.isEmpty { return cached }
        let directory = paths.outgoingDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = directory + "/delivery-\(work.id).dcm"
        try DicomFile.write(from: cached, to: copy, setting: edits)
        return copy
    }

    private func cleanUpOutgoing(_ work: DeliveryWork) {
        if work.editsJSON != "{}" { try? FileManager.default.removeItem(atPath: paths.outgoingDirectory + "/delivery-\(work.id).dcm") }
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

    /// HIGH for stat and urgent, LOW for bulk.
    static func dimsePriority(_ rank: Int) -> DIMSEPriority {
        rank >= 2 ? .high : (rank == 0 ? .low : .medium)
    }

    /// Refusals that a retry cannot fix: data set does not match SOP class, SOP class not supported,
    /// cannot understand.
    static func isPermanent(_ status: DIMSEStatus) -> Bool {
        (0xA900...0xA9FF).contains(status.code) || status.code == 0x0122 || (0xC000...0xCFFF).contains(status.code)
    }

    /// `retry_initial` doubling per attempt, capped at `retry_max`, with up to 20% jitter.
    /// The wait before retrying a delivery that failed `attempts` times before this one:
    /// `retry_initial` doubling up to `retry_max`, with jitter. A stat or urgent delivery's first
    /// retry comes within a second: one refusal or broken link must not hold a stroke study for
    /// the whole initial back-off.
    static func backoff(_ attempts: Int, _ settings: DeliverySettings, rank: Int = 1) -> TimeInterval {
        var base = min(settings.retryMax.seconds, settings.retryInitial.seconds * pow(2.0, Double(min(attempts, 20))))
        if rank >= 2 && attempts == 0 { base = min(base, 1) }
        return base * Double.random(in: 0.8...1.0)
    }
}
