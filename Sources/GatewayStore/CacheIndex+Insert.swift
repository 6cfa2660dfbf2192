import DicomCore
import Foundation
import GRDB

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
    static func insert(_ m: InstanceMetadata, into db: Database) throws {
        let received = IndexDate.text(m.receivedAt)
        let patient = try upsertPatient(m, db)
        var (study, studyCreated) = try upsertStudy(m, patientRef: patient, db)
        let seriesID: Int64
        if let known = try Row.fetchOne(cached: db, sql: "SELECT id FROM series WHERE seriesUID = ?", arguments: [m.seriesUID]) {
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
        try db.execute(cached: """
            INSERT INTO instance (sopUID, seriesRef, sopClassUID, instanceNumber, transferSyntax, path, sizeBytes, sha256,
                                  receivedAt, callingAE, peerHost, originNode)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [m.sopUID, seriesID, m.sopClassUID, m.value(.instanceNumber), m.transferSyntax, m.path, m.sizeBytes,
                             m.sha256, received, m.origin.callingAE, m.origin.peerHost, m.origin.node])
        let instanceID = db.lastInsertedRowID
        try insertDeliveries(m.deliveries, instanceRef: instanceID, now: m.receivedAt, db)
        try db.execute(cached: "UPDATE series SET instanceCount = instanceCount + 1 WHERE id = ?", arguments: [seriesID])
        // A study's origin is the first node that sent any of it (its first sender may be unknown).
        if study.originNode == nil, let node = m.origin.node { study.originNode = node }
        // Only the columns an instance changes (a whole-row update cost more than the insert).
        try db.execute(cached: """
            UPDATE study SET seriesCount = ?, modalities = ?, originNode = ?, instanceCount = instanceCount + 1,
                             sizeBytes = sizeBytes + ?, updatedAt = ?, lastAccessAt = ?
            WHERE id = ?
            """, arguments: [study.seriesCount, study.modalities, study.originNode, m.sizeBytes, received, received, study.id])
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

    private static func upsertPatient(_ m: InstanceMetadata, _ db: Database) throws -> Int64 {
        let issuer = m.value(.issuerOfPatientID)
        let pid = m.value(.patientID)
        let name = m.value(.patientName)
        if let row = try Row.fetchOne(cached: db, sql: "SELECT id, patientName FROM patient WHERE issuer = ? AND patientID = ?",
                                      arguments: [issuer, pid]) {
            let id: Int64 = row[0]
            if !name.isEmpty && name != (row[1] as String) {
                try db.execute(cached: "UPDATE patient SET patientName = ? WHERE id = ?", arguments: [name, id])
            }
            return id
        }
        var p = PatientRecord(
            id: nil, issuer: issuer, patientID: pid, patientName: name, birthDate: m.value(.patientBirthDate), sex: m.value(.patientSex))
        try p.insert(db)
        return p.id!
    }

    private static func upsertStudy(_ m: InstanceMetadata, patientRef: Int64, _ db: Database) throws -> (StudyCounters, created: Bool) {
        if let row = try Row.fetchOne(cached: db, sql: "SELECT id, seriesCount, modalities, originNode FROM study WHERE studyUID = ?",
                                      arguments: [m.studyUID]) {
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

/// Dates as the index stores them: GRDB's text form, "yyyy-MM-dd HH:mm:ss.SSS" in UTC, which
/// orders as the dates do. Made here without a DateFormatter (ICU), for the per-instance writes.
enum IndexDate {
    static func text(_ date: Date) -> String {
        // Whole milliseconds first, rounded to the nearest as Foundation's DateFormatter hands
        // them to ICU (flooring the fraction alone would lose one).
        let total = Int64((date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down))
        var seconds = time_t(total >= 0 ? total / 1000 : (total - 999) / 1000)
        let millis = Int(total - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))"
    }
}

extension CacheIndex {
    /// Whether the index holds a series (or study) with this UID; true when it cannot be read
    /// (callers remove what is derived from data that is gone, never on a doubt).
    public func holds(seriesUID uid: String) -> Bool {
        (try? readStatement { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM series WHERE seriesUID = ?)", arguments: [uid]) })
            .flatMap { $0 } ?? true
    }

    public func holds(studyUID uid: String) -> Bool {
        (try? readStatement { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM study WHERE studyUID = ?)", arguments: [uid]) })
            .flatMap { $0 } ?? true
    }
}
