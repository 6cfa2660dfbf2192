import Foundation

/// Wakes delivery workers when work is queued for their destination (instead of polling the
/// index), and tells them to stop. Work queued by another process (`dicom-gateway queue replay`)
/// is still found: waits time out after a second. In a cluster, work queued here also rings the
/// other nodes (`ring`, LISTEN/NOTIFY), and their rings wake this node's workers (`wake`).
final class DeliverySignal: Sendable {
    // Safe to share: every field is only touched under `condition`.
    private let state = LockedState()
    private let ring: (@Sendable (String) -> Void)?

    init(ring: (@Sendable (String) -> Void)? = nil) {
        self.ring = ring
    }

    private final class LockedState: @unchecked Sendable {
        // Safe: `generations` and `stopped` are only read or written while holding `condition`.
        let condition = NSCondition()
        var generations: [String: UInt64] = [:]
        /// Added to every destination's generation: `wake(nil)` wakes them all.
        var everyone: UInt64 = 0

        func generation(_ destination: String) -> UInt64 { (generations[destination] ?? 0) &+ everyone }
        var stopped = false
    }

    /// New work of any class was queued for `destination` (here: the other nodes are rung too).
    func notify(_ destination: String) {
        wake(destination)
        ring?(destination)
    }

    /// Wakes this node's workers for `destination` (nil: every destination's), without ringing
    /// the other nodes: for work another node queued.
    func wake(_ destination: String?) {
        state.condition.lock()
        if let destination {
            state.generations[destination, default: 0] &+= 1
        } else {
            state.everyone &+= 1
        }
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// A counter that changes whenever `notify(destination)` is called.
    func generation(_ destination: String) -> UInt64 {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.generation(destination)
    }

    /// Blocks until work is queued for `destination` after `since`, `timeout` passes, or `stop()`.
    func wait(_ destination: String, since: UInt64, timeout: TimeInterval) {
        let deadline = Date().addingTimeInterval(timeout)
        state.condition.lock()
        defer { state.condition.unlock() }
        while !state.stopped && state.generation(destination) == since {
            if !state.condition.wait(until: deadline) { return }
        }
    }

    func stop() {
        state.condition.lock()
        state.stopped = true
        state.condition.broadcast()
        state.condition.unlock()
    }

    var isStopped: Bool {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.stopped
    }
}
