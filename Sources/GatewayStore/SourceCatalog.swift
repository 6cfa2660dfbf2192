import DicomCore
import Foundation

/// A study a source (trust PACS) holds, as its C-FIND answered.
public struct SourceStudy: Sendable, Equatable {
    public var source: String
    public var studyUID: String
    public var patientID = ""
    public var issuer = ""
    public var patientName = ""
    public var patientBirthDate = ""
    public var patientSex = ""
    public var studyDate = ""
    public var studyTime = ""
    public var accessionNumber = ""
    public var studyDescription = ""
    public var modalities = ""
    /// NumberOfStudyRelatedInstances as the source reported it.
    public var numberOfInstances: Int?
    /// known, queued, fetching, complete, failed.
    public var state = "known"
    public var priorityRank = 1
    public var attempts = 0
    public var lastError = ""

    public init(source: String, studyUID: String) {
        self.source = source
        self.studyUID = studyUID
    }

    /// From a study-level C-FIND match.
    public init?(source: String, match: DicomAttributes) {
        guard let uid = match.string(.studyInstanceUID), !uid.isEmpty else { return nil }
        self.init(source: source, studyUID: uid)
        patientID = match.string(.patientID) ?? ""
        issuer = match.string(.issuerOfPatientID) ?? ""
        patientName = match.string(.patientName) ?? ""
        patientBirthDate = match.string(.patientBirthDate) ?? ""
        patientSex = match.string(.patientSex) ?? ""
        studyDate = match.string(.studyDate) ?? ""
        studyTime = match.string(.studyTime) ?? ""
        accessionNumber = match.string(.accessionNumber) ?? ""
        studyDescription = match.string(.studyDescription) ?? ""
        modalities = match.string(.modalitiesInStudy) ?? ""
        numberOfInstances = match.string(.numberOfStudyRelatedInstances).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// The study as study-level attributes (for priority rules and federated C-FIND answers).
    public var attributes: DicomAttributes {
        var a = DicomAttributes()
        a[.studyInstanceUID] = studyUID
        a[.patientID] = patientID
        if !issuer.isEmpty { a[.issuerOfPatientID] = issuer }
        a[.patientName] = patientName
        a[.patientBirthDate] = patientBirthDate
        a[.patientSex] = patientSex
        a[.studyDate] = studyDate
        a[.studyTime] = studyTime
        a[.accessionNumber] = accessionNumber
        a[.studyDescription] = studyDescription
        a[.modalitiesInStudy] = modalities
        if let numberOfInstances { a[.numberOfStudyRelatedInstances] = "\(numberOfInstances)" }
        // Priority rules match on Modality: a study counts as each modality it contains; the first is used.
        if let first = modalities.split(separator: "\\").first { a[.modality] = String(first) }
        return a
    }

    init(row: IndexRow) {
        self.init(source: row["source"], studyUID: row["studyUID"])
        patientID = row["patientID"]
        issuer = row["issuer"]
        patientName = row["patientName"]
        patientBirthDate = row["patientBirthDate"]
        patientSex = row["patientSex"]
        studyDate = row["studyDate"]
        studyTime = row["studyTime"]
        accessionNumber = row["accessionNumber"]
        studyDescription = row["studyDescription"]
        modalities = row["modalities"]
        numberOfInstances = row["numberOfInstances"]
        state = row["state"]
        priorityRank = row["priority"]
        attempts = row["attempts"]
        lastError = row["lastError"]
    }
}

extension CacheIndex {
    /// Records what a source answered; a study already known keeps its fetch state unless the
    /// source now reports more instances than were fetched (a growing study is pulled again).
    public func recordSourceStudies(_ studies: [SourceStudy], now: Date = Date()) throws {
        guard !studies.isEmpty else { return }
        try write { db in
            for s in studies {
                // The existing row's columns are named with the table (PostgreSQL: else ambiguous with `excluded`).
                try db.execute("""
                    INSERT INTO source_study(source, studyUID, patientID, issuer, patientName, patientBirthDate, patientSex, studyDate,
                        studyTime, accessionNumber, studyDescription, modalities, numberOfInstances, firstSeenAt, lastSeenAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(source, studyUID) DO UPDATE SET
                        patientID = excluded.patientID, issuer = excluded.issuer, patientName = excluded.patientName,
                        patientBirthDate = excluded.patientBirthDate, patientSex = excluded.patientSex, studyDate = excluded.studyDate,
                        studyTime = excluded.studyTime, accessionNumber = excluded.accessionNumber,
                        studyDescription = excluded.studyDescription, modalities = excluded.modalities,
                        state = CASE WHEN source_study.state = 'complete'
                                          AND COALESCE(excluded.numberOfInstances, 0) > COALESCE(source_study.numberOfInstances, 0)
                                     THEN 'known' ELSE source_study.state END,
                        numberOfInstances = excluded.numberOfInstances, lastSeenAt = excluded.lastSeenAt
                    """, [s.source, s.studyUID, s.patientID, s.issuer, s.patientName, s.patientBirthDate, s.patientSex,
                                     s.studyDate, s.studyTime, s.accessionNumber, s.studyDescription, s.modalities,
                                     s.numberOfInstances, now, now])
            }
        }
    }

