import Foundation

/// Whether this node runs the cluster's singletons now (pull schedules, retention, worklist
/// allocation and review, the orphan watch). A gateway on SQLite is alone, and always leads;
/// on PostgreSQL one node at a time holds the leader lock (`PostgresLeaderLock`), and another
/// takes it within seconds when that node dies.
public final class Leadership: @unchecked Sendable {
    // Safe: the fields are only touched under `lock`.
    private let lock = NSLock()
    private var leading: Bool
    private var gains = 0

    /// A node on its own: always the leader.
    public static func alone() -> Leadership { Leadership(leading: true) }

    public init(leading: Bool) {
        self.leading = leading
        gains = leading ? 1 : 0
    }

    public var isLeader: Bool { lock.withLock { leading } }

    /// How many times this node became the leader (a singleton re-reads its state when it grows).
    public var term: Int { lock.withLock { gains } }

    /// Records what the leader lock says; returns true when this node just became the leader.
    @discardableResult
    public func set(leading now: Bool) -> Bool {
        lock.withLock {
            let gained = now && !leading
            if gained { gains += 1 }
            leading = now
            return gained
        }
    }
}
