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

/// The `priors:` section: when a new study arrives, earlier studies of the same patient are
/// fetched from the sources at `bulk` priority and sent where the new study goes.
///
/// ```yaml
/// priors: { count: 2, years: 5, match: [modality, body_part] }
/// ```
public struct PriorsSettings: Sendable, Hashable {
    /// Priors fetched per new study (`count`, default 0: off).
    public var count = 0
    /// Only studies at most this many years older (`years`, default 5).
    public var years = 5
    /// What a prior must share with the new study (`match`, any of modality, body_part; default
    /// [modality]); with both, either is enough.
    public var match: Set<PriorMatch> = [.modality]

    public init() {}

    public var isEnabled: Bool { count > 0 }

    static let keys = ["count", "years", "match"]

    static func read(_ section: ConfigMapping) -> PriorsSettings {
        var settings = PriorsSettings()
        settings.count = section.read("count", default: settings.count) { $0.int(in: 0...20, noun: "a number of priors") }
        settings.years = section.read("years", default: settings.years) { $0.int(in: 1...50, noun: "a number of years") }
        if let items = section.optional("match", { $0.list("[modality, body_part]") }) {
            let parsed = items.map { $0.choice(PriorMatch.self) }
            if parsed.allSatisfy({ $0 != nil }), !parsed.isEmpty { settings.match = Set(parsed.compactMap { $0 }) }
        }
        return settings
    }
}

/// What a prior study must have in common with the new one.
public enum PriorMatch: String, Sendable, CaseIterable, ConfigChoice {
    case modality
    case bodyPart = "body_part"

    static let noun = "a prior match (modality or body_part)"
}
