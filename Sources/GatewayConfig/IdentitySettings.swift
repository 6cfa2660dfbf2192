/// The `identity:` section: how patients from different trusts are told apart in the network.
///
/// Every node has an `issuer` (e.g. its ODS code). Instances keep (or gain) IssuerOfPatientID =
/// their node's issuer, so two trusts using the same local Patient ID never merge. What the
/// network (reporters, other trusts) sees as Patient ID is set by `patient_id`; the mapping is
/// stored, and a report going back to the trust gets that trust's own Patient ID again.
///
/// ```yaml
/// identity: { patient_id: prefix }     # RTH-12345 for Patient ID 12345 from the node with issuer RTH
/// ```
public struct IdentitySettings: Sendable, Hashable {
    /// `keep` (default), `prefix` (issuer + "-" + local ID) or `nhs_number` (the NHS Number from
    /// OtherPatientIDsSequence where present, else the prefixed local ID).
    public var patientID: PatientIDPolicy = .keep
    /// The IssuerOfPatientID that marks an NHS Number in OtherPatientIDsSequence (`nhs_number_issuer`,
    /// default `NHS`).
    public var nhsNumberIssuer = "NHS"

    public init() {}

    static let keys = ["patient_id", "nhs_number_issuer"]

    static func read(_ section: ConfigMapping) -> IdentitySettings {
        var settings = IdentitySettings()
        settings.patientID = section.read("patient_id", default: settings.patientID) { $0.choice() }
        settings.nhsNumberIssuer = section.read("nhs_number_issuer", default: settings.nhsNumberIssuer) { $0.issuer() }
        return settings
    }
}

/// What the network sees as a patient's ID.
public enum PatientIDPolicy: String, Sendable, CaseIterable, ConfigChoice {
    case keep
    case prefix
    case nhsNumber = "nhs_number"

    static let noun = "a patient ID policy"
}
