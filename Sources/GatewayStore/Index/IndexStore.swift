/// The engine under the cache index (DESIGN.md's `IndexStore`): how its transactions run.
/// Two implementations: `SQLiteIndexStore` (GRDB, the embedded default) and `PostgresIndexStore`
/// (postgres-nio, for several gateway nodes on one database). GatewayStore's code reaches the
/// tables only through these closures' `IndexDatabase`.
public protocol IndexStore: AnyObject, Sendable {
    var dialect: IndexDialect { get }
    /// Where the index is, for messages (a path, or the PostgreSQL endpoint without password).
    var location: String { get }

    /// Commits `work` durably, grouped with concurrent callers' work; returns once it is durable.
    func write(_ work: @escaping (any IndexDatabase) throws -> Void) throws
    /// Queues `work` for the next group transaction; `wait` for the ticket later. `work` must touch
    /// nothing but the database: it may run twice (a batch that failed in another caller's part is
    /// run again, each part under a savepoint).
    func submit(_ work: @escaping (any IndexDatabase) throws -> Void) throws -> GroupCommitTicket
    func wait(_ ticket: GroupCommitTicket) throws
    /// Queues `work` for the next group transaction without waiting (audit rows, access times).
    func enqueue(_ work: @escaping (any IndexDatabase) throws -> Void)
    /// Commits at once without waiting for the disk: survives a crash of the gateway, not a
    /// power cut. Only for bookkeeping whose loss repeats work (delivery leases and outcomes).
    func writeRelaxed(_ work: (any IndexDatabase) throws -> Void) throws
    /// A durable transaction of its own on the writer, not grouped (one small write whose caller waits).
    func writeAlone<T>(_ work: (any IndexDatabase) throws -> T) throws -> T
    /// A read transaction: every statement sees the same state.
    func read<T>(_ body: (any IndexDatabase) throws -> T) throws -> T
    /// A read of one statement, without BEGIN/COMMIT (the acknowledgement path's reads).
    func readStatement<T>(_ body: (any IndexDatabase) throws -> T) throws -> T
    /// Largest group commit so far (metrics, tests).
    var largestBatch: Int { get }
    /// Commits what is queued and closes the connections.
    func close()
}
