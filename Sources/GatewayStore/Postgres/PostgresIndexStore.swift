import Foundation
import Logging
import NIOCore

/// Where the PostgreSQL index is and how to log in.
public struct PostgresIndexSettings: Sendable {
    public var endpoint: PostgresEndpoint
    public var password: String?
    public var connectTimeoutSeconds: Int
    /// Reader connections kept open between reads (more are made for a burst, and closed after:
    /// a read never waits for another, so reads within reads cannot deadlock).
    public var readers: Int

    public init(endpoint: PostgresEndpoint, password: String?, connectTimeoutSeconds: Int = 5, readers: Int = 4) {
        self.endpoint = endpoint
        self.password = password
        self.connectTimeoutSeconds = max(1, connectTimeoutSeconds)
        self.readers = max(1, readers)
    }
}

/// The cache index on PostgreSQL, for several gateway nodes sharing one database. One writer
/// connection per node carries the group commits (synchronous_commit on: a commit is durable on
/// the server before success goes back), relaxed writes and single writes, one at a time as on
/// SQLite; reads use a few reader connections. A lost connection is made again at its next use,
/// so the node resumes by itself when PostgreSQL returns; meanwhile every write fails.
public final class PostgresIndexStore: IndexStore, @unchecked Sendable {
    // Safe: the writer connection is used only under `writerLock`, the relaxed one under `relaxedLock`;
    // `idleReaders` only under `readerLock`.
    public let settings: PostgresIndexSettings
    private let logger: Logger
    private let writerLock = NSLock()
    private var writer: PostgresIndexConnection?
    private let relaxedLock = NSLock()
    private var relaxed: PostgresIndexConnection?
    private let readerLock = NSLock()
    private var idleReaders: [PostgresIndexConnection] = []
    private var committer: GroupCommitter<PostgresIndexConnection>!

    public var dialect: IndexDialect { .postgres }
    public var location: String { settings.endpoint.description }

    /// Connects, and migrates the schema to this version (under an advisory lock: nodes starting
    /// together migrate once).
    public init(settings: PostgresIndexSettings, logger: Logger = Logger(label: "dicom-gateway.index.postgres")) throws {
        self.settings = settings
        self.logger = logger
        do {
            try withWriter { db in try PostgresIndexSchema.migrate(db) }
        } catch {
            throw StoreError("cannot open the index \(settings.endpoint): \(error)")
        }
        committer = GroupCommitter(
            transaction: { [unowned self] body in
                try self.withWriter { db in try db.inTransaction { db in try body(db) } }
            },
            savepoint: { db, body in try db.inSavepoint(body) },
            // A savepoint and its release are two round trips per caller here.
            optimistic: true)
    }

    deinit { close() }

    public var largestBatch: Int { committer.largestBatch }

    public func close() {
        committer?.stop()
        writerLock.lock()
        writer?.close()
        writer = nil
        writerLock.unlock()
        relaxedLock.lock()
        relaxed?.close()
        relaxed = nil
        relaxedLock.unlock()
        readerLock.lock()
        let readers = idleReaders
        idleReaders.removeAll()
        readerLock.unlock()
        for reader in readers { reader.close() }
    }

    // MARK: IndexStore

    public func write(_ work: @escaping (any IndexDatabase) throws -> Void) throws {
        try committer.commit { db in try work(db) }
    }

    public func submit(_ work: @escaping (any IndexDatabase) throws -> Void) throws -> GroupCommitTicket {
        try committer.submit { db in try work(db) }
    }

    public func wait(_ ticket: GroupCommitTicket) throws { try committer.wait(ticket) }

    public func enqueue(_ work: @escaping (any IndexDatabase) throws -> Void) {
        committer.enqueue { db in try work(db) }
    }

    /// On a connection of its own whose commits do not wait for the server's WAL flush
    /// (`synchronous_commit = off` for the session): a relaxed write (a delivery's lease or
    /// outcome) neither waits behind a group commit's flush nor holds one up. It survives the
    /// gateway's crash, not the server's power cut.
    public func writeRelaxed(_ work: (any IndexDatabase) throws -> Void) throws {
        relaxedLock.lock()
        defer { relaxedLock.unlock() }
        if relaxed?.isOpen != true {
            relaxed = nil
            let connection = try connect()
            try connection.execute("SET synchronous_commit = off")
            relaxed = connection
        }
        try relaxed!.inTransaction { db in try work(db) }
    }

    public func writeAlone<T>(_ work: (any IndexDatabase) throws -> T) throws -> T {
        try withWriter { db in try db.inTransaction { db in try work(db) } }
    }

    public func read<T>(_ body: (any IndexDatabase) throws -> T) throws -> T {
        try withReader { db in
            try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try body(db)
                try db.commit()
                return result
            } catch {
                if db.isOpen { try? db.rollback() }
                throw error
            }
        }
    }

    public func readStatement<T>(_ body: (any IndexDatabase) throws -> T) throws -> T {
        try withReader { db in try body(db) }
    }

    // MARK: Connections

    private func connect() throws -> PostgresIndexConnection {
        try PostgresIndexConnection(endpoint: settings.endpoint, password: settings.password,
                                    connectTimeout: .seconds(Int64(settings.connectTimeoutSeconds)), logger: logger)
    }

    /// Runs `body` on the writer connection, made again if it was lost.
    private func withWriter<T>(_ body: (PostgresIndexConnection) throws -> T) throws -> T {
        writerLock.lock()
        defer { writerLock.unlock() }
        if writer?.isOpen != true {
            writer = nil
            writer = try connect()
        }
        return try body(writer!)
    }

    private func withReader<T>(_ body: (PostgresIndexConnection) throws -> T) throws -> T {
        readerLock.lock()
        var reader = idleReaders.popLast()
        readerLock.unlock()
        if reader?.isOpen != true { reader = try connect() }
        let connection = reader!
        defer { giveBack(connection) }
        return try body(connection)
    }

    /// Keeps a healthy reader for the next read, up to `settings.readers` of them.
    private func giveBack(_ reader: PostgresIndexConnection) {
        readerLock.lock()
        let keep = reader.isOpen && !reader.isInTransaction && idleReaders.count < settings.readers
        if keep { idleReaders.append(reader) }
        readerLock.unlock()
        if !keep { reader.close() }
    }
}
