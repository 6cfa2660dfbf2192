import Foundation

/// Background jobs that talk to a source, run at most `limit` at a time per source, in the order
/// they came: a burst of new studies cannot start a thread each, and a source that is slow or down
/// holds up only its own jobs. Threads are started on demand and end when their source's queue
/// is empty.
final class PerSourceQueue: @unchecked Sendable {
    // Safe: `pending` and `running` are only touched under `lock`.
    private let lock = NSLock()
    private var pending: [String: [@Sendable () -> Void]] = [:]
    private var running: [String: Int] = [:]
    let limit: Int
    let threadName: String

    init(limit: Int, threadName: String) {
        self.limit = max(1, limit)
        self.threadName = threadName
    }

    func submit(source: String, _ job: @escaping @Sendable () -> Void) {
        let startWorker: Bool = lock.withLock {
            pending[source, default: []].append(job)
            guard running[source, default: 0] < limit else { return false }
            running[source, default: 0] += 1
            return true
        }
        guard startWorker else { return }
        let thread = Thread { [self] in self.work(source: source) }
        thread.name = "\(threadName)-\(source)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Jobs queued or running for `source`.
    func depth(source: String) -> Int {
        lock.withLock { pending[source, default: []].count + running[source, default: 0] }
    }

    private func work(source: String) {
        while let job = next(source: source) { job() }
    }

    private func next(source: String) -> (@Sendable () -> Void)? {
        lock.withLock {
            guard var queue = pending[source], !queue.isEmpty else {
                running[source, default: 1] -= 1
                pending[source] = nil
                return nil
            }
            let job = queue.removeFirst()
            pending[source] = queue
            return job
        }
    }
}
