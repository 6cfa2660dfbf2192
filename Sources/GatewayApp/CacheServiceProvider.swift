import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayRouting
import GatewayStore
import Logging

/// The gateway's DICOM services over the vendor-neutral cache: association policy, durable
/// ingest (C-STORE), and query/retrieve for reporters (C-FIND, C-MOVE, C-GET; see extensions).
public final class CacheServiceProvider: DicomServiceProvider {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let ingestor: InstanceIngestor
    let logger: Logger
    let deliverySignal: DeliverySignal
    /// Pull-through and federated queries; nil when no source can be reached.
    let federation: Federation?
    let tally = AssociationTally()
    /// The reporting worklist (nil in tests that build a provider alone).
    let worklist: WorklistCoordinator?
    /// Files prepared in advance for incoming instances (nil: temporary files renamed into place).
    let preparedFiles: PreparedFiles?

    /// The configuration for a new piece of work (a snapshot: a reload does not change it half-way).
    var configuration: GatewayConfiguration { holder.current }

    init(configuration holder: ConfigurationHolder, index: CacheIndex, deliverySignal: DeliverySignal = DeliverySignal(),
         federation: Federation? = nil, worklist: WorklistCoordinator? = nil, preparedFiles: PreparedFiles? = nil, logger: Logger) {
        self.holder = holder
        self.preparedFiles = preparedFiles
        self.worklist = worklist
        self.federation = federation
        self.deliverySignal = deliverySignal
        let configuration = holder.current
        self.index = index
        self.logger = logger
        ingestor = InstanceIngestor(index: index, paths: InstancePath(configuration), logger: logger)
    }

    var paths: InstancePath { ingestor.paths }
    static let freeSpaceFloor: Int64 = 64 << 20

    public func associationRequested(_ association: AssociationInfo) -> AssociationDecision {
        let decision = decide(association)
        // Audited where it was decided: the end of a rejected association writes no second entry.
        if decision != .accept { tally.markRejected(association.id) }
        return decision
    }

    private func decide(_ association: AssociationInfo) -> AssociationDecision {
        if let refusal = authenticatePeer(association) { return refusal }
        if association.calledAE.trimmingDicomPadding() != configuration.gateway.aeTitle.value {
            logger.warning("association rejected: called AE title is not ours",
                           metadata: meta(association, ["expected": "\(configuration.gateway.aeTitle)"]))
            index.audit(AuditRecord(event: "association", actor: association.callingAE, peer: association.peerHost,
                                    outcome: "rejected", detail: "called AE title \(association.calledAE) not recognised"))
            GatewayMetrics.association("rejected_called_ae")
            return .rejectCalledAETitle
        }
        if let rejection = associationRefusal(association) { return rejection }
        GatewayMetrics.association("accepted")
        logger.info("association accepted", metadata: meta(association))
        return .accept
    }

    public func associationEnded(_ association: AssociationInfo, how: AssociationEnd, detail: String) {
        let counts = tally.finish(association.id)
        let level: Logger.Level = how == .released ? .info : .warning
        var extra: Logger.Metadata = ["stored": "\(counts.stored)", "refused": "\(counts.refused)"]
        if !detail.isEmpty { extra["detail"] = "\(detail)" }
        logger.log(level: level, "association ended: \(how)", metadata: meta(association, extra))
        if !counts.rejected && (counts.stored + counts.refused > 0 || how != .released) {
            index.audit(AuditRecord(event: "association", actor: association.callingAE, peer: association.peerHost,
                                    outcome: "\(how)", detail: "stored \(counts.stored), refused \(counts.refused)\(detail.isEmpty ? "" : "; \(detail)")"),
                        context: counts.auditContext)
        }
    }

    public func admitStore(_ request: StoreRequest, association: AssociationInfo) -> DIMSEStatus {
        if refusal(.store, association) != nil {
            tally.add(association.id, stored: false)
            return .refusedNotAuthorized
        }
        return admitSpace(association)
    }

    /// The disk-space part of `admitStore`, for callers whose permission was checked otherwise
    /// (a STOW-RS request's token role).
    func admitSpace(_ association: AssociationInfo) -> DIMSEStatus {
        // At least 64 MiB always stay free: the cache never fills the disk. (A write that fails
        // mid-data-set anyway is refused after the data set is read: see cdcm_store_receive.cpp.)
        let minimum = max(configuration.storage.minFreeSpace.bytes, Self.freeSpaceFloor)
        if let free = DurableFile.availableBytes(at: paths.root), free < minimum {
            logger.error("C-STORE refused: out of disk space",
                         metadata: meta(association, ["free_bytes": "\(free)", "min_free_space": "\(minimum)"]))
            tally.add(association.id, stored: false)
            GatewayMetrics.store(node: configuration.node(forCallingAE: association.callingAE)?.name, stored: false)
            return .outOfResources
        }
        return .success
    }

