import Foundation

/// One DICOM audit message (PS3.15 A.5.1, the `AuditMessage` element), as values.
///
/// Build them with the constructors in `AuditMessage+Events.swift` (one per PS3.15 A.5.3
/// message); `xml()` writes the document a syslog collector or ATNA repository expects.
public struct AuditMessage: Sendable, Hashable {
    public var event: EventIdentification
    public var participants: [ActiveParticipant]
    public var source: AuditSource
    public var objects: [ParticipantObject]

    public init(event: EventIdentification, participants: [ActiveParticipant], source: AuditSource, objects: [ParticipantObject] = []) {
        self.event = event
        self.participants = participants
        self.source = source
        self.objects = objects
    }
}

/// `EventIdentification`: what happened, when, and whether it worked.
public struct EventIdentification: Sendable, Hashable {
    public var id: AuditCode
    public var action: AuditEventAction
    public var dateTime: Date
    public var outcome: AuditOutcome
    public var typeCodes: [AuditCode]
    /// `EventOutcomeDescription`: free text on a failure (never patient data).
    public var outcomeDescription: String?

    public init(id: AuditCode, action: AuditEventAction, dateTime: Date, outcome: AuditOutcome, typeCodes: [AuditCode] = [],
                outcomeDescription: String? = nil) {
        self.id = id
        self.action = action
        self.dateTime = dateTime
        self.outcome = outcome
        self.typeCodes = typeCodes
        self.outcomeDescription = outcomeDescription
    }
}

/// `ActiveParticipant`: a user or process that took part (a peer AE, the gateway, an HTTP caller).
public struct ActiveParticipant: Sendable, Hashable {
    /// `UserID`: for a DICOM peer its AE title, for the gateway its process id.
    public var userID: String
    /// `AlternativeUserID`: for a DICOM application, its AE title(s) as `AETITLES=A;B`.
    public var alternativeUserID: String?
    public var userName: String?
    public var userIsRequestor: Bool
    public var roles: [AuditCode]
    /// `NetworkAccessPointID`: the host name or IP address the participant used.
    public var networkAccessPointID: String?

    public init(userID: String, alternativeUserID: String? = nil, userName: String? = nil, userIsRequestor: Bool, roles: [AuditCode] = [],
                networkAccessPointID: String? = nil) {
        self.userID = userID
        self.alternativeUserID = alternativeUserID
        self.userName = userName
        self.userIsRequestor = userIsRequestor
        self.roles = roles
        self.networkAccessPointID = networkAccessPointID
    }
}

/// `AuditSourceIdentification`: the system that writes the message (this gateway).
public struct AuditSource: Sendable, Hashable {
    /// `AuditSourceID`: unique in the enterprise (default: the host name and the gateway's AE title).
    public var id: String
    /// `AuditEnterpriseSiteID`: the organisation (e.g. an ODS code), when configured.
    public var enterpriseSiteID: String?
    /// `AuditSourceTypeCode`: 4, an application server process.
    public var typeCode: String

    public init(id: String, enterpriseSiteID: String? = nil, typeCode: String = "4") {
        self.id = id
        self.enterpriseSiteID = enterpriseSiteID
        self.typeCode = typeCode
    }
}

/// `ParticipantObjectIdentification`: a study, a patient, a query, a node.
public struct ParticipantObject: Sendable, Hashable {
    public var id: String
    public var idTypeCode: AuditCode
    /// `ParticipantObjectTypeCode`: 1 person, 2 system object, 3 organisation, 4 other.
    public var typeCode: Int?
    /// `ParticipantObjectTypeCodeRole`: 1 patient, 3 report, 13 security resource, 24 query ...
    public var typeCodeRole: Int?
    /// `ParticipantObjectDataLifeCycle`: 1 origination, 6 access, 10 export, 14 logical deletion ...
    public var dataLifeCycle: Int?
    /// `ParticipantObjectName` (e.g. the patient's name); mutually exclusive with `query`.
    public var name: String?
    /// `ParticipantObjectQuery`: the query's identifier as it arrived (written base64).
    public var query: Data?
    /// `ParticipantObjectDetail` pairs (values written base64).
    public var details: [Detail]
    /// `ParticipantObjectDescription`: for a study, its accession numbers and SOP classes with counts.
    public var description: ObjectDescription?

    public struct Detail: Sendable, Hashable {
        public var type: String
        public var value: Data
        public init(type: String, value: Data) {
            self.type = type
            self.value = value
        }
        public init(type: String, text: String) { self.init(type: type, value: Data(text.utf8)) }
    }

    /// `DICOMObjectDescriptionContents`.
    public struct ObjectDescription: Sendable, Hashable {
        public var accessionNumbers: [String]
        public var sopClasses: [SOPClass]
        public init(accessionNumbers: [String] = [], sopClasses: [SOPClass] = []) {
            self.accessionNumbers = accessionNumbers
            self.sopClasses = sopClasses
        }
    }

    /// `SOPClass`: a SOP class UID with how many of its instances took part.
    public struct SOPClass: Sendable, Hashable {
        public var uid: String
        public var numberOfInstances: Int
        public init(uid: String, numberOfInstances: Int) {
            self.uid = uid
            self.numberOfInstances = numberOfInstances
        }
    }

    public init(id: String, idTypeCode: AuditCode, typeCode: Int? = nil, typeCodeRole: Int? = nil, dataLifeCycle: Int? = nil,
                name: String? = nil, query: Data? = nil, details: [Detail] = [], description: ObjectDescription? = nil) {
        self.id = id
        self.idTypeCode = idTypeCode
        self.typeCode = typeCode
        self.typeCodeRole = typeCodeRole
        self.dataLifeCycle = dataLifeCycle
        self.name = name
        self.query = query
        self.details = details
        self.description = description
    }
}
