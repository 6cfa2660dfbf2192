import Foundation
import Testing
@testable import GatewayRetrieval

/// `PerSourceQueue`: a burst of jobs runs at most `limit` at a time per source, in order, and a
/// source whose jobs hang does not hold up another's.
@Suite struct PerSourceQueueTests {
    /// Counts jobs running now, the most ever running at once, and the order they started in.
    final class Probe: @unchecked Sendable {
        // Safe: every field is only touched under `condition`.
        let condition = NSCondition()
        var running = 0, most = 0, finished = 0
        var started: [Int] = []
        var open = false

        func job(_ n: Int) -> @Sendable () -> Void {
            { [self] in
                condition.lock()
                running += 1
                most = max(most, running)
                started.append(n)
                condition.broadcast()
                while !open { condition.wait() }
                running -= 1
                finished += 1
                condition.broadcast()
                condition.unlock()
            }
        }

        /// Waits until `predicate` holds (true) or 10 s pass (false).
        func wait(_ predicate: (Probe) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(10)
            condition.lock()
            defer { condition.unlock() }
            while !predicate(self) { if !condition.wait(until: deadline) { return predicate(self) } }
            return true
        }

        /// The jobs started so far, read under the lock.
        var startedNow: [Int] {
            condition.lock()
            defer { condition.unlock() }
            return started
        }

        func release() {
            condition.lock()
            open = true
            condition.broadcast()
            condition.unlock()
        }
    }

    @Test func aBurstRunsAtMostTheLimitAtOnceInOrderAndAllFinish() {
        let queue = PerSourceQueue(limit: 2, threadName: "test")
        let probe = Probe()
        for n in 0..<20 { queue.submit(source: "A", probe.job(n)) }
        #expect(probe.wait { $0.running == 2 })
        usleep(100_000)  // a third would have started by now if the limit did not hold
        #expect(probe.wait { $0.most == 2 && $0.running == 2 })
        #expect(queue.depth(source: "A") == 20)
        // The two running are the first two that came; which of them reached the probe first is
        // up to the scheduler.
        #expect(Set(probe.startedNow) == [0, 1])
        probe.release()
        #expect(probe.wait { $0.finished == 20 })
        #expect(probe.most == 2)
        #expect(probe.startedNow.sorted() == Array(0..<20), "every job ran once")
        // The queue's own count drops when a worker finds its queue empty, after the last job.
        let deadline = Date().addingTimeInterval(10)
        while queue.depth(source: "A") != 0 && Date() < deadline { usleep(1_000) }
        #expect(queue.depth(source: "A") == 0)
    }

    /// One at a time, jobs run strictly in the order they came.
    @Test func withALimitOfOneJobsRunInTheOrderTheyCame() {
        let queue = PerSourceQueue(limit: 1, threadName: "test")
        let probe = Probe()
        for n in 0..<20 { queue.submit(source: "A", probe.job(n)) }
        #expect(probe.wait { $0.running == 1 })
        #expect(queue.depth(source: "A") == 20)
        probe.release()
        #expect(probe.wait { $0.finished == 20 })
        #expect(probe.most == 1)
        #expect(probe.startedNow == Array(0..<20), "jobs start in the order they came")
    }

    @Test func aSourceWhoseJobsHangDoesNotHoldUpAnother() {
        let queue = PerSourceQueue(limit: 1, threadName: "test")
        let stuck = Probe()
        queue.submit(source: "DOWN", stuck.job(0))
        queue.submit(source: "DOWN", stuck.job(1))
        #expect(stuck.wait { $0.running == 1 })
        let other = Probe()
        other.release()
        queue.submit(source: "UP", other.job(0))
        #expect(other.wait { $0.finished == 1 }, "the other source's job ran while DOWN's hung")
        #expect(stuck.finished == 0)
        stuck.release()
        #expect(stuck.wait { $0.finished == 2 })
    }
}
