import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayRouting
import GatewayStore

/// Patients as a querying or retrieving node sees them: its own patients (the node's issuer is
/// the patient's) by the trust's own Patient ID, everyone else's by the network Patient ID, as on
/// routed copies (`identity.patient_id`). The index keeps the trusts' IDs; this translates on the
/// way in (a query by a network ID finds the trust patients behind it) and on the way out
/// (answers and retrieved copies carry the ID the caller knows). With `keep` it changes nothing.
struct NetworkView {
    let index: CacheIndex
    /// The issuer of the calling (C-FIND, C-GET) or receiving (C-MOVE) node; nil when it has
    /// none or is not a configured node: such a node sees network IDs.
    let ownIssuer: String?
    /// False with `identity.patient_id: keep`: nothing to translate.
    let isActive: Bool

    init(index: CacheIndex, configuration: GatewayConfiguration, node: NodeConfig?) {
        self.index = index
        ownIssuer = node?.issuer
        isActive = configuration.identity.patientID != .keep
    }

    /// The identifiers to run for `identifier`. A PatientID key holding a network Patient ID
    /// (single value, no wildcards) becomes one identifier per trust patient behind it, each with
    /// that trust's Patient ID and issuer; anything else runs as it is.
    func localIdentifiers(_ identifier: DicomAttributes) -> [DicomAttributes] {
        guard isActive, let patientID = identifier.string(.patientID),
              !patientID.contains("*"), !patientID.contains("?"), !patientID.contains("\\") else { return [identifier] }
        let asked = identifier.string(.issuerOfPatientID)
        let locals = index.localIdentities(networkPatientID: patientID).filter { asked == nil || asked == $0.issuer }
        guard !locals.isEmpty else { return [identifier] }
        return locals.map {
            var local = identifier
            local[.patientID] = $0.localPatientID
            local[.issuerOfPatientID] = $0.issuer
            return local
        }
    }

    /// The identifier a query runs with: IssuerOfPatientID is needed to translate answers, so it
    /// is asked for when PatientID is (and removed again by `answer(_:asked:)` if not requested).
    func queryIdentifier(_ identifier: DicomAttributes) -> DicomAttributes {
        guard isActive, identifier[.patientID] != nil, identifier[.issuerOfPatientID] == nil else { return identifier }
        var withIssuer = identifier
        withIssuer[.issuerOfPatientID] = ""
        return withIssuer
    }

    /// A C-FIND answer as this node sees it.
    func answer(_ match: DicomAttributes, asked identifier: DicomAttributes) -> DicomAttributes {
        guard isActive else { return match }
        var answer = match
        if let local = match.string(.patientID), let issuer = match.string(.issuerOfPatientID), issuer != ownIssuer,
           let network = index.networkPatientID(issuer: issuer, localPatientID: local) {
            answer[.patientID] = network
        }
        if identifier[.issuerOfPatientID] == nil { answer[.issuerOfPatientID] = nil }
        return answer
    }

    /// The edits that give a retrieved copy of `instance` the Patient ID this node knows. Both
    /// ways: a report filed under a trust's patient may carry the network ID in its file.
    func copyEdits(for instance: InstanceRecord) -> AttributeEdits {
        guard isActive, let id = instance.id, let patient = index.patientIdentity(ofInstance: id),
              let network = index.networkPatientID(issuer: patient.issuer, localPatientID: patient.patientID)
        else { return [:] }
        let identity = NetworkIdentity(issuer: patient.issuer, localPatientID: patient.patientID, networkPatientID: network)
        return identity.edits(toward: patient.issuer == ownIssuer ? .origin : .network, from: DicomAttributes())
    }

    /// The file to send for `instance`: the cached one, or a copy with `copyEdits` in
    /// `outgoing/` (the caller removes it after sending).
    func outgoingFile(for instance: InstanceRecord, paths: InstancePath) throws(DicomNetworkError) -> (path: String, isCopy: Bool) {
        let cached = paths.absolutePath(relative: instance.path)
        let edits = copyEdits(for: instance)
        if edits.isEmpty { return (cached, false) }
        let directory = paths.root + "/outgoing"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = directory + "/retrieve-\(UUID().uuidString).dcm"
        try DicomFile.write(from: cached, to: copy, setting: edits)
        return (copy, true)
    }
}
