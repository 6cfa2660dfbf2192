import Foundation

/// Wakes delivery workers when work is queued for their destination (instead of polling the
/// index), and tells them to stop. Work queued by another process (`dicom-gateway queue replay`)
/// is still found: waits time out after a second.
final class DeliverySignal: Sendable {
    // Safe to share: every field is only touched under `condition`.
    private let state = LockedState()

    private final class LockedState: @unchecked Sendable {
        // Safe: `generations` and `stopped` are only read or written while holding `condition`.
        let condition = NSCondition()
        var generations: [String: UInt64] = [:]
        var stopped = false
    }

    /// New work of any class was queued for `destination`.
    func notify(_ destination: String) {
        state.condition.lock()
        state.generations[destination, default: 0] &+= 1
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// A counter that changes whenever `notify(destination)` is called.
    func generation(_ destination: String) -> UInt64 {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.generations[destination] ?? 0
    }

    /// Blocks until work is queued for `destination` after `since`, `timeout` passes, or `stop()`.
    func wait(_ destination: String, since: UInt64, timeout: TimeInterval) {
        let deadline = Date().addingTimeInterval(timeout)
        state.condition.lock()
        defer { state.condition.unlock() }
        while !state.stopped && (state.generations[destination] ?? 0) == since {
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