    /// Instances of the study in the cache.
    public func cachedInstanceCount(studyUID: String) -> Int {
        (try? read { db in
            try db.fetchValue(Int.self, """
                SELECT COUNT(*) FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                WHERE s.studyUID = ?
                """, [studyUID])
        } ?? 0) ?? 0
    }

    /// The catalog entry of a study at a source.
    public func sourceStudy(source: String, studyUID: String) -> SourceStudy? {
        try? read { db in
            try db.fetchOne("SELECT * FROM source_study WHERE source = ? AND studyUID = ?", [source, studyUID])
                .map(SourceStudy.init(row:))
        }
    }

    /// Every source known to hold the study, most recently seen first.
    public func sourcesHolding(studyUID: String) -> [SourceStudy] {
        (try? read { db in
            try db.fetchAll("SELECT * FROM source_study WHERE studyUID = ? ORDER BY lastSeenAt DESC", [studyUID])
                .map(SourceStudy.init(row:))
        }) ?? []
    }

    /// Fetches queued or running when the gateway last stopped live only in memory: make them
    /// candidates for the next poll again.
    public func resetInterruptedFetches() throws {
        try write { db in try db.execute("UPDATE source_study SET state = 'known' WHERE state IN ('queued', 'fetching')") }
    }

    /// Studies a source holds that are not (completely) cached and not being fetched; a study whose
    /// fetch failed or stayed incomplete `maximumAttempts` times is left to an operator (or a
    /// reporter's retrieve, which always tries).
    public func studiesToPull(source: String, maximumAttempts: Int = 10) throws -> [SourceStudy] {
        try read { db in
            try db.fetchAll("""
                SELECT ss.*, (SELECT COUNT(*) FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                              WHERE s.studyUID = ss.studyUID) AS cached
                FROM source_study ss WHERE ss.source = ? AND ss.state NOT IN ('queued', 'fetching') AND ss.attempts < ?
                ORDER BY ss.studyDate DESC, ss.studyTime DESC
                """, [source, maximumAttempts]).compactMap { row -> SourceStudy? in
                let cached: Int = row["cached"]
                let study = SourceStudy(row: row)
                let expected = study.numberOfInstances ?? 1
                return cached < expected ? study : nil
            }
        }
    }

    /// Moves a catalog entry to `state` (queued, fetching, complete, failed), with the error and
    /// priority of the fetch.
    public func markSourceStudy(source: String, studyUID: String, state: String, priorityRank: Int? = nil, error: String = "",
                                now: Date = Date()) {
        enqueue { db in
            try db.execute("""
                UPDATE source_study SET state = ?, lastError = ?, priority = COALESCE(?, priority),
                    attempts = attempts + (CASE WHEN ? = 'fetching' THEN 1 ELSE 0 END),
                    fetchedAt = CASE WHEN ? = 'complete' THEN ? ELSE fetchedAt END
                WHERE source = ? AND studyUID = ?
                """, [state, error, priorityRank, state, state, now, source, studyUID])
        }
    }
}
