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
    /// timeline events and its worklist item. Runs inside a group transaction. With `unlessCached`,
    /// an instance whose SOP Instance UID is already indexed writes nothing and returns false
    /// (the duplicate check folded into the write: one round trip fewer on PostgreSQL).
    @discardableResult
    static func insert(_ m: InstanceMetadata, into db: any IndexDatabase, unlessCached: Bool = false) throws -> Bool {
        let received = IndexDate.text(m.receivedAt)
        let known: IndexRow?
        switch db.dialect {
        case .postgres:
            // Every instance after its series' first is written in one statement (one round trip);
            // the first, or a patient's new name, goes on below with what that statement found.
            let (instanceID, found) = try insertIntoKnownSeries(m, received: received, db)
            if let instanceID {
                try recordIngest(m, studyCreated: false, db)
                if m.extras.worklistActive {
                    try Worklist.ingested(studyUID: m.studyUID, instanceRef: instanceID, sender: m.origin.node, extras: m.extras,
                                          now: m.receivedAt, db)
                }
                return true
            }
            if unlessCached, found?["cached"] as Bool? == true { return false }
            known = found
        case .sqlite:
            if unlessCached, try db.exists("SELECT 1 FROM instance WHERE sopUID = ?", [m.sopUID]) { return false }
            known = try db.fetchOne(knownRows, IndexArguments(values: lookupArguments(m)))
        }
        let patient = try upsertPatient(m, known: known, db)
        var (study, studyCreated) = try upsertStudy(m, patientRef: patient, known: known, db)
        let seriesID: Int64
        if let known = known?["seriesRef"] as Int64? {
            seriesID = known
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
        // A study's origin is the first node that sent any of it (its first sender may be unknown).
        if study.originNode == nil, let node = m.origin.node { study.originNode = node }
        let instance: IndexArguments = [
            m.sopUID, seriesID, m.sopClassUID, m.value(.instanceNumber), m.transferSyntax, m.path, m.sizeBytes, m.sha256, received,
            m.origin.callingAE, m.origin.peerHost, m.origin.node]
        let instanceColumns = """
            INSERT INTO instance (sopUID, seriesRef, sopClassUID, instanceNumber, transferSyntax, path, sizeBytes, sha256,
                                  receivedAt, callingAE, peerHost, originNode)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """
        // Only the columns an instance changes in its series and study (a whole-row update cost more than the insert).
        let counters: IndexArguments = [study.seriesCount, study.modalities, study.originNode, m.sizeBytes, received, received, study.id]
        let studyUpdate = """
            UPDATE study SET seriesCount = ?, modalities = ?, originNode = ?, instanceCount = instanceCount + 1,
                             sizeBytes = sizeBytes + ?, updatedAt = ?, lastAccessAt = ?
            WHERE id = ?
            """
        let instanceID: Int64
        switch db.dialect {
        case .postgres:
            // The instance row and both counters in one statement (data-modifying WITH): one round trip, not three.
            instanceID = try db.insertReturningID("""
                WITH inserted AS (\(instanceColumns)),
                     counted AS (UPDATE series SET instanceCount = instanceCount + 1 WHERE id = ?),
                     touched AS (\(studyUpdate))
                SELECT id FROM inserted
                """, IndexArguments(instance.positional + [IndexValue(seriesID)] + counters.positional))
        case .sqlite:
            instanceID = try db.insertReturningID(instanceColumns, instance)
            try db.execute("UPDATE series SET instanceCount = instanceCount + 1 WHERE id = ?", [seriesID])
            try db.execute(studyUpdate, counters)
        }
        try insertDeliveries(m.deliveries, instanceRef: instanceID, now: m.receivedAt, db)
        try recordIngest(m, studyCreated: studyCreated, db)
        if m.extras.worklistActive {
            try Worklist.ingested(studyUID: m.studyUID, instanceRef: instanceID, sender: m.origin.node, extras: m.extras,
                                  now: m.receivedAt, db)
        }
        return true
    }

    /// Patient, study and series of an instance in one lookup (always one row; NULL for each not
    /// yet indexed), with `lookupArguments`.
    private static let knownRows = """
        SELECT p.id AS patientRef, p.patientName, st.id AS studyRef, st.seriesCount, st.modalities, st.originNode,
               se.id AS seriesRef
        FROM (SELECT 1 AS one) AS x
        LEFT JOIN patient p ON p.issuer = ? AND p.patientID = ?
        LEFT JOIN study st ON st.studyUID = ?
        LEFT JOIN series se ON se.seriesUID = ?
        """

    private static func lookupArguments(_ m: InstanceMetadata) -> [IndexValue] {
        [IndexValue(m.value(.issuerOfPatientID)), IndexValue(m.value(.patientID)), IndexValue(m.studyUID), IndexValue(m.seriesUID)]
    }

    /// PostgreSQL: the instance of a series already indexed (with its study and patient, under the
    /// same name) in one call (`PostgresFunctions.ingestKnownSeries`): the lookup, the instance
    /// row, both counters and its deliveries. Returns the new row's id, or nil and the lookup's
    /// row when the instance is the first of its series (or brings a new patient name), or is
    /// cached already (`cached`): nothing is written then.
    private static func insertIntoKnownSeries(_ m: InstanceMetadata, received: String, _ db: any IndexDatabase) throws
        -> (instanceID: Int64?, known: IndexRow?)
    {
        var arguments = lookupArguments(m)
        arguments += [
            IndexValue(m.sopUID), IndexValue(m.sopClassUID), IndexValue(m.value(.instanceNumber)), IndexValue(m.transferSyntax),
            IndexValue(m.path), IndexValue(m.sizeBytes), IndexValue(m.sha256), IndexValue(received), IndexValue(m.origin.callingAE),
            IndexValue(m.origin.peerHost), IndexValue(m.origin.node), IndexValue(m.value(.patientName)),
            IndexValue(try deliveriesJSON(m.deliveries)),
        ]
        let row = try db.fetchOne(PostgresFunctions.callIngestKnownSeries, IndexArguments(values: arguments))
        return (row?["instanceID"] as Int64?, row)
    }

    /// The deliveries as the ingest function reads them: a JSON array of {destination, route, priority, edits}.
    static func deliveriesJSON(_ deliveries: [PendingDelivery]) throws -> String {
        guard !deliveries.isEmpty else { return "[]" }
        let objects: [[String: Any]] = deliveries.map {
            ["destination": $0.destination, "route": $0.route, "priority": $0.priorityRank, "edits": $0.editsJSON]
        }
        // Never "[]" on a failure: the instance would be acknowledged without its deliveries.
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// What an instance changes in its study's row.
    private struct StudyCounters {
        var id: Int64
        var seriesCount: Int
        var modalities: String
        var originNode: String?
    }

    private static func upsertPatient(_ m: InstanceMetadata, known: IndexRow?, _ db: any IndexDatabase) throws -> Int64 {
        let name = m.value(.patientName)
        if let known, let id = known["patientRef"] as Int64? {
            if !name.isEmpty && name != ((known["patientName"] as String?) ?? "") {
                try db.execute("UPDATE patient SET patientName = ? WHERE id = ?", [name, id])
            }
            return id
        }
        var p = PatientRecord(
            id: nil, issuer: m.value(.issuerOfPatientID), patientID: m.value(.patientID), patientName: name,
            birthDate: m.value(.patientBirthDate), sex: m.value(.patientSex))
        try p.insert(db)
        return p.id!
    }

    private static func upsertStudy(_ m: InstanceMetadata, patientRef: Int64, known: IndexRow?, _ db: any IndexDatabase) throws
        -> (StudyCounters, created: Bool)
    {
        if let known, let id = known["studyRef"] as Int64? {
            return (StudyCounters(id: id, seriesCount: known["seriesCount"], modalities: known["modalities"],
                                  originNode: known["originNode"]), false)
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
