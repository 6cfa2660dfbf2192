import DicomCore
import Foundation
import GRDB
import Logging

/// The cache index on SQLite (WAL, synchronous=FULL: a commit survives power loss). Writes from
/// concurrent associations are grouped into shared transactions; reads run concurrently.
public final class CacheIndex: @unchecked Sendable {
    // Safe: `pool` and `committer` are thread-safe; `needsReconciliation` is an atomic-enough flag
    // written once on a failure path and read at shutdown, and `auditObserver`, are guarded by `flagLock`.
    public let pool: DatabasePool
    let committer: GroupCommitter
    private let flagLock = NSLock()
    private var reconcile = false
    private var auditObserver: (any AuditObserver)?

    /// Set when a compensating write failed: the next start must reconcile even after a clean stop.
    public var needsReconciliation: Bool {
        get { flagLock.lock(); defer { flagLock.unlock() }; return reconcile }
        set { flagLock.lock(); reconcile = newValue; flagLock.unlock() }
    }

    public init(path: String) throws {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        config.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // GRDB puts a pool's writer in synchronous=NORMAL (after prepareDatabase): a commit would
            // then survive a crash but not a power cut. Acknowledged means durable: FULL, on the writer.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try IndexSchema.migrator.migrate(pool)
        } catch {
            throw StoreError("cannot open the index \(path): \(error)")
        }
        committer = GroupCommitter(writer: pool)
    }

    deinit { committer.stop() }

    /// Commits `work` durably, grouped with concurrent callers' work.
    public func write(_ work: @escaping (Database) throws -> Void) throws {
        try committer.commit(work)
    }

    /// Commits `work` at once without waiting for the disk (synchronous=NORMAL for this one
    /// transaction): it survives a crash or kill of the gateway, not a power cut. Only for
    /// bookkeeping whose loss repeats work rather than losing it (delivery leases and outcomes:
    /// delivery is at-least-once). Every later durable commit makes it durable too.
    public func writeRelaxed(_ work: (Database) throws -> Void) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            let outcome = Result { try db.inTransaction { try work(db); return .commit } }
            // Back to FULL before anything else commits on the writer. If even that fails, no
            // later commit could be called durable: stop rather than acknowledge on NORMAL.
            if (try? db.execute(sql: "PRAGMA synchronous = FULL")) == nil {
                do { try db.execute(sql: "PRAGMA synchronous = FULL") } catch {
                    fatalError("cannot restore synchronous=FULL on the index writer: \(error)")
                }
            }
            try outcome.get()
        }
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    public func close() { committer.stop() }

    /// Throws when the index cannot be read (for health checks: one trivial read, no table scan).
    public func checkReadable() throws {
        _ = try read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL).
    public func writerSynchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Waits until everything queued so far (audit rows, access times) is committed.
    public func flush() {
        try? write { _ in }
    }
}

/// What became of a received instance.
public enum IngestResult: Sendable, Equatable {
    case stored
    case identicalDuplicate
    case keptExisting
    case replaced
    case rejectedDuplicate
}

extension CacheIndex {
    /// The instance row for a SOP Instance UID, if cached.
    public func instance(sopUID: String) throws -> InstanceRecord? {
        try read { db in try InstanceRecord.fetchOne(cached: db, sql: "SELECT * FROM instance WHERE sopUID = ?", arguments: [sopUID]) }
    }