    /// One flush per acknowledgement: the instance is received into a file whose directory entry
    /// is already durable (see `PreparedFiles`), when one is ready.
    public func preparedStoreFile() -> String? { preparedFiles?.take() }

    public func storeRefused(_ request: StoreRequest, association: AssociationInfo, status: DIMSEStatus, reason: String) {
        logger.warning("C-STORE refused before parsing: the data set breaks the input limits (limits: in the config)",
                       metadata: meta(association, ["reason": "\(reason)", "status": "\(status.hex)"]))
        index.audit(AuditRecord(event: "store", actor: association.callingAE, peer: association.peerHost,
                                outcome: status.hex, detail: "refused by the input limits: \(reason)"))
        tally.add(association.id, stored: false)
        GatewayMetrics.store(node: configuration.node(forCallingAE: association.callingAE)?.name, stored: false)
    }

    public func store(_ request: StoreRequest, association: AssociationInfo) -> DIMSEResult {
        // The file's bytes go to the device while it is parsed, routed and indexed.
        let received = ReceivedFile(digest: request.datasetSHA256.map { ($0, request.fileSize) }, flush: PendingFlush.start(request.filePath))
        let configuration = self.configuration
        let sender = configuration.node(forCallingAE: association.callingAE)
        // Announced in the crash journal: if parsing it kills the process, the next start says so.
        let result = CrashJournal.during(.ingest(association: association.id, caller: association.callingAE + "@" + association.peerHost)) {
            ingest(request, association: association, received: received, configuration: configuration, sender: sender)
        }
        if !result.status.isSuccess {
            received.flush?.discard()
            try? FileManager.default.removeItem(atPath: request.filePath)
        }
        tally.add(association.id, stored: result.status.isSuccess)
        GatewayMetrics.store(node: sender?.name, stored: result.status.isSuccess)
        return result
    }

    private func ingest(_ request: StoreRequest, association: AssociationInfo, received: ReceivedFile,
                        configuration: GatewayConfiguration, sender: NodeConfig?) -> DIMSEResult {
        let attributes: DicomAttributes
        var otherPatientIDs: [DicomAttributes] = []
        do {
            if configuration.identity.patientID == .nhsNumber {
                let read = try DicomFile.readAttributes(
                    request.filePath, itemsOf: .otherPatientIDsSequence, keys: [.patientID, .issuerOfPatientID])
                attributes = read.attributes
                otherPatientIDs = read.items
            } else {
                attributes = try DicomFile.readAttributes(request.filePath)
            }
        } catch {
            logger.warning("C-STORE refused: data set cannot be parsed", metadata: meta(association, ["error": "\(error)"]))
            return DIMSEResult(status: .cannotUnderstand, errorComment: "data set cannot be parsed")
        }
        guard let sop = attributes.string(.sopInstanceUID), sop == request.sopInstanceUID.trimmingDicomPadding() else {
            return DIMSEResult(status: .dataSetDoesNotMatchSOPClass, errorComment: "SOP Instance UID differs from the request")
        }
        if let sopClass = attributes.string(.sopClassUID), sopClass != request.sopClassUID.trimmingDicomPadding() {
            return DIMSEResult(status: .dataSetDoesNotMatchSOPClass, errorComment: "SOP Class UID differs from the request")
        }
        guard attributes.string(.studyInstanceUID) != nil, attributes.string(.seriesInstanceUID) != nil else {
            return DIMSEResult(status: .dataSetDoesNotMatchSOPClass, errorComment: "Study or Series Instance UID missing")
        }
        let origin = InstanceMetadata.Origin(callingAE: association.callingAE, peerHost: association.peerHost, node: sender?.name)
        // Identity: an instance without IssuerOfPatientID gains its sending node's issuer, in the
        // index and in every copy sent on, so equal local Patient IDs of two trusts never merge; a
        // report carrying the network Patient ID is filed under the study's patient. Copies carry
        // the network Patient ID, or the trust's own at the study's origin. The cached file keeps
        // the bytes as sent (see CacheServiceProvider+Identity).
        let sopClassUID = request.sopClassUID.trimmingDicomPadding()
        // The study's identity and prior destinations, read once.
        let arrival = attributes.string(.studyInstanceUID).map { index.arrival(studyUID: $0) }
            ?? StudyArrival(identity: nil, priorDestinations: [])
        let resolution = resolveIdentity(attributes, otherPatientIDs: otherPatientIDs, sender: sender, known: arrival.identity,
                                         sopClassUID: sopClassUID,
                                         settings: configuration.identity,
                                         issuerOfNode: { [configuration] in configuration.node(named: $0)?.issuer })
        let deliveries = routedDeliveries(resolution.indexed, request: request, origin: origin, association: association,
                                          studyOriginNode: resolution.studyKnown ? resolution.originNode : nil,
                                          priorDestinations: arrival.priorDestinations) { destination in
            resolution.edits(for: destination, received: attributes)
        }
        var extras = worklistExtras(resolution, received: attributes, sopClassUID: sopClassUID, request: request, origin: origin,
                                    association: association)
        extras.identity = resolution.mapping
        extras.isReport = resolution.isReturningReport
        extras.sendingNode = sender?.name
        do {
            let outcome = try ingestor.ingest(
                temporaryPath: request.filePath, attributes: resolution.indexed, sopClassUID: sopClassUID,
                transferSyntax: request.transferSyntaxUID, origin: origin,
                duplicatePolicy: InstanceIngestor.DuplicatePolicy(rawValue: configuration.storage.duplicates.rawValue) ?? .keep,
                deliveries: deliveries, extras: extras, received: received)
            switch outcome {
            case .stored, .identicalDuplicate, .keptExisting, .replaced:
                tally.note(association.id, resolution.indexed, sopClassUID: sopClassUID)
                for d in deliveries { deliverySignal.notify(d.destination) }
                worklistAfterIngest(extras, studyUID: resolution.indexed.string(.studyInstanceUID) ?? "")
                if outcome == .stored {
                    let destinations = deliveries.filter { $0.route != Self.priorRoute }.map(\.destination)
                    federation?.priors.consider(
                        study: resolution.indexed, originNode: resolution.originNode ?? sender?.name,
                        destinations: Dictionary(destinations.map { ($0, Self.json(resolution.edits(for: $0, received: attributes))) },
                                                 uniquingKeysWith: { first, _ in first }))
                }
                return DIMSEResult(status: .success)
            case .rejectedDuplicate:
                return DIMSEResult(status: .duplicateSOPInstance, errorComment: "a different instance with this SOP Instance UID is cached")
            }
        } catch {
            logger.error("C-STORE failed: cannot file the instance", metadata: meta(association, ["error": "\(error)"]))
            return DIMSEResult(status: .outOfResources, errorComment: "cannot write to the cache")
        }
    }

