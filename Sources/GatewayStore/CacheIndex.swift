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

    /// A read of one statement, which SQLite runs atomically on its own: no BEGIN/COMMIT around it
    /// (they cost more than the statement on the C-STORE acknowledgement path). Never use it for
    /// two statements that must see the same state.
    func readStatement<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(body)
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
        try readStatement { db in try InstanceRecord.fetchOne(cached: db, sql: "SELECT * FROM instance WHERE sopUID = ?", arguments: [sopUID]) }
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
