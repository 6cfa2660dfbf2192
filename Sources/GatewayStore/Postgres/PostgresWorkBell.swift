import Foundation
import Logging

/// The cluster's doorbell for queued work, on PostgreSQL's LISTEN/NOTIFY: a node that queues
/// deliveries for a destination rings it, and every other node's workers for that destination
/// wake at once instead of at their next poll (they still poll each second, so a lost ring only
/// delays work). Rings are coalesced: each name is sent at most once per pass, after the commit
/// that queued the work (a notification is only ever a hint: the index holds the work).
///
/// One connection of its own, kept open by `run` (made again when lost, e.g. while PostgreSQL
/// restarts), carries both the LISTEN and the NOTIFYs.
public final class PostgresWorkBell: @unchecked Sendable {
    // Safe: `pending` and `stopped` are only touched under `condition`; `connection` only by `run`'s thread.
    public static let channel = "dicom_gateway_work"
    /// The shortest time between two passes of rings (the most a ring waits to be sent).
    static let interval: TimeInterval = 0.05
    private let settings: PostgresIndexSettings
    private let node: String
    private let logger: Logger
    private let condition = NSCondition()
    private var pending = Set<String>()
    private var stopped = false
    private var connection: PostgresIndexConnection?

    public init(settings: PostgresIndexSettings, node: String, logger: Logger) {
        self.settings = settings
        self.node = node
        self.logger = logger
    }

    /// Queues `name` (a destination) to be rung on the other nodes; never blocks.
    public func ring(_ name: String) {
        condition.lock()
        pending.insert(name)
        condition.signal()
        condition.unlock()
    }

    /// Runs until `stop()`: keeps the listening connection, sends what `ring` queued, and hands
    /// each name another node rang to `heard` (its own rings are not handed back); nil when the
    /// connection was (re)made, since work may have been queued while nobody listened.
    public func run(heard: @escaping @Sendable (String?) -> Void) {
        let node = self.node
        var failures = 0
        var lastPass = Date.distantPast
        while true {
            condition.lock()
            if pending.isEmpty && !stopped { _ = condition.wait(until: Date().addingTimeInterval(1)) }
            // At most one pass per `interval`: a stream of instances rings each destination once per pass, not once each.
            let next = lastPass.addingTimeInterval(Self.interval)
            while !stopped && Date() < next { _ = condition.wait(until: next) }
            lastPass = Date()
            let names = pending
            pending.removeAll()
            let stop = stopped
            condition.unlock()
            if stop { break }
            do {
                let db = try listening(made: { heard(nil) }, heard: { payload in
                    // "<node>\t<name>": a node's own rings come back to it too.
                    let parts = payload.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                    guard parts.count == 2, parts[0] != node else { return }
                    heard(String(parts[1]))
                })
                for name in names.sorted() {
                    try db.execute("SELECT pg_notify(?, ?)", [Self.channel, "\(node)\t\(name)"])
                }
                if failures > 0 { logger.notice("the cluster's work notifications are carried again") }
                failures = 0
            } catch {
                // Lost rings only delay work until the other nodes' next poll.
                if failures == 0 {
                    logger.warning("cannot reach the index for the cluster's work notifications; other nodes find new work by polling",
                                   metadata: ["error": "\(error)"])
                }
                failures += 1
                connection?.close()
                connection = nil
                condition.lock()
                if !stopped { _ = condition.wait(until: Date().addingTimeInterval(1)) }
                condition.unlock()
            }
        }
        connection?.close()
        connection = nil
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func listening(made: () -> Void, heard: @escaping @Sendable (String) -> Void) throws -> PostgresIndexConnection {
        if let connection, connection.isOpen { return connection }
        connection?.close()
        let fresh = try PostgresIndexConnection(
            endpoint: settings.endpoint, password: settings.password,
            connectTimeout: .seconds(Int64(settings.connectTimeoutSeconds)), logger: logger)
        try fresh.listen(Self.channel, heard: heard)
        connection = fresh
        made()
        return fresh
    }
}
