import Foundation

/// A place in a group commit: `wait` on the committer that issued it.
public final class GroupCommitTicket: @unchecked Sendable {
    // Safe: `result` is only touched under the issuing committer's condition.
    var result: Result<Void, Error>?
}

/// Groups the writes of concurrent associations into one durable transaction (one WAL fsync),
/// so N associations do not pay N fsyncs. Each caller blocks until its own work is committed
/// (or failed); one caller's failure rolls back only its own savepoint. Generic over the engine's
/// connection: `transaction` runs a durable write transaction on the writer, `savepoint` one
/// caller's part of it.
///
/// `optimistic` (PostgreSQL, where a savepoint and its release are two round trips per caller):
/// a batch of submitted work (`submit`, which may run twice) goes without savepoints; only if a
/// part of it fails is the batch rolled back and run again with a savepoint per caller.
final class GroupCommitter<DB>: @unchecked Sendable {
    // Safe: `pending` and `stopped` are only touched under `condition`.
    typealias Work = (DB) throws -> Void
    typealias Ticket = GroupCommitTicket

    private let transaction: ((DB) throws -> Void) throws -> Void
    private let savepoint: (DB, () throws -> Void) throws -> Void
    private let condition = NSCondition()
    private var pending: [(ticket: Ticket, work: Work, replayable: Bool)] = []
    private let optimistic: Bool
    private var stopped = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private var joined = false
    /// Largest batch committed so far (for metrics and tests).
    private(set) var largestBatch = 0

    init(transaction: @escaping ((DB) throws -> Void) throws -> Void, savepoint: @escaping (DB, () throws -> Void) throws -> Void,
         optimistic: Bool = false) {
        self.transaction = transaction
        self.optimistic = optimistic
        self.savepoint = savepoint
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "index-committer"
        self.thread = thread
        thread.start()
    }

    /// Runs `work` inside the next group transaction; returns once that transaction is durable.
    func commit(_ work: @escaping Work) throws {
        try wait(try queue(work, replayable: false))
    }

    /// Queues `work` for the next group transaction; `wait` for it later (do other I/O meanwhile).
    /// `work` must touch nothing but the database: it may run twice (see `optimistic`).
    func submit(_ work: @escaping Work) throws -> Ticket {
        try queue(work, replayable: true)
    }

    private func queue(_ work: @escaping Work, replayable: Bool) throws -> Ticket {
        let ticket = Ticket()
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { throw StoreError("the index is closed") }
        pending.append((ticket, work, replayable))
        condition.broadcast()
        return ticket
    }

    /// Blocks until the ticket's transaction is durable (or failed).
    func wait(_ ticket: Ticket) throws {
        condition.lock()
        while ticket.result == nil { condition.wait() }
        condition.unlock()
        try ticket.result!.get()
    }

    /// Queues `work` for the next group transaction without waiting (audit rows, access times).
    func enqueue(_ work: @escaping Work) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return }
        pending.append((Ticket(), work, false))
        condition.broadcast()
    }

    /// Stops accepting work, commits what is queued, and waits for the committer thread.
    func stop() {
        condition.lock()
        stopped = true
        let wait = !joined
        joined = true
        condition.broadcast()
        condition.unlock()
        if wait { _ = finished.wait(timeout: .now() + 30) }
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty && stopped {
                condition.unlock()
                finished.signal()
                return
            }
            let batch = pending
            pending.removeAll()
            largestBatch = max(largestBatch, batch.count)
            condition.unlock()

            var results = [Result<Void, Error>](repeating: .success(()), count: batch.count)
            if optimistic, batch.count > 1, batch.allSatisfy(\.replayable), let outcome = commitWithoutSavepoints(batch) {
                finish(batch, batch.map { _ in outcome })
                continue
            }
            do {
                try transaction { db in
                    // A batch of one needs no savepoint: its failure rolls back the transaction.
                    if batch.count == 1 {
                        try batch[0].work(db)
                        return
                    }
                    for (i, entry) in batch.enumerated() {
                        do {
                            try savepoint(db) { try entry.work(db) }
                        } catch {
                            results[i] = .failure(error)
                        }
                    }
                }
            } catch {
                results = batch.map { _ in .failure(error) }
            }
            finish(batch, results)
        }
    }

    /// The whole batch in one transaction, no savepoints: its outcome for every part, or nil when
    /// a part failed (nothing of the batch is committed then, and the caller runs it again part by
    /// part). A failure of the transaction itself (BEGIN, COMMIT: the connection) is every part's.
    private func commitWithoutSavepoints(_ batch: [(ticket: Ticket, work: Work, replayable: Bool)]) -> Result<Void, Error>? {
        var partFailed = false
        do {
            try transaction { db in
                for entry in batch {
                    do { try entry.work(db) } catch { partFailed = true; throw error }
                }
            }
            return .success(())
        } catch {
            return partFailed ? nil : .failure(error)
        }
    }

    private func finish(_ batch: [(ticket: Ticket, work: Work, replayable: Bool)], _ results: [Result<Void, Error>]) {
        condition.lock()
        for (entry, result) in zip(batch, results) { entry.ticket.result = result }
        condition.broadcast()
        condition.unlock()
    }
}
