import DicomCore
import Foundation
import Testing

/// Connections that never send their A-ASSOCIATE-RQ, or drip it a byte at a time, must not cost a
/// real caller anything: the gateway reads every waiting connection's request at once (never one
/// after another), closes those that take longer than `limits.association_request_timeout`, and
/// lets a newer connection from an address with too many waiting ones close the oldest.
@Suite(.serialized) struct IdleConnectionTests {
    static let idle = 200
    static let dripping = 20

    @Test func storeKeepsItsLatencyWhile200IdleAndDrippingConnectionsAreOpen() async throws {
        let dir = TestDirectory("idle")
        let gateway = try GatewayProcess(directory: dir, extraYAML: "limits: { association_request_timeout: 2s, max_pending_per_address: 1000 }")
        let process = try gateway.start()
        let pid = process.process.processIdentifier
        func timedStore(_ label: String) async throws -> Duration {
            let files = try TestData.study(in: dir.sub(label), count: 20)
            let sender = PeerProcess("storescu", ["-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files, logDirectory: dir.path)
            let clock = ContinuousClock()
            let start = clock.now
            let (status, out) = try await sender.runOffPool(timeout: 60)
            #expect(status == 0, "storescu failed while idle connections were open: \(out)")
            return clock.now - start
        }
        _ = try await timedStore("warm")
        try await Task.sleep(for: .milliseconds(500))
        let baselineFDs = ProcessProbe.openFiles(pid)
        let baselineThreads = ProcessProbe.threads(pid)
        let baseline = try await timedStore("baseline")

        var idle: [RawConnection] = []
        for _ in 0..<Self.idle { if let c = RawConnection(port: gateway.port) { idle.append(c) } }
        #expect(idle.count == Self.idle, "could not open \(Self.idle) connections")
        let drip = Dripper(port: gateway.port, connections: Self.dripping)
        drip.start()
        try await Task.sleep(for: .milliseconds(300))
        let loaded = try await timedStore("loaded")
        #expect(loaded < baseline * 2 + .milliseconds(500),
                "20 instances took \(loaded) with \(Self.idle) idle and \(Self.dripping) dripping connections open, \(baseline) without")

        // Past the request timeout every waiting connection is closed by the gateway, dripping or not.
        try await Task.sleep(for: .seconds(3))
        #expect(drip.closedByPeer() == Self.dripping, "dripping connections must be closed after the request timeout")
        drip.stop()
        for c in idle { c.close() }
        #expect(await OffPool.waitUntil(timeout: 10) { ProcessProbe.openFiles(pid) <= baselineFDs + 2 },
                "open descriptors \(ProcessProbe.openFiles(pid)) did not return to \(baselineFDs)")
        #expect(ProcessProbe.threads(pid) <= baselineThreads + 2, "threads \(ProcessProbe.threads(pid)) against \(baselineThreads) before")
        let echo = try await PeerProcess("echoscu", ["-aec", "NETGW", "127.0.0.1", "\(gateway.port)"], logDirectory: dir.path)
            .runOffPool(timeout: 30)
        #expect(echo.status == 0, "\(echo.output)")
        #expect(gateway.terminate() == 0)
    }

    @Test func aConnectionThatSendsNothingIsClosedAfterTheRequestTimeout() async throws {
        let dir = TestDirectory("idle")
        let gateway = try GatewayProcess(directory: dir, extraYAML: "limits: { association_request_timeout: 1s }")
        try gateway.start()
        let c = try #require(RawConnection(port: gateway.port))
        let clock = ContinuousClock()
        let start = clock.now
        let closed = await OffPool.waitUntil(timeout: 5) { c.peerClosed() }
        #expect(closed, "the gateway must close a connection that sends no A-ASSOCIATE-RQ")
        #expect(clock.now - start < .seconds(3))
        c.close()
        #expect(gateway.terminate() == 0)
    }
}

/// Connections that send the start of an A-ASSOCIATE-RQ one byte every 200 ms, from a thread.
final class Dripper: @unchecked Sendable {
    // Safe: `connections` and `closed` are touched under `lock` only.
    private let lock = NSLock()
    private var connections: [RawConnection] = []
    private var closed = Set<Int>()
    private var running = true
    private let header: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00] + Array(repeating: 0x41, count: 64)

    init(port: Int, connections count: Int) {
        for _ in 0..<count { if let c = RawConnection(port: port) { connections.append(c) } }
    }

    func start() {
        let thread = Thread { [self] in
            var i = 0
            while lock.withLock({ running }) && i < header.count {
                lock.withLock {
                    for (n, c) in connections.enumerated() where !closed.contains(n) {
                        if !c.sendChecked([header[i]]) || c.peerClosed() { closed.insert(n) }
                    }
                }
                i += 1
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        thread.start()
    }

    func closedByPeer() -> Int {
        lock.withLock {
            for (n, c) in connections.enumerated() where !closed.contains(n) && c.peerClosed() { closed.insert(n) }
            return closed.count
        }
    }

    func stop() {
        lock.withLock {
            running = false
            for c in connections { c.close() }
        }
    }
}

/// Descriptor and thread counts of a process, from /proc.
enum ProcessProbe {
    static func openFiles(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    static func threads(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1
    }

    /// Resident memory in KiB.
    static func residentKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
}