    /// The deliveries the routes ask for, queued durably with the instance (dropped or quarantined
    /// instances are cached and audited, and queue nothing). Each carries `identityEdits(destination)`,
    /// overridden tag by tag by its route's coercion.
    func routedDeliveries(_ attributes: DicomAttributes, request: StoreRequest, origin: InstanceMetadata.Origin,
                          association: AssociationInfo, studyOriginNode: String?, priorDestinations: [String],
                          identityEdits: (String) -> AttributeEdits = { _ in [:] }) -> [PendingDelivery] {
        let decision = holder.router.route(RoutedInstance(
            attributes: attributes, sopClassUID: request.sopClassUID.trimmingDicomPadding(), sendingNode: origin.node,
            callingAE: association.callingAE, dimsePriority: request.priority,
            timeOfDay: .local(),
            studyOriginNode: studyOriginNode))
        switch decision.disposition {
        case .forward:
            var deliveries = decision.deliveries.map { d in
                PendingDelivery(destination: d.destination, route: d.route, priorityRank: d.priority.rank,
                                editsJSON: Self.json(identityEdits(d.destination).merging(d.edits) { _, route in route }))
            }
            // A prior fetched for a new study goes where that study goes, at bulk priority.
            if !priorDestinations.isEmpty {
                for i in deliveries.indices { deliveries[i].priorityRank = 0 }
                for destination in priorDestinations where !deliveries.contains(where: { $0.destination == destination }) {
                    deliveries.append(PendingDelivery(destination: destination, route: Self.priorRoute, priorityRank: 0,
                                                      editsJSON: Self.json(identityEdits(destination))))
                }
            }
            return deliveries
        case .drop(let reason, let route), .quarantine(let reason, let route):
            index.audit(AuditRecord(event: "route", actor: association.callingAE, peer: association.peerHost,
                                    studyUID: attributes.string(.studyInstanceUID), outcome: "not forwarded",
                                    detail: "route \(route): \(reason)"))
            return []
        }
    }

    /// The route name of deliveries queued because a study is a requested prior.
    static let priorRoute = "prior"

    static func json(_ edits: AttributeEdits) -> String {
        var object: [String: Any] = [:]
        for (tag, value) in edits {
            let key = String(format: "%04X,%04X", tag.group, tag.element)
            object[key] = value ?? NSNull()
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func meta(_ a: AssociationInfo, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var m: Logger.Metadata = [
            "calling_ae": "\(a.callingAE)", "called_ae": "\(a.calledAE)", "peer": "\(a.peerHost)", "association": "\(a.id)",
        ]
        m.merge(extra) { $1 }
        return m
    }
}
