import DicomCore
import GatewayConfig
import GatewayRouting
import GatewayStore

/// Patient identity at ingest: which trust's patient an instance belongs to, what the network
/// calls them, and the Patient ID each destination's copy carries.
///
/// - An instance from a study's origin (or a new study) is its trust's: the Patient ID as sent,
///   IssuerOfPatientID as sent or else the sending node's issuer.
/// - An instance of a cached study sent by another node (a reporter's report, which carries the
///   network Patient ID) is filed under the study's patient.
/// - An instance of an unknown study from a node that is not a source, carrying a network
///   Patient ID the index has mapped, is filed under that trust's patient.
///
/// Copies for the patient's own trust (the study's origin node, or a node with the patient's
/// issuer: `NetworkIdentity.audience`) get the trust's own Patient ID back; copies for every
/// other node get the network Patient ID; both carry IssuerOfPatientID = the origin's issuer.
/// The cached file keeps the bytes as received.
struct IdentityResolution {
    /// The attributes to index and route on (the trust's identifiers).
    var indexed: DicomAttributes
    /// The patient at the origin and the network Patient ID.
    var identity: NetworkIdentity
    /// The study's origin node (the sender's, for a new study); nil for an unknown sender.
    var originNode: String?
    /// The study was already cached (so `originNode` came from the index).
    var studyKnown: Bool
    /// A report sent by a node other than the study's origin.
    var isReturningReport: Bool
    /// The mapping to record with the instance (nil when nothing new is mapped).
    var mapping: PatientIdentityMapping?
    /// The issuer of a configured node, by name (looked up only for the destinations routed to).
    var issuerOfNode: @Sendable (String) -> String? = { _ in nil }

    /// The identity edits of the copy for `destination`, relative to the file as received.
    func edits(for destination: String, received: DicomAttributes) -> AttributeEdits {
        let audience = NetworkIdentity.audience(node: destination, nodeIssuer: issuerOfNode(destination),
                                                studyOrigins: Set([originNode].compactMap { $0 }), patientIssuer: identity.issuer)
        return identity.edits(toward: audience, from: received)
    }
}

extension CacheServiceProvider {
    /// `known`: the study's identity when it is cached (`CacheIndex.arrival`).
    func resolveIdentity(_ received: DicomAttributes, otherPatientIDs: [DicomAttributes], sender: NodeConfig?,
                         known: StudyIdentity?, sopClassUID: String, settings: IdentitySettings,
                         issuerOfNode: @escaping @Sendable (String) -> String? = { _ in nil }) -> IdentityResolution {
        var issuer = received.string(.issuerOfPatientID) ?? sender?.issuer ?? ""
        var local = received.string(.patientID) ?? ""
        let fromSource = sender?.hasRole(.source) ?? false
        let originNode: String?
        let fromElsewhere: Bool
        if let known {
            originNode = known.originNode
            fromElsewhere = sender?.name != known.originNode
            if fromElsewhere {
                (issuer, local) = (known.issuer, known.patientID)
            }
        } else {
            originNode = sender?.name
            fromElsewhere = !fromSource
            if !fromSource, !local.isEmpty, let mapped = index.localIdentity(networkPatientID: local) {
                (issuer, local) = (mapped.issuer, mapped.localPatientID)
            }
        }
        var mapping: PatientIdentityMapping?
        let identity: NetworkIdentity
        if settings.patientID == .keep || local.isEmpty {
            identity = NetworkIdentity(issuer: issuer, localPatientID: local, networkPatientID: local)
        } else if let stored = index.networkPatientID(issuer: issuer, localPatientID: local) {
            identity = NetworkIdentity(issuer: issuer, localPatientID: local, networkPatientID: stored)
        } else {
            let nhs = NetworkIdentity.nhsNumber(in: otherPatientIDs, issuer: settings.nhsNumberIssuer)
            identity = NetworkIdentity(issuer: issuer, localPatientID: local, policy: settings.patientID, nhsNumber: nhs,
                                       nhsNumberIssuer: settings.nhsNumberIssuer)
            if identity.isMapped {
                mapping = PatientIdentityMapping(issuer: issuer, localPatientID: local, networkPatientID: identity.networkPatientID)
            }
        }
        var indexed = received
        if !local.isEmpty { indexed[.patientID] = local }
        if !issuer.isEmpty { indexed[.issuerOfPatientID] = issuer }
        return IdentityResolution(
            indexed: indexed, identity: identity, originNode: originNode, studyKnown: known != nil,
            isReturningReport: fromElsewhere && InstanceCategory(sopClassUID: sopClassUID) == .report, mapping: mapping,
            issuerOfNode: issuerOfNode)
    }
}
