import Foundation
import GatewayAudit
import GatewayStore

/// Turns each audit entry the gateway records (`index.audit`) into its PS3.15 A.5.3 message on
/// the audit trail. Entries with no standard message (worklist changes, repairs, duplicates,
/// routing decisions, operators' delivery actions) stay in the index's `audit` table only.
public struct AuditTrailObserver: AuditObserver {
    let trail: AuditTrail

    public func recorded(_ record: AuditRecord, context: AuditContext?) {
        if let message = Self.message(for: record, context: context, gateway: trail.gateway, source: trail.source) {
            trail.record(message)
        }
    }

    /// The message for an entry, or nil when the entry has none.
    public static func message(for record: AuditRecord, context: AuditContext?, gateway: AuditNode, source: AuditSource) -> AuditMessage? {
        let peer = AuditNode.application(aeTitle: record.actor, host: record.peer)
        let studies = (context?.studies ?? []).map { AuditStudy(uid: $0.uid, accessionNumbers: $0.accessionNumbers, sopClasses: $0.sopClasses) }
            .ifEmpty(record.studyUID.map { [AuditStudy(uid: $0)] } ?? [])
        let patients = (context?.patients ?? []).map { AuditPatient(id: $0.id, issuer: $0.issuer, name: $0.name) }
        let time = record.time
        switch record.event {
        case "association":
            if record.outcome == "rejected" {
                return .securityAlert(kind: .nodeAuthentication, outcome: .minorFailure, description: "association rejected: \(record.detail)",
                                      reporter: gateway, peer: peer, subject: subject(record), source: source, at: time)
            }
            // The association's summary: one Instances Transferred with what it stored.
            guard let context, !context.studies.isEmpty else { return nil }
            let failed = record.detail.range(of: "refused [1-9]", options: .regularExpression) != nil || record.outcome != "released"
            return .instancesTransferred(action: .create, outcome: failed ? .minorFailure : .success, sender: peer, receiver: gateway,
                                         senderIsRequestor: true, studies: studies, patients: patients,
                                         description: failed ? "\(record.outcome): \(record.detail)" : nil, source: source, at: time)
        case "query":
            let ok = record.outcome.hasSuffix("match(es)")
            return .query(outcome: ok ? .success : .minorFailure, requestor: peer, responder: gateway,
                          sopClassUID: context?.sopClassUID ?? "", identifier: context?.queryIdentifier ?? Data(),
                          transferSyntaxUID: context?.queryIdentifier == nil ? nil : "1.2.840.10008.1.2",
                          description: ok ? nil : "\(record.outcome): \(record.detail)", source: source, at: time)
        case "retrieve":
            let ok = record.outcome == "0x0000"
            return .instancesAccessed(action: .read, outcome: ok ? .success : .minorFailure, accessor: peer, holder: gateway,
                                      studies: studies, patients: patients, description: "\(record.outcome): \(record.detail)",
                                      source: source, at: time)
        case "pull":
            // Instances a source sent the gateway on its request (C-MOVE/C-GET from a trust).
            return .instancesTransferred(action: .create, outcome: record.outcome == "complete" ? .success : .minorFailure,
                                         sender: AuditNode(userID: record.actor, host: ""), receiver: gateway, senderIsRequestor: false,
                                         studies: studies, patients: patients, description: record.detail, source: source, at: time)
        case "delivered", "export":
            let destination = AuditNode.application(aeTitle: context?.destinationAE ?? record.actor, host: context?.destinationHost ?? record.peer)
            return .export(outcome: record.outcome == "sent" ? .success : .minorFailure, exporter: gateway, destination: destination,
                           requestor: nil, studies: studies, patients: patients, description: record.detail, source: source, at: time)
        case "evict":
            return .studyDeleted(outcome: .success, deleter: gateway, studies: studies, patients: patients, description: record.detail,
                                 source: source, at: time)
        case "config":
            return .securityAlert(kind: .softwareConfiguration, outcome: record.outcome == "refused" ? .minorFailure : .success,
                                  description: "configuration \(record.outcome) by \(record.actor): \(record.detail)", reporter: gateway,
                                  peer: nil, subject: "configuration", source: source, at: time)
        case "security-alert":
            return .securityAlert(kind: securityAlertKind(record.outcome), outcome: .minorFailure,
                                  description: "\(record.outcome): \(record.detail)", reporter: gateway,
                                  peer: record.actor.isEmpty && record.peer.isEmpty ? nil : peer, subject: subject(record),
                                  source: source, at: time)
        case "authentication":
            return .userAuthentication(succeeded: record.outcome == "success",
                                       user: AuditNode(userID: record.actor.isEmpty ? "http" : record.actor, host: record.peer),
                                       authenticator: gateway, description: record.detail.isEmpty ? nil : record.detail, source: source, at: time)
        case "abnormal-end":
            return .applicationActivity(started: false, gateway: gateway, source: source, outcome: .majorFailure, at: time)
        default:
            return nil
        }
    }

    /// Node Authentication for who-are-you refusals (TLS, certificates, addresses, unknown
    /// callers); Use of Restricted Function for what-may-you-do refusals.
    static func securityAlertKind(_ outcome: String) -> AuditCode {
        switch outcome {
        case "permission-denied", "move-destination-denied": .useOfRestrictedFunction
        case "config": .softwareConfiguration
        default: .nodeAuthentication
        }
    }

    /// What a security alert is about: the AE title at its address, or whichever is known.
    static func subject(_ record: AuditRecord) -> String {
        switch (record.actor.isEmpty, record.peer.isEmpty) {
        case (false, false): "\(record.actor)@\(record.peer)"
        case (false, true): record.actor
        case (true, false): record.peer
        case (true, true): "unknown"
        }
    }
}

extension Array {
    fileprivate func ifEmpty(_ fallback: [Element]) -> [Element] { isEmpty ? fallback : self }
}
