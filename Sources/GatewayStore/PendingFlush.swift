import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A received file's bytes being made durable (fdatasync) on another thread while the caller
/// parses, routes and indexes it: on one association the sender waits for every acknowledgement,
/// so the device flush and the CPU work must overlap rather than follow each other.
public final class PendingFlush: @unchecked Sendable {
    // Safe: `outcome` and `discarded` are only touched under `condition`.
    private let condition = NSCondition()
    private var outcome: Result<Void, StoreError>?
    private var discarded = false
    public let path: String

    /// Starts flushing `path` now, on a flusher thread (`FlushThreads`): fdatasync blocks, and up
    /// to one flush per association may be under way (GCD's pool would run only as many as there
    /// are cores).
    public static func start(_ path: String) -> PendingFlush {
        let flush = PendingFlush(path: path)
        FlushThreads.shared.run(flush)
        return flush
    }

    /// A flush not yet handed to a thread (tests hand it to their own `FlushThreads`).
    static func unstarted(_ path: String) -> PendingFlush { PendingFlush(path: path) }

    private init(path: String) {
        self.path = path
    }

    /// Waits until the file's bytes are on the device; throws what the flush reported.
    public func wait() throws(StoreError) {
        condition.lock()
        while outcome == nil { condition.wait() }
        let result = outcome!
        condition.unlock()
        try result.get()
    }

    /// The file is being deleted (a refused or duplicate instance): a flush not yet started is skipped.
    public func discard() {
        condition.lock()
        discarded = true
        condition.unlock()
    }

    fileprivate func run() {
        condition.lock()
        let skip = discarded
        condition.unlock()
        // A discarded file was never flushed: anyone still waiting must not take it for durable.
        let result = skip ? .failure(StoreError("the flush of \(path) was discarded")) : Self.flush(path)
        condition.lock()
        outcome = result
        condition.broadcast()
        condition.unlock()
    }

    private static func flush(_ path: String) -> Result<Void, StoreError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.io("cannot open \(path) to sync it", errno: errno)) }
        defer { close(fd) }
        // fdatasync covers the size and the blocks of a new file: what reading it back needs.
        guard fdatasync(fd) == 0 else { return .failure(.io("fdatasync of \(path) failed", errno: errno)) }
        return .success(())
    }
}

/// The threads that run `PendingFlush`es, kept and reused: starting a thread per instance cost
/// more CPU on the acknowledgement path than the rest of the hand-off. A flush that finds no idle
/// thread gets a new one (fdatasync blocks, so N associations need N threads at once), up to
/// `limit`; beyond it, flushes wait for a free thread.
final class FlushThreads: @unchecked Sendable {
    // Safe: `queue`, `idle` and `started` are only touched under `condition`.
    /// As many as associations can be (`gateway.max_associations` is at most 1024): threads are
    /// only started when every one is busy, so the limit is reached only under that load.
    static let shared = FlushThreads(limit: 1024)

    private let condition = NSCondition()
    private var queue: [PendingFlush] = []
    private var idle = 0
    private var started = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Threads started so far (they are kept).
    var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return started
    }

    func run(_ flush: PendingFlush) {
        condition.lock()
        queue.append(flush)
        let grow = queue.count > idle && started < limit
        if grow { started += 1 }
        condition.signal()
        condition.unlock()
        if grow {
            let thread = Thread { [self] in loop() }
            thread.name = "file-flush"
            thread.stackSize = 128 * 1024
            thread.start()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let flush = queue.removeFirst()
            condition.unlock()
            flush.run()
        }
    }
}
