import Foundation

/// A DICOM application or other system taking part in an audited event.
public struct AuditNode: Sendable, Hashable {
    /// The AE title, or for a non-DICOM user (an HTTP caller) what identifies it.
    public var userID: String
    /// `AETITLES=...` for a DICOM application; nil otherwise.
    public var alternativeUserID: String?
    /// The host name or IP address it used.
    public var host: String

    public init(userID: String, alternativeUserID: String? = nil, host: String) {
        self.userID = userID
        self.alternativeUserID = alternativeUserID
        self.host = host
    }

    /// A DICOM peer, identified by its AE title (`UserID` and `AETITLES=` alternative).
    public static func application(aeTitle: String, host: String) -> AuditNode {
        AuditNode(userID: aeTitle, alternativeUserID: "AETITLES=" + aeTitle, host: host)
    }

    func participant(requestor: Bool, roles: [AuditCode]) -> ActiveParticipant {
        ActiveParticipant(userID: userID.isEmpty ? "unknown" : userID, alternativeUserID: alternativeUserID, userIsRequestor: requestor,
                          roles: roles, networkAccessPointID: host.isEmpty ? nil : host)
    }
}

/// A study taking part in an event: its UID, accession numbers and instance counts per SOP class.
public struct AuditStudy: Sendable, Hashable {
    public var uid: String
    public var accessionNumbers: [String]
    /// Instances per SOP Class UID (empty when unknown).
    public var sopClasses: [String: Int]

    public init(uid: String, accessionNumbers: [String] = [], sopClasses: [String: Int] = [:]) {
        self.uid = uid
        self.accessionNumbers = accessionNumbers
        self.sopClasses = sopClasses
    }

    /// The instances counted over all SOP classes.
    public var instanceCount: Int { sopClasses.values.reduce(0, +) }

    func object(lifeCycle: Int?) -> ParticipantObject {
        let classes = sopClasses.sorted { $0.key < $1.key }.map { ParticipantObject.SOPClass(uid: $0.key, numberOfInstances: $0.value) }
        let description = accessionNumbers.filter { !$0.isEmpty }.isEmpty && classes.isEmpty
            ? nil : ParticipantObject.ObjectDescription(accessionNumbers: accessionNumbers.filter { !$0.isEmpty }, sopClasses: classes)
        return ParticipantObject(id: uid, idTypeCode: .studyInstanceUID, typeCode: 2, typeCodeRole: 3, dataLifeCycle: lifeCycle,
                                 description: description)
    }
}

/// A patient taking part in an event: Patient ID with its issuer, and name. Audit messages are
/// where patient identifiers belong (PS3.15 A.5); the gateway's ordinary logs never carry them.
public struct AuditPatient: Sendable, Hashable {
    public var id: String
    public var issuer: String
    public var name: String

    public init(id: String, issuer: String = "", name: String = "") {
        self.id = id
        self.issuer = issuer
        self.name = name
    }

    /// `ParticipantObjectID`: the Patient ID, with its issuer in HL7 CX form (`ID^^^ISSUER`) when known.
    public var participantObjectID: String { issuer.isEmpty ? id : id + "^^^" + issuer }

    var object: ParticipantObject {
        ParticipantObject(id: participantObjectID, idTypeCode: .patientNumber, typeCode: 1, typeCodeRole: 1,
                          name: name.isEmpty ? nil : name)
    }
}
