import Foundation
import GatewayAdmin
import GatewayDICOMweb
import GatewayStore
import Logging

/// UPS-RS's view of the reporting worklist: reads from the index; a claim is the allocator's
/// claim (as `POST /api/v1/worklist/{id}/claim`) plus the Transaction UID; complete and cancel
/// check that Transaction UID in the same transaction that changes the item. Each change, and
/// each refusal, is in the audit trail.
///
/// The site that claims: the caller's token when it is named after a reporter site, else the
/// site the item is allocated to.
struct DicomWebWorkitems: UPSWorklist {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let coordinator: WorklistCoordinator
    let logger: Logger

    var aeTitle: String { holder.current.gateway.aeTitle.value }
    var patientData: Bool { holder.current.http.patientData }

    func listings(states: [WorklistState]?, studyUID: String?, limit: Int) throws -> [WorklistListing] {
        try index.worklistListing(WorklistFilter(states: states, studyUID: studyUID), limit: limit).items
    }

    func listing(id: Int64) throws -> WorklistListing? { try index.worklistListing(id: id) }

    func claim(_ id: Int64, transactionUID: String, caller: String) throws {
        guard let item = try index.worklistItem(id: id) else { throw UPSRefusal(404, code: 0xC307, "worklist item \(id) does not exist") }
        let actor = Self.actor(caller)
        guard let site = holder.reporting.site(named: caller) != nil ? caller : item.site else {
            refused(item, actor: actor, "claim: the item is not allocated to a site and the token '\(caller)' is not a reporter site's name")
            throw UPSRefusal(409, "worklist item \(id) is not allocated to a reporter site yet, and the token '\(caller)' is not named "
                + "after one: claim with a token named after the site (http.tokens[].name), or wait for the allocation")
        }
        if let refusal = holder.current.access.worklistClaim(site: site) {
            index.audit(AuditRecord(event: "security-alert", actor: actor, studyUID: item.studyUID, outcome: refusal.reason.rawValue,
                                    detail: "UPS-RS claim of item \(id): \(refusal.detail)"))
            throw UPSRefusal(403, refusal.detail)
        }
        do {
            _ = try coordinator.claimWorklistItem(id, site: site, reporter: caller, actor: actor)
        } catch let conflict as WorklistConflict {
            refused(item, actor: actor, "claim: \(conflict.message)")
            throw UPSRefusal.alreadyInProgressOr(conflict)
        }
        guard try index.setWorklistTransaction(id, transactionUID: transactionUID, actor: actor) else {
            refused(item, actor: actor, "claim: another performer holds the item")
            throw UPSRefusal(409, code: 0xC302, "The UPS is already IN PROGRESS")
        }
        logger.notice("worklist item claimed by UPS-RS", metadata: ["item": "\(id)", "site": "\(site)", "caller": "\(caller)"])
    }

    func complete(_ id: Int64, transactionUID: String, caller: String) throws {
        try held(id, caller: caller, "complete") { try index.completeWorklistItem(id, transactionUID: transactionUID, actor: Self.actor(caller)) }
        coordinator.wake()
    }

    func cancel(_ id: Int64, transactionUID: String, caller: String) throws {
        try held(id, caller: caller, "cancel") {
            try index.cancelHeldWorklistItem(id, transactionUID: transactionUID, actor: Self.actor(caller), reason: "canceled by UPS-RS")
        }
        coordinator.wake()
    }

    private func held(_ id: Int64, caller: String, _ verb: String, _ change: () throws -> Void) throws {
        do {
            try change()
            logger.notice("worklist item \(verb)d by UPS-RS", metadata: ["item": "\(id)", "caller": "\(caller)"])
        } catch let conflict as WorklistConflict {
            if let item = try index.worklistItem(id: id) { refused(item, actor: Self.actor(caller), "\(verb): \(conflict.message)") }
            throw UPSRefusal(409, code: conflict.message.contains("Transaction UID") ? 0xC301 : 0xC310, conflict.message)
        }
    }

    func refused(_ id: Int64, caller: String, _ detail: String) {
        if let item = try? index.worklistItem(id: id) { refused(item, actor: Self.actor(caller), detail) }
    }

    private func refused(_ item: WorklistItem, actor: String, _ detail: String) {
        index.audit(AuditRecord(event: "worklist", actor: actor, studyUID: item.studyUID, outcome: "refused",
                                detail: String("UPS-RS \(detail) (item \(item.id))".prefix(2000))))
    }

    func searched(caller: UPSCaller, matches: Int, studyUID: String?, query: String) {
        index.audit(AuditRecord(event: "query", actor: caller.name, peer: caller.address, studyUID: studyUID,
                                outcome: "\(matches) match(es)", detail: String("UPS-RS \(query)".prefix(2000))),
                    context: AuditContext(sopClassUID: "1.2.840.10008.5.1.4.34.6.3"))  // UPS Pull SOP Class
    }

    static func actor(_ caller: String) -> String { "ups-rs:\(caller)" }
}

extension UPSRefusal {
    static func alreadyInProgressOr(_ conflict: WorklistConflict) -> UPSRefusal {
        conflict.state == .inProgress ? UPSRefusal(409, code: 0xC302, "The UPS is already IN PROGRESS")
            : UPSRefusal(409, code: 0xC300, conflict.message)
    }
}
