import DicomCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The rows of a new instance, written on the C-STORE acknowledgement path (inside a group
/// transaction). Each instance reads and writes only the columns it changes, through cached
/// statements: decoding whole patient and study records and GRDB's Codable insert cost more CPU
/// per instance than SQLite itself. New patients, studies and series (once each) use the records.
extension CacheIndex {
    /// Inserts the rows of a new instance (patient, study, series upserted), its deliveries, its
    /// timeline events and its worklist item. Runs inside a group transaction.
    static func insert(_ m: InstanceMetadata, into db: any IndexDatabase) throws {
        let received = IndexDate.text(m.receivedAt)
        let patient = try upsertPatient(m, db)
        var (study, studyCreated) = try upsertStudy(m, patientRef: patient, db)
        let seriesID: Int64
        if let known = try db.fetchOne("SELECT id FROM series WHERE seriesUID = ?", [m.seriesUID]) {
            seriesID = known[0]
        } else {
            var s = SeriesRecord(
                id: nil, seriesUID: m.seriesUID, studyRef: study.id, modality: m.value(.modality),
                seriesNumber: m.value(.seriesNumber), seriesDescription: m.value(.seriesDescription),
                bodyPart: m.value(.bodyPartExamined), instanceCount: 0)
            try s.insert(db)
            seriesID = s.id!
            study.seriesCount += 1
            var modalities = Set(study.modalities.split(separator: "\\").map(String.init))
            if !s.modality.isEmpty { modalities.insert(s.modality) }
            study.modalities = modalities.sorted().joined(separator: "\\")
        }
        let instanceID = try db.insertReturningID("""
            INSERT INTO instance (sopUID, seriesRef, sopClassUID, instanceNumber, transferSyntax, path, sizeBytes, sha256,
                                  receivedAt, callingAE, peerHost, originNode)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [m.sopUID, seriesID, m.sopClassUID, m.value(.instanceNumber), m.transferSyntax, m.path, m.sizeBytes,
                             m.sha256, received, m.origin.callingAE, m.origin.peerHost, m.origin.node])
        try insertDeliveries(m.deliveries, instanceRef: instanceID, now: m.receivedAt, db)
        try db.execute("UPDATE series SET instanceCount = instanceCount + 1 WHERE id = ?", [seriesID])
        // A study's origin is the first node that sent any of it (its first sender may be unknown).
        if study.originNode == nil, let node = m.origin.node { study.originNode = node }
        // Only the columns an instance changes (a whole-row update cost more than the insert).
        try db.execute("""
            UPDATE study SET seriesCount = ?, modalities = ?, originNode = ?, instanceCount = instanceCount + 1,
                             sizeBytes = sizeBytes + ?, updatedAt = ?, lastAccessAt = ?
            WHERE id = ?
            """, [study.seriesCount, study.modalities, study.originNode, m.sizeBytes, received, received, study.id])
        try recordIngest(m, studyCreated: studyCreated, db)
        if m.extras.worklistActive {
            try Worklist.ingested(studyUID: m.studyUID, instanceRef: instanceID, sender: m.origin.node, extras: m.extras,
                                  now: m.receivedAt, db)
        }
    }

    /// What an instance changes in its study's row.
    private struct StudyCounters {
        var id: Int64
        var seriesCount: Int
        var modalities: String
        var originNode: String?
    }

    private static func upsertPatient(_ m: InstanceMetadata, _ db: any IndexDatabase) throws -> Int64 {
        let issuer = m.value(.issuerOfPatientID)
        let pid = m.value(.patientID)
        let name = m.value(.patientName)
        if let row = try db.fetchOne("SELECT id, patientName FROM patient WHERE issuer = ? AND patientID = ?",
                                      [issuer, pid]) {
            let id: Int64 = row[0]
            if !name.isEmpty && name != (row[1] as String) {
                try db.execute("UPDATE patient SET patientName = ? WHERE id = ?", [name, id])
            }
            return id
        }
        var p = PatientRecord(
            id: nil, issuer: issuer, patientID: pid, patientName: name, birthDate: m.value(.patientBirthDate), sex: m.value(.patientSex))
        try p.insert(db)
        return p.id!
    }

    private static func upsertStudy(_ m: InstanceMetadata, patientRef: Int64, _ db: any IndexDatabase) throws -> (StudyCounters, created: Bool) {
        if let row = try db.fetchOne("SELECT id, seriesCount, modalities, originNode FROM study WHERE studyUID = ?",
                                      [m.studyUID]) {
            return (StudyCounters(id: row[0], seriesCount: row[1], modalities: row[2], originNode: row[3]), false)
        }
        var s = StudyRecord(
            id: nil, studyUID: m.studyUID, patientRef: patientRef, studyDate: m.value(.studyDate), studyTime: m.value(.studyTime),
            accessionNumber: m.value(.accessionNumber), studyID: m.value(.studyID), studyDescription: m.value(.studyDescription),
            referringPhysician: m.attributes.string(DicomTag(0x0008, 0x0090)) ?? "", modalities: "", seriesCount: 0, instanceCount: 0,
            sizeBytes: 0, originNode: m.origin.node, originAE: m.origin.callingAE, originHost: m.origin.peerHost,
            originPatientID: m.value(.patientID), originIssuer: m.value(.issuerOfPatientID), receivedAt: m.receivedAt,
            updatedAt: m.receivedAt, lastAccessAt: m.receivedAt, protected: false)
        try s.insert(db)
        return (StudyCounters(id: s.id!, seriesCount: 0, modalities: "", originNode: s.originNode), true)
    }
}

extension CacheIndex {
    /// Whether the index holds a series (or study) with this UID; true when it cannot be read
    /// (callers remove what is derived from data that is gone, never on a doubt).
    public func holds(seriesUID uid: String) -> Bool {
        (try? readStatement { db in try db.fetchValue(Bool.self, "SELECT EXISTS (SELECT 1 FROM series WHERE seriesUID = ?)", [uid]) })
            .flatMap { $0 } ?? true
    }

    public func holds(studyUID uid: String) -> Bool {
        (try? readStatement { db in try db.fetchValue(Bool.self, "SELECT EXISTS (SELECT 1 FROM study WHERE studyUID = ?)", [uid]) })
            .flatMap { $0 } ?? true
    }
}
