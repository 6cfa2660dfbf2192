import Foundation
import GatewayStore
import Logging
import Testing

/// The cluster's work notifications (LISTEN/NOTIFY) between two nodes' bells on a real PostgreSQL
/// started by the test: a ring reaches the other node and not its own, and both bells carry on
/// by themselves after the server restarts.
@Suite(.serialized, .enabled(if: PostgresServer.isInstalled, "PostgreSQL 15 is not installed (scripts/setup)"))
struct PostgresWorkBellTests {
    /// What one bell heard, in order ("*" for nil: the connection was made again).
    final class Heard: @unchecked Sendable {
        // Safe: `names` is only touched under `lock`.
        private let lock = NSLock()
        private var names: [String] = []
        func add(_ name: String?) { lock.withLock { names.append(name ?? "*") } }
        var all: [String] { lock.withLock { names } }

        /// Waits until `name` was heard (true) or `seconds` pass.
        func wait(for name: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if all.contains(name) { return true }
                usleep(20_000)
            }
            return all.contains(name)
        }
    }

    static func bell(_ server: PostgresServer, node: String) -> PostgresWorkBell {
        let settings = PostgresIndexSettings(
            endpoint: PostgresEndpoint(host: server.host, port: server.port, user: server.user, database: server.database),
            password: server.password, connectTimeoutSeconds: 2)
        return PostgresWorkBell(settings: settings, node: node, logger: Logger(label: "test.bell"))
    }

    static func start(_ bell: PostgresWorkBell, into heard: Heard) -> Thread {
        let thread = Thread { bell.run { heard.add($0) } }
        thread.start()
        return thread
    }

    @Test func ringReachesTheOtherNodeOnlyAndSurvivesARestart() async throws {
        try await PostgresIndexConnectionTests.offPool { check in
            let server = try PostgresServer()
            defer { server.stop() }
            let a = Self.bell(server, node: "gw-a"), b = Self.bell(server, node: "gw-b")
            let heardA = Heard(), heardB = Heard()
            _ = Self.start(a, into: heardA)
            _ = Self.start(b, into: heardB)
            defer { a.stop(); b.stop() }
            // Each bell announces its first connection with nil: its node looks for work queued meanwhile.
            check(heardA.wait(for: "*", seconds: 10), "", #line)
            check(heardB.wait(for: "*", seconds: 10), "", #line)

            let rung = Date()
            a.ring("HUB")
            a.ring("HUB")  // coalesced with the first when both wait for the same pass
            check(heardB.wait(for: "HUB", seconds: 5), "gw-b heard: \(heardB.all)", #line)
            check(Date().timeIntervalSince(rung) < 2, "a ring wakes the other node at once, not at its next poll", #line)
            b.ring("REPORTER-B")
            check(heardA.wait(for: "REPORTER-B", seconds: 5), "gw-a heard: \(heardA.all)", #line)
            usleep(300_000)
            check(!heardA.all.contains("HUB"), "a node never hears its own ring: \(heardA.all)", #line)
            check(!heardB.all.contains("REPORTER-B"), "a node never hears its own ring: \(heardB.all)", #line)

            // PostgreSQL restarts: both bells connect again by themselves, and rings flow again.
            let before = heardB.all.filter { $0 == "*" }.count
            server.stop()
            a.ring("LOST-WHILE-DOWN")  // a lost ring only delays work until the next poll
            try server.start()
            let deadline = Date().addingTimeInterval(15)
            while heardB.all.filter({ $0 == "*" }).count == before && Date() < deadline { usleep(50_000) }
            check(heardB.all.filter { $0 == "*" }.count > before, "gw-b reconnected and woke every worker: \(heardB.all)", #line)
            var arrived = false
            while !arrived && Date() < deadline {
                a.ring("AFTER-RESTART")
                arrived = heardB.wait(for: "AFTER-RESTART", seconds: 1)
            }
            check(arrived, "rings flow again after the restart: \(heardB.all)", #line)
        }
    }
}
