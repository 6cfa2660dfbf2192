import Foundation

/// One row of `patient_identity`: the Patient ID the network sees for a trust's patient.
public struct PatientIdentityMapping: Sendable, Equatable {
    /// IssuerOfPatientID of the trust ("" when none is known).
    public var issuer: String
    /// The trust's own Patient ID.
    public var localPatientID: String
    /// The Patient ID copies sent to other nodes carry.
    public var networkPatientID: String

    public init(issuer: String, localPatientID: String, networkPatientID: String) {
        self.issuer = issuer
        self.localPatientID = localPatientID
        self.networkPatientID = networkPatientID
    }
}

/// Who a cached study belongs to and where it came from: what a report for it is indexed under
/// and the identifiers restored when the report goes home.
public struct StudyIdentity: Sendable, Equatable {
    public var studyUID: String
    /// The node of its first instance (else of its earliest instance from a known node; nil when none).
    public var originNode: String?
    /// The patient row the study is filed under.
    public var issuer: String
    public var patientID: String
}

extension CacheIndex {
    /// Records a mapping (the first one for an (issuer, local ID) stays). Inside a group transaction.
    static func record(_ mapping: PatientIdentityMapping, at time: Date, _ db: any IndexDatabase) throws {
        try db.execute("""
            INSERT INTO patient_identity(issuer, localPatientID, networkPatientID, createdAt) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING
            """, [mapping.issuer, mapping.localPatientID, mapping.networkPatientID, time])
    }

    /// The network Patient ID recorded for a trust's patient, if any.
    public func networkPatientID(issuer: String, localPatientID: String) -> String? {
        try? readStatement { db in
            try db.fetchValue(String.self, "SELECT networkPatientID FROM patient_identity WHERE issuer = ? AND localPatientID = ?",
                                [issuer, localPatientID])
        }
    }

    /// The trust's patient behind a network Patient ID, when exactly one mapped (not identical)
    /// identity has it.
    public func localIdentity(networkPatientID: String) -> PatientIdentityMapping? {
        let rows = (try? read { db in
            try db.fetchAll("""
                SELECT issuer, localPatientID FROM patient_identity WHERE networkPatientID = ? AND localPatientID <> networkPatientID LIMIT 2
                """, [networkPatientID])
        }) ?? []
        guard rows.count == 1, let row = rows.first else { return nil }
        return PatientIdentityMapping(issuer: row["issuer"], localPatientID: row["localPatientID"], networkPatientID: networkPatientID)
    }

    /// Every trust patient the network knows by `networkPatientID` (with `nhs_number`, one person's
    /// patients at several trusts share it); identical mappings (local = network) are left out.
    public func localIdentities(networkPatientID: String) -> [PatientIdentityMapping] {
        let rows = (try? read { db in
            try db.fetchAll("""
                SELECT issuer, localPatientID FROM patient_identity WHERE networkPatientID = ? AND localPatientID <> networkPatientID
                ORDER BY issuer, localPatientID
                """, [networkPatientID])
        }) ?? []
        return rows.map { PatientIdentityMapping(issuer: $0["issuer"], localPatientID: $0["localPatientID"], networkPatientID: networkPatientID) }
    }

    /// The study a cached instance belongs to, with its patient and origin.
    public func studyIdentity(ofInstance instanceID: Int64) -> StudyIdentity? {
        try? read { db -> StudyIdentity? in
            guard let row = try db.fetchOne("""
                SELECT s.studyUID, s.originNode AS origin, p.issuer, p.patientID FROM instance i JOIN series se ON se.id = i.seriesRef
                JOIN study s ON s.id = se.studyRef JOIN patient p ON p.id = s.patientRef WHERE i.id = ?
                """, [instanceID]) else { return nil }
            return StudyIdentity(studyUID: row["studyUID"], originNode: row["origin"], issuer: row["issuer"], patientID: row["patientID"])
        }
    }

    /// The nodes the studies of a trust patient came from.
    public func originNodes(issuer: String, patientID: String) -> Set<String> {
        let nodes = (try? read { db in
            try db.fetchValues(String.self, """
                SELECT DISTINCT s.originNode FROM study s JOIN patient p ON p.id = s.patientRef
                WHERE p.issuer = ? AND p.patientID = ? AND s.originNode IS NOT NULL
                """, [issuer, patientID])
        }) ?? []
        return Set(nodes)
    }

    /// The patient and origin of a cached study; nil when the study is not cached.
    public func studyIdentity(studyUID: String) -> StudyIdentity? {
        try? readStatement { db -> StudyIdentity? in
            // The study row keeps the first node that sent any of it (see CacheIndex.insert).
            guard let row = try db.fetchOne("""
                SELECT p.issuer, p.patientID, s.originNode AS origin
                FROM study s JOIN patient p ON p.id = s.patientRef WHERE s.studyUID = ?
                """, [studyUID]) else { return nil }
            return StudyIdentity(studyUID: studyUID, originNode: row["origin"], issuer: row["issuer"], patientID: row["patientID"])
        }
    }
}
