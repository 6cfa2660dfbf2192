import DicomCore
import GatewayConfig

/// A patient as one trust knows them (issuer + local Patient ID) and the Patient ID the rest of the
/// network sees, by the `identity.patient_id` policy.
///
/// ```swift
/// let id = NetworkIdentity(issuer: "RTH", localPatientID: "12345", policy: .prefix)
/// id.networkPatientID                       // "RTH-12345"
/// id.edits(toward: .network, from: received) // [.patientID: "RTH-12345", .issuerOfPatientID: "RTH"]
/// ```
public struct NetworkIdentity: Sendable, Equatable {
    /// IssuerOfPatientID at the origin trust ("" when neither the file nor the node names one).
    public var issuer: String
    /// The Patient ID at the origin trust.
    public var localPatientID: String
    /// The Patient ID copies sent to other nodes carry.
    public var networkPatientID: String

    public init(issuer: String, localPatientID: String, networkPatientID: String) {
        self.issuer = issuer
        self.localPatientID = localPatientID
        self.networkPatientID = networkPatientID
    }

    /// The identity `policy` gives a local Patient ID:
    /// - `keep`: the local ID;
    /// - `prefix`: `<issuer>-<local ID>` (the local ID alone when there is no issuer or no ID);
    /// - `nhs_number`: `nhsNumber` when given (the local ID itself when its issuer is the NHS
    ///   Number issuer), else as `prefix`.
    public init(issuer: String, localPatientID: String, policy: PatientIDPolicy, nhsNumber: String? = nil,
                nhsNumberIssuer: String = "NHS") {
        let prefixed = issuer.isEmpty || localPatientID.isEmpty ? localPatientID : "\(issuer)-\(localPatientID)"
        let network: String
        switch policy {
        case .keep:
            network = localPatientID
        case .prefix:
            network = prefixed
        case .nhsNumber:
            if issuer == nhsNumberIssuer {
                network = localPatientID
            } else if let nhsNumber, !nhsNumber.isEmpty, !localPatientID.isEmpty {
                network = nhsNumber
            } else {
                network = prefixed
            }
        }
        self.init(issuer: issuer, localPatientID: localPatientID, networkPatientID: network)
    }

    /// Whether the network sees a Patient ID other than the trust's own (something to record and reverse).
    public var isMapped: Bool { networkPatientID != localPatientID }

    /// The NHS Number among the items of OtherPatientIDsSequence: the PatientID of the first item
    /// whose IssuerOfPatientID is `issuer`.
    public static func nhsNumber(in otherPatientIDs: [DicomAttributes], issuer: String) -> String? {
        otherPatientIDs.first { $0.string(.issuerOfPatientID) == issuer }?.string(.patientID)
    }

    /// Which Patient ID a copy should carry.
    public enum Audience: Sendable {
        /// The origin trust: its own local Patient ID.
        case origin
        /// Any other node: the network Patient ID.
        case network
    }

    /// Whom a copy of, or an answer about, a trust's patient is for. The patient's own trust is
    /// the node a study of theirs came from, or any node whose issuer is the patient's (another
    /// system of the same trust); every other node, and an unknown caller, is the network.
    public static func audience(node: String?, nodeIssuer: String?, studyOrigins: Set<String>, patientIssuer: String) -> Audience {
        if let node, studyOrigins.contains(node) { return .origin }
        if let nodeIssuer, !nodeIssuer.isEmpty, nodeIssuer == patientIssuer { return .origin }
        return .network
    }

    /// The edits that give a copy of `received` this identity for `audience`: PatientID, and
    /// IssuerOfPatientID = the origin issuer (when there is one). Values already right are left out.
    public func edits(toward audience: Audience, from received: DicomAttributes) -> AttributeEdits {
        var edits: AttributeEdits = [:]
        let patientID = audience == .origin ? localPatientID : networkPatientID
        if received.string(.patientID) != patientID, !(patientID.isEmpty && received.string(.patientID) == nil) {
            edits[.patientID] = patientID
        }
        if !issuer.isEmpty, received.string(.issuerOfPatientID) != issuer {
            edits[.issuerOfPatientID] = issuer
        }
        return edits
    }
}
