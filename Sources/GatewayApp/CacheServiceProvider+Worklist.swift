import DicomCore
import DicomNetwork
import Foundation
import GatewayReporting
import GatewayRouting
import GatewayStore

/// The worklist's part of the DICOM services: what a received instance means for its study's
/// item (written in the same transaction that files it), and a retrieve by the item's site
/// starting it.
extension CacheServiceProvider {
    /// The worklist extras for an instance about to be filed.
    func worklistExtras(_ resolution: IdentityResolution, received: DicomAttributes, sopClassUID: String,
                        request: StoreRequest, origin: InstanceMetadata.Origin, association: AssociationInfo) -> IngestExtras {
        let plan = holder.reporting
        guard plan.isEnabled else { return IngestExtras() }
        var extras = IngestExtras(worklistActive: true, isReportObject: ReportObject.closesItem(sopClassUID: sopClassUID))
        guard !extras.isReportObject else { return extras }
        let instance = RoutedInstance(
            attributes: resolution.indexed, sopClassUID: sopClassUID, sendingNode: origin.node, callingAE: association.callingAE,
            dimsePriority: request.priority, timeOfDay: WorklistCoordinator.timeOfDay(Date()),
            studyOriginNode: resolution.studyKnown ? resolution.originNode : nil)
        let priority = holder.router.classify(instance).priority
        // A study known to have an item needs a placement only to raise its class.
        if let studyUID = resolution.indexed.string(.studyInstanceUID), let known = worklist?.studies.entry(studyUID),
           priority.rank <= known.rank {
            return extras
        }
        guard let placement = plan.placement(for: instance, priority: priority) else { return extras }
        let identity = resolution.identity
        extras.worklist = WorklistPlacement(
            rule: placement.rule, skill: placement.skill, effort: placement.effort, priorityRank: placement.priorityClass.rank,
            deadlineAfter: placement.deadlineAfter, patientID: identity.networkPatientID, issuer: identity.issuer,
            networkEdits: Self.json(identity.edits(toward: .network, from: received)),
            originEdits: Self.json(identity.edits(toward: .origin, from: received)))
        return extras
    }

    /// After a filed instance: a new item is allocated at once (the review wakes), and a later
    /// instance queued to the item's site wakes that site's workers.
    func worklistAfterIngest(_ extras: IngestExtras, studyUID: String) {
        guard extras.worklistActive, let worklist else { return }
        if extras.isReportObject { worklist.wake(); return }
        if let known = worklist.studies.entry(studyUID), extras.worklist == nil || extras.worklist!.priorityRank <= known.rank {
            if let site = known.site, known.pushImages { deliverySignal.notify(site) }
            return
        }
        guard extras.worklist != nil else { return }
        // The study's first matching instance (or a higher class): read the item once.
        if let item = try? index.worklistItem(studyUID: studyUID) {
            worklist.studies.remember(studyUID, .init(rank: item.priority, site: item.site, pushImages: item.pushImages))
            if item.state == .scheduled { worklist.wake() }
            if let site = item.site, item.pushImages { deliverySignal.notify(site) }
        }
    }

    /// A reporter site retrieving a study starts its item, when the item is allocated there and
    /// the site may take part in the worklist (`allow` has worklist, the default for a site).
    func worklistRetrieveStarted(_ identifier: DicomAttributes, association: AssociationInfo, how: String) {
        guard holder.reporting.isEnabled, let studyUID = identifier.string(.studyInstanceUID),
              let node = configuration.node(forCallingAE: association.callingAE), node.permissions.contains(.worklist),
              case let site = node.name, holder.reporting.site(named: site) != nil,
              let item = try? index.worklistItem(studyUID: studyUID), item.state == .allocated, item.site == site else { return }
        do {
            if try index.startWorklistItem(studyUID: studyUID, site: site, how: "\(how) by \(association.callingAE)") {
                logger.info("worklist item started", metadata: ["item": "\(item.id)", "study_uid": "\(studyUID)", "site": "\(site)", "how": "\(how)"])
            }
        } catch {
            logger.error("cannot record the start of a worklist item", metadata: ["item": "\(item.id)", "error": "\(error)"])
        }
    }
}
