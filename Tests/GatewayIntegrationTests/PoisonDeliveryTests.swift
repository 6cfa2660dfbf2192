import DicomCore
import DicomNetwork
import Foundation
import Testing

/// No crash loops: an instance whose sending kills the process (a parser overflowing its stack,
/// simulated by a test failpoint that raises SIGSEGV on the sending thread) is quarantined at the
/// next start, never retried by itself, and the rest of the queue flows.
@Suite(.serialized) struct PoisonDeliveryTests {
    @Test func aDeliveryThatCrashedTheGatewayIsQuarantinedAndTheRestIsDelivered() async throws {
        let dir = TestDirectory("poison")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination], max_associations: 1 }
            delivery: { batch_size: 1 }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        // The first run crashes on the first instance it sends (the destination is down while storing).
        let crashing = try gateway.start(environment: ["DICOM_GATEWAY_FAILPOINT": "crash:delivery\\t"])
        let files = try TestData.study(in: dir.sub("in"), count: 5)
        let (status, out) = try await PeerProcess("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files,
                                                  logDirectory: dir.path).runOffPool(timeout: 60)
        #expect(status == 0, "\(out)")
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        #expect(Net.waitForListener(hubPort), "storescp did not listen")
        _ = crashing.wait(timeout: 60)
        #expect(crashing.process.terminationReason == .uncaughtSignal, "the failpoint should have killed the gateway: \(crashing.output.suffix(2000))")
        #expect(crashing.output.contains("fatal signal while: delivery"), "the crash handler names what crashed: \(crashing.output.suffix(2000))")

        // The next start says what happened, quarantines that instance and sends the other four.
        let second = try gateway.start()
        let census = ReceivedCensus(directory: received)
        let delivered = Arrivals.wait(in: received, timeout: 60, poll: 0.2) { _ in census.distinctCount() >= 4 }
        #expect(delivered, "the rest of the queue must flow: \(census.distinctCount()) of 4\n\(second.output.suffix(3000))")
        #expect(second.output.contains("the previous run died of SIGSEGV"), "\(second.output.prefix(3000))")
        #expect(second.output.contains("quarantined"), "\(second.output.prefix(3000))")
        let quarantined = try PeerProcess(GatewayProcess.binary, ["queue", "list", "--config", gateway.configPath, "--state", "quarantined"],
                                          logDirectory: dir.path).run(timeout: 60)
        #expect(quarantined.output.components(separatedBy: "quarantined").count - 1 >= 1, "\(quarantined.output)")
        let http = HTTPProbe(port: gateway.httpPort)
        let nodes = try http.get("/api/v1/nodes").array()
        #expect(nodes.first { $0["name"] as? String == "HUB" }?["quarantined"] as? Int == 1, "\(nodes)")
        let audit = try http.get("/api/v1/audit?event=abnormal-end").array()
        #expect(audit.first?["outcome"] as? String == "SIGSEGV", "\(audit)")
        #expect(gateway.terminate() == 0)

        // And it stays quarantined: a clean restart sends nothing more and crashes nothing.
        let third = try gateway.start()
        try await Task.sleep(for: .seconds(2))
        #expect(third.process.isRunning)
        #expect(census.distinctCount() == 4, "a quarantined delivery must not be retried by itself")
        #expect(!third.output.contains("previous run died"), "a clean stop is not an abnormal end: \(third.output.prefix(2000))")
        #expect(gateway.terminate() == 0)
    }
}
