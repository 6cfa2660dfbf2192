import DicomCore
import DicomNetwork
import GatewayConfig
import GatewayStore
import Logging

/// Permissions at the DICOM boundary. The decision is ``AccessPolicy``'s (GatewayConfig); here
/// each refusal becomes its DICOM answer, a log line (node, AE title, address, operation: no
/// patient data) and an audit entry (event `security-alert`, outcome the refusal's reason).
///
/// - An unknown caller that is not accepted, or a node calling from outside its `hosts`:
///   A-ASSOCIATE-RJ, permanent, calling AE title not recognised (as Orthanc answers a known AE
///   title at the wrong address). A node allowed nothing (`allow: []`): rejected, no reason given.
/// - An operation outside the caller's permissions: 0x0124 (Refused: not authorized), C-ECHO
///   included. The association stays up, since it may carry what the caller is allowed; a
///   refused C-ECHO tells the caller exactly what a refused association could only hint at.
/// - A C-MOVE to a node outside the caller's `move_destinations`: 0xA801 (Move Destination unknown).
extension CacheServiceProvider {
    /// The decision for a new association; nil to go on.
    func associationRefusal(_ association: AssociationInfo) -> AssociationDecision? {
        guard let refusal = configuration.access.association(callingAE: association.callingAE, peer: association.peerHost) else {
            return nil
        }
        record(refusal, association: association, answer: "association rejected")
        GatewayMetrics.association(refusal.reason == .hostNotAllowed ? "rejected_host" : "rejected_calling_ae")
        return refusal.reason == .permissionDenied ? .rejectNoReason : .rejectCallingAETitle
    }

    /// Nil when the caller may use `permission`; otherwise the refusal, already logged and audited.
    func refusal(_ permission: NodePermission, _ association: AssociationInfo) -> AccessPolicy.Refusal? {
        guard let refusal = configuration.access.operation(permission, callingAE: association.callingAE,
                                                           peer: association.peerHost) else { return nil }
        record(refusal, association: association, answer: "\(permission.operationName) refused with 0x0124")
        return refusal
    }

    public func echo(association: AssociationInfo) -> DIMSEStatus {
        refusal(.echo, association) == nil ? .success : .refusedNotAuthorized
    }

    /// A C-MOVE destination outside the caller's `move_destinations`, logged and audited.
    func moveDestinationRefusal(_ destination: NodeConfig, _ association: AssociationInfo) -> AccessPolicy.Refusal? {
        guard let refusal = configuration.access.moveDestination(destination, callingAE: association.callingAE,
                                                                 peer: association.peerHost) else { return nil }
        record(refusal, association: association, answer: "C-MOVE refused with 0xA801")
        return refusal
    }

    func record(_ refusal: AccessPolicy.Refusal, association: AssociationInfo, answer: String) {
        var detail = refusal.detail
        if let certificate = association.peerCertificate { detail += " (over DICOM TLS, certificate subject \(certificate.subject))" }
        logger.warning("\(answer): \(refusal.reason.rawValue)", metadata: meta(association, ["detail": "\(detail)"]))
        index.audit(AuditRecord(event: "security-alert", actor: association.callingAE, peer: association.peerHost,
                                outcome: refusal.reason.rawValue, detail: detail))
        GatewayMetrics.refusal(refusal.reason.rawValue)
    }
}
