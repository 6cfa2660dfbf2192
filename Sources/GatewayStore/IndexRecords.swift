import Foundation

/// One row per patient, keyed by (issuer, Patient ID): two trusts' identical local IDs never merge.
public struct PatientRecord: Sendable, Equatable {
    public var id: Int64?
    public var issuer: String
    public var patientID: String
    public var patientName: String
    public var birthDate: String
    public var sex: String
}

public struct StudyRecord: Sendable, Equatable {
    public var id: Int64?
    public var studyUID: String
    public var patientRef: Int64
    public var studyDate: String
    public var studyTime: String
    public var accessionNumber: String
    public var studyID: String
    public var studyDescription: String
    public var referringPhysician: String
    public var modalities: String
    public var seriesCount: Int
    public var instanceCount: Int
    public var sizeBytes: Int64
    public var originNode: String?
    public var originAE: String
    public var originHost: String
    public var originPatientID: String
    public var originIssuer: String
    public var receivedAt: Date
    public var updatedAt: Date
    public var lastAccessAt: Date
    public var protected: Bool
}

public struct SeriesRecord: Sendable, Equatable {
    public var id: Int64?
    public var seriesUID: String
    public var studyRef: Int64
    public var modality: String
    public var seriesNumber: String
    public var seriesDescription: String
    public var bodyPart: String
    public var instanceCount: Int
}

public struct InstanceRecord: Sendable, Equatable {
    public var id: Int64?
    public var sopUID: String
    public var seriesRef: Int64
    public var sopClassUID: String
    public var instanceNumber: String
    public var transferSyntax: String
    /// Relative to the storage root.
    public var path: String
    public var sizeBytes: Int64
    public var sha256: String
    public var receivedAt: Date
    public var callingAE: String
    public var peerHost: String
    public var originNode: String?
}

/// Who did what: association, store, query, retrieve, forward, config change, repair.
public struct AuditRecord: Sendable, Equatable {
    public var id: Int64?
    public var time: Date
    public var event: String
    public var actor: String
    public var peer: String
    public var studyUID: String?
    public var outcome: String
    public var detail: String

    public init(event: String, actor: String = "", peer: String = "", studyUID: String? = nil, outcome: String = "", detail: String = "",
                time: Date = Date()) {
        self.time = time
        self.event = event
        self.actor = actor
        self.peer = peer
        self.studyUID = studyUID
        self.outcome = outcome
        self.detail = detail
    }
}