    /// Inserts the rows of a new instance (patient, study, series upserted) with an audit entry.
    /// Runs inside a group transaction: call `write { try CacheIndex.insert(..., db) }`.
    static func insert(_ m: InstanceMetadata, into db: Database) throws {
        let patient = try upsertPatient(m, db)
        let (filed, studyCreated) = try upsertStudy(m, patientRef: patient, db)
        var study = filed
        var series = try SeriesRecord.fetchOne(cached: db, sql: "SELECT * FROM series WHERE seriesUID = ?", arguments: [m.seriesUID])
        if series == nil {
            var s = SeriesRecord(
                id: nil, seriesUID: m.seriesUID, studyRef: study.id!, modality: m.value(.modality),
                seriesNumber: m.value(.seriesNumber), seriesDescription: m.value(.seriesDescription),
                bodyPart: m.value(.bodyPartExamined), instanceCount: 0)
            try s.insert(db)
            series = s
            study.seriesCount += 1
            var modalities = Set(study.modalities.split(separator: "\\").map(String.init))
            if !s.modality.isEmpty { modalities.insert(s.modality) }
            study.modalities = modalities.sorted().joined(separator: "\\")
        }
        var instance = InstanceRecord(
            id: nil, sopUID: m.sopUID, seriesRef: series!.id!, sopClassUID: m.sopClassUID,
            instanceNumber: m.value(.instanceNumber), transferSyntax: m.transferSyntax, path: m.path, sizeBytes: m.sizeBytes,
            sha256: m.sha256, receivedAt: m.receivedAt, callingAE: m.origin.callingAE, peerHost: m.origin.peerHost,
            originNode: m.origin.node)
        try instance.insert(db)
        try insertDeliveries(m.deliveries, instanceRef: instance.id!, now: m.receivedAt, db)
        try db.execute(cached: "UPDATE series SET instanceCount = instanceCount + 1 WHERE id = ?", arguments: [series!.id!])
        // A study's origin is the first node that sent any of it (its first sender may be unknown).
        if study.originNode == nil, let node = m.origin.node { study.originNode = node }
        // Only the columns an instance changes (a whole-row update cost more than the insert).
        try db.execute(cached: """
            UPDATE study SET seriesCount = ?, modalities = ?, originNode = ?, instanceCount = instanceCount + 1,
                             sizeBytes = sizeBytes + ?, updatedAt = ?, lastAccessAt = ?
            WHERE id = ?
            """, arguments: [study.seriesCount, study.modalities, study.originNode, m.sizeBytes, m.receivedAt, m.receivedAt, study.id])
        try recordIngest(m, studyCreated: studyCreated, db)
        if m.extras.worklistActive {
            try Worklist.ingested(studyUID: m.studyUID, instanceRef: instance.id!, sender: m.origin.node, extras: m.extras,
                                  now: m.receivedAt, db)
        }
    }

    private static func upsertPatient(_ m: InstanceMetadata, _ db: Database) throws -> Int64 {
        let issuer = m.value(.issuerOfPatientID)
        let pid = m.value(.patientID)
        if var existing = try PatientRecord.fetchOne(cached: db, sql: "SELECT * FROM patient WHERE issuer = ? AND patientID = ?",
                                                     arguments: [issuer, pid]) {
            let name = m.value(.patientName)
            if !name.isEmpty && name != existing.patientName {
                existing.patientName = name
                try existing.update(db)
            }
            return existing.id!
        }
        var p = PatientRecord(
            id: nil, issuer: issuer, patientID: pid, patientName: m.value(.patientName), birthDate: m.value(.patientBirthDate),
            sex: m.value(.patientSex))
        try p.insert(db)
        return p.id!
    }

    private static func upsertStudy(_ m: InstanceMetadata, patientRef: Int64, _ db: Database) throws -> (StudyRecord, created: Bool) {
        if let existing = try StudyRecord.fetchOne(cached: db, sql: "SELECT * FROM study WHERE studyUID = ?", arguments: [m.studyUID]) {
            return (existing, false)
        }
        var s = StudyRecord(
            id: nil, studyUID: m.studyUID, patientRef: patientRef, studyDate: m.value(.studyDate), studyTime: m.value(.studyTime),
            accessionNumber: m.value(.accessionNumber), studyID: m.value(.studyID), studyDescription: m.value(.studyDescription),
            referringPhysician: m.attributes.string(DicomTag(0x0008, 0x0090)) ?? "", modalities: "", seriesCount: 0, instanceCount: 0,
            sizeBytes: 0, originNode: m.origin.node, originAE: m.origin.callingAE, originHost: m.origin.peerHost,
            originPatientID: m.value(.patientID), originIssuer: m.value(.issuerOfPatientID), receivedAt: m.receivedAt,
            updatedAt: m.receivedAt, lastAccessAt: m.receivedAt, protected: false)
        try s.insert(db)
        return (s, true)
    }

    /// Records an audit entry with the next group transaction, without waiting for it, and hands
    /// it (with `context`, which the row does not keep) to the audit observer: the one entry
    /// point of the audit trail.
    public func audit(_ record: AuditRecord, context: AuditContext? = nil) {
        committer.enqueue { db in
            var r = record
            try r.insert(db)
        }
        observed(record, context: context)
    }

    /// Hands an audit entry already written in a transaction of its own to the audit observer.
    public func observed(_ record: AuditRecord, context: AuditContext? = nil) {
        flagLock.lock()
        let observer = auditObserver
        flagLock.unlock()
        observer?.recorded(record, context: context)
    }

    /// Whether an audit observer listens (so callers can skip gathering context nobody reads).
    public var hasAuditObserver: Bool {
        flagLock.lock()
        defer { flagLock.unlock() }
        return auditObserver != nil
    }

    /// Who hears of every audit entry (the PS3.15 audit trail); set once by the composition root.
    public func setAuditObserver(_ observer: (any AuditObserver)?) {
        flagLock.lock()
        auditObserver = observer
        flagLock.unlock()
    }
}
