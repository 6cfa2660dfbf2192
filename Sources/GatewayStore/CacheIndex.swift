import DicomCore
import Foundation
import GRDB
import Logging

/// The cache index: studies, series, instances, deliveries, federation, worklist and audit rows,
/// on an `IndexStore` (SQLite embedded by default, or PostgreSQL shared by several nodes).
/// Writes from concurrent associations are grouped into shared transactions; reads run concurrently.
public final class CacheIndex: @unchecked Sendable {
    // Safe: `store` is thread-safe; `reconcile` and `auditObserver` are guarded by `flagLock`.
    public let store: any IndexStore
    private let flagLock = NSLock()
    private var reconcile = false
    private var nodeName = ""
    private var auditObserver: (any AuditObserver)?

    /// Set when a compensating write failed: the next start must reconcile even after a clean stop.
    public var needsReconciliation: Bool {
        get { flagLock.lock(); defer { flagLock.unlock() }; return reconcile }
        set { flagLock.lock(); reconcile = newValue; flagLock.unlock() }
    }

    /// This node's name in a cluster (`cluster.node_id`): delivery leases are held in it.
    public var node: String {
        get { flagLock.lock(); defer { flagLock.unlock() }; return nodeName }
        set { flagLock.lock(); nodeName = newValue; flagLock.unlock() }
    }

    /// The embedded SQLite index at `path`.
    public convenience init(path: String) throws {
        try self.init(store: SQLiteIndexStore(path: path))
    }

    public init(store: any IndexStore) {
        self.store = store
    }

    deinit { store.close() }

    public var dialect: IndexDialect { store.dialect }

    /// Commits `work` durably, grouped with concurrent callers' work.
    public func write(_ work: @escaping (any IndexDatabase) throws -> Void) throws { try store.write(work) }

    /// Commits `work` at once without waiting for the disk: it survives a crash or kill of the
    /// gateway, not a power cut. Only for bookkeeping whose loss repeats work rather than losing it
    /// (delivery leases and outcomes: delivery is at-least-once). Every later durable commit makes it durable too.
    public func writeRelaxed(_ work: (any IndexDatabase) throws -> Void) throws { try store.writeRelaxed(work) }

    /// A durable transaction of its own, straight on the writer, not through the group committer:
    /// for one small write whose caller waits (the committer's thread hand-offs and savepoint cost
    /// more than its fsync).
    public func writeAlone<T>(_ work: (any IndexDatabase) throws -> T) throws -> T { try store.writeAlone(work) }

    /// A read transaction: every statement in `body` sees the same state.
    public func read<T>(_ body: (any IndexDatabase) throws -> T) throws -> T { try store.read(body) }

    /// A read of one statement, run atomically on its own without BEGIN/COMMIT (they cost more
    /// than the statement on the C-STORE acknowledgement path). Never for two statements that
    /// must see the same state.
    func readStatement<T>(_ body: (any IndexDatabase) throws -> T) throws -> T { try store.readStatement(body) }

    /// Queues `work` for the next group transaction without waiting (audit rows, access times).
    func enqueue(_ work: @escaping (any IndexDatabase) throws -> Void) { store.enqueue(work) }

    /// Queues `work` for the next group transaction; `wait` for the ticket later (do other I/O meanwhile).
    func submit(_ work: @escaping (any IndexDatabase) throws -> Void) throws -> GroupCommitTicket { try store.submit(work) }

    /// Blocks until the ticket's transaction is durable (or failed).
    func wait(_ ticket: GroupCommitTicket) throws { try store.wait(ticket) }

    public func close() { store.close() }

    /// Throws when the index cannot be read (for health checks: one trivial read, no table scan).
    public func checkReadable() throws {
        _ = try readStatement { db in try db.fetchValue(Int.self, "SELECT 1") }
    }

    /// Waits until everything queued so far (audit rows, access times) is committed.
    public func flush() {
        try? write { _ in }
    }

    // MARK: SQLite only (tests that write fixtures with GRDB, and the durability check)

    /// The SQLite store; a programming error on PostgreSQL.
    var sqlite: SQLiteIndexStore {
        guard let store = store as? SQLiteIndexStore else { preconditionFailure("the index is not on SQLite") }
        return store
    }

    public func sqliteWrite(_ work: @escaping (Database) throws -> Void) throws { try sqlite.committer.commit(work) }
    public func sqliteRead<T>(_ body: (Database) throws -> T) throws -> T { try sqlite.pool.read(body) }

    /// The SQLite writer connection's `PRAGMA synchronous` (2 = FULL).
    public func writerSynchronousLevel() throws -> Int { try sqlite.writerSynchronousLevel() }
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
        try readStatement { db in try db.fetchOne(InstanceRecord.self, "SELECT * FROM instance WHERE sopUID = ?", [sopUID]) }
    }

    /// Records an audit entry with the next group transaction, without waiting for it, and hands
    /// it (with `context`, which the row does not keep) to the audit observer: the one entry
    /// point of the audit trail.
    public func audit(_ record: AuditRecord, context: AuditContext? = nil) {
        enqueue { db in
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
