import Foundation
import Logging

/// Evicts least-recently-used studies when the cache is over its size limit or a study is older
/// than the age limit. Never evicts a protected study, nor one that `isBusy` says still has
/// undelivered work.
public struct RetentionRunner: Sendable {
    public struct Limits: Sendable {
        public var maxBytes: Int64?
        public var maxAgeDays: Int?
        public init(maxBytes: Int64?, maxAgeDays: Int?) {
            self.maxBytes = maxBytes
            self.maxAgeDays = maxAgeDays
        }
        public var isEnabled: Bool { maxBytes != nil || maxAgeDays != nil }
    }

    let index: CacheIndex
    let paths: InstancePath
    let limits: Limits
    let logger: Logger
    /// Whether a study still has undelivered work (queued deliveries); such a study is kept.
    let isBusy: @Sendable (String) -> Bool
    /// Told of each evicted study (its UID and its series' UIDs) once its rows and files are gone,
    /// so that what was derived from them (DICOMweb's cached metadata) goes too.
    let evicted: @Sendable (_ studyUID: String, _ seriesUIDs: [String]) -> Void

    public init(index: CacheIndex, paths: InstancePath, limits: Limits, logger: Logger, isBusy: @escaping @Sendable (String) -> Bool = { _ in false },
                evicted: @escaping @Sendable (_ studyUID: String, _ seriesUIDs: [String]) -> Void = { _, _ in }) {
        self.index = index
        self.paths = paths
        self.limits = limits
        self.logger = logger
        self.isBusy = isBusy
        self.evicted = evicted
    }

    /// One pass; returns the Study Instance UIDs evicted.
    @discardableResult
    public func runOnce(now: Date = Date()) throws -> [String] {
        guard limits.isEnabled else { return [] }
        index.flush()  // pending access times first: a study just retrieved must count as recently used
        var evicted: [String] = []
        var total = try index.read { db in try db.fetchValue(Int64.self, "SELECT COALESCE(SUM(sizeBytes), 0) FROM study") ?? 0 }
        let candidates = try index.read { db in
            try db.fetchAll("""
                SELECT studyUID, sizeBytes, receivedAt, lastAccessAt, instanceCount, protected FROM study WHERE protected = 0
                ORDER BY lastAccessAt ASC
                """)
        }
        let ageLimit = limits.maxAgeDays.map { now.addingTimeInterval(-Double($0) * 86_400) }
        for row in candidates {
            let uid: String = row["studyUID"]
            let size: Int64 = row["sizeBytes"]
            let received: Date = row["receivedAt"]
            let overSize = limits.maxBytes.map { total > $0 } ?? false
            let tooOld = ageLimit.map { received < $0 } ?? false
            guard overSize || tooOld else { continue }
            if isBusy(uid) { continue }
            guard try evict(uid, chosen: StudyUse(row)) else { continue }
            total -= size
            evicted.append(uid)
        }
        if !evicted.isEmpty { logger.notice("retention evicted \(evicted.count) stud(ies)", metadata: ["cache_bytes": "\(total)"]) }
        return evicted
    }

    /// Removes a study's rows (durably), then its files, unless it changed since the pass chose it.
    /// The choice is checked again in the transaction that deletes: a C-STORE committed after the
    /// pass read its candidates (an acknowledged instance, perhaps with deliveries still to make)
    /// moved the study's last use and count, and the study is then kept.
    @discardableResult
    func evict(_ studyUID: String, chosen: StudyUse? = nil) throws -> Bool {
        let context = index.auditContext(studyUIDs: [studyUID])
        final class Taken: @unchecked Sendable {
            // @unchecked: written inside the write transaction, read after it returned.
            var files: [String] = []
            var series: [String] = []
            var audit: AuditRecord?
        }
        let taken = Taken()
        try index.write { db in
            guard let now = try StudyUse.fetch(studyUID, db), !now.protected, chosen == nil || now == chosen else { return }
            let undelivered = try db.fetchValue(Bool.self, """
                SELECT EXISTS (SELECT 1 FROM delivery d JOIN instance i ON i.id = d.instanceRef
                JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                WHERE s.studyUID = ? AND d.state NOT IN ('done', 'cancelled'))
                """, [studyUID]) ?? true
            guard !undelivered else { return }
            taken.files = try db.fetchValues(String.self, """
                SELECT i.path FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                WHERE s.studyUID = ?
                """, [studyUID])
            taken.series = try db.fetchValues(String.self, "SELECT se.seriesUID FROM series se JOIN study s ON s.id = se.studyRef WHERE s.studyUID = ?",
                                               [studyUID])
            try db.execute("DELETE FROM study WHERE studyUID = ?", [studyUID])
            try db.execute("DELETE FROM patient WHERE NOT EXISTS (SELECT 1 FROM study WHERE study.patientRef = patient.id)")
            var audit = AuditRecord(event: "evict", studyUID: studyUID, outcome: "removed",
                                    detail: "\(taken.files.count) instance(s) by retention policy")
            try audit.insert(db)
            taken.audit = audit
        }
        guard let audit = taken.audit else {
            logger.info("retention kept a study that changed since the pass chose it", metadata: ["study_instance_uid": "\(studyUID)"])
            return false
        }
        let files = taken.files
        let series = taken.series
        index.observed(audit, context: context)
        // The removals are made durable too: without the directory syncs a power cut could bring the files back,
        // and recovery would re-index a study the policy retired (found with lossyfs, issue 15).
        var directories = Set<String>()
        for relative in files {
            let path = paths.absolutePath(relative: relative)
            try? FileManager.default.removeItem(atPath: path)
            directories.insert((path as NSString).deletingLastPathComponent)
        }
        for directory in directories.sorted() { try? DurableFile.sync(directory: directory) }
        evicted(studyUID, series)
        return true
    }
}

/// What decides whether a study is still the one a retention pass chose: its last use, its
/// instance count and its protection, as stored.
struct StudyUse: Equatable {
    var lastAccessAt: IndexValue
    var instanceCount: Int64
    var protected: Bool

    init(_ row: IndexRow) {
        lastAccessAt = row["lastAccessAt"]
        instanceCount = row["instanceCount"]
        protected = row["protected"]
    }

    static func fetch(_ studyUID: String, _ db: any IndexDatabase) throws -> StudyUse? {
        try db.fetchOne("SELECT lastAccessAt, instanceCount, protected FROM study WHERE studyUID = ?", [studyUID])
            .map(StudyUse.init)
    }
}
