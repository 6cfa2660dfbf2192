import Foundation
import GRDB

/// The cache index on SQLite (WAL, synchronous=FULL: a commit survives power loss), the embedded
/// default. Writes from concurrent associations are grouped into shared transactions (one WAL
/// fsync); reads run concurrently on the pool's readers.
public final class SQLiteIndexStore: IndexStore, @unchecked Sendable {
    // Safe: `pool` and `committer` are thread-safe.
    public let pool: DatabasePool
    let committer: GroupCommitter<Database>
    public let location: String

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
        location = path
        let pool = pool
        committer = GroupCommitter(
            transaction: { body in
                try pool.writeWithoutTransaction { db in
                    try db.inTransaction {
                        try body(db)
                        return .commit
                    }
                }
            },
            savepoint: { db, body in
                try db.inSavepoint {
                    try body()
                    return .commit
                }
            })
    }

    deinit { committer.stop() }

    public var dialect: IndexDialect { .sqlite }
    public var largestBatch: Int { committer.largestBatch }
    public func close() { committer.stop() }

    public func write(_ work: @escaping (any IndexDatabase) throws -> Void) throws {
        try committer.commit { db in try work(GRDBIndexDatabase(db)) }
    }

    public func submit(_ work: @escaping (any IndexDatabase) throws -> Void) throws -> GroupCommitTicket {
        try committer.submit { db in try work(GRDBIndexDatabase(db)) }
    }

    public func wait(_ ticket: GroupCommitTicket) throws { try committer.wait(ticket) }

    public func enqueue(_ work: @escaping (any IndexDatabase) throws -> Void) {
        committer.enqueue { db in try work(GRDBIndexDatabase(db)) }
    }

    public func writeRelaxed(_ work: (any IndexDatabase) throws -> Void) throws {
        try sqliteWriteRelaxed { db in try work(GRDBIndexDatabase(db)) }
    }

    /// `writeRelaxed` on GRDB's connection: synchronous=NORMAL for this one transaction.
    func sqliteWriteRelaxed(_ work: (Database) throws -> Void) throws {
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

    public func writeAlone<T>(_ work: (any IndexDatabase) throws -> T) throws -> T {
        try pool.write { db in try work(GRDBIndexDatabase(db)) }
    }

    public func read<T>(_ body: (any IndexDatabase) throws -> T) throws -> T {
        try pool.read { db in try body(GRDBIndexDatabase(db)) }
    }

    /// One statement, which SQLite runs atomically on its own: no BEGIN/COMMIT around it (they
    /// cost more than the statement on the C-STORE acknowledgement path).
    public func readStatement<T>(_ body: (any IndexDatabase) throws -> T) throws -> T {
        try pool.unsafeRead { db in try body(GRDBIndexDatabase(db)) }
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL).
    public func writerSynchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }
}
