import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Nothing acknowledged is lost on the way out either: kill -9 the gateway while it forwards,
/// restart it, and every acknowledged instance reaches the destination; duplicates come only
/// from the deliveries in flight at each kill.
@Suite(.serialized) struct DeliveryCrashTests {
    @Test func killNineDuringForwardingDeliversEveryAcknowledgedInstance() async throws {
        let dir = TestDirectory("fwdcrash")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination], max_associations: 1 }
            delivery: { batch_size: 16 }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        let received = dir.sub("hub")
        // +uf: a second copy of an instance gets its own file, so duplicates can be counted.
        let hub = PeerProcess("storescp", ["+uf", "-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        // Enough that both kills land while storescu is still sending (ingest takes 300-500 small
        // instances a second here; the kills come 0.4-1.5 s into a round).
        let files = try TestData.study(in: dir.sub("in"), count: 1200, rows: 64, columns: 64)
        var acknowledged: Set<String> = []
        var kills = 0
        var killsWithWorkOutstanding = 0
        let census = ReceivedCensus(directory: received)
        for round in 1...3 {
            try gateway.start()
            // Everything not yet acknowledged is sent (again); identical copies are idempotent.
            let pending = files.filter { !acknowledged.contains($0) }
            if pending.isEmpty { break }  // every instance acknowledged before the last round
            let sender = PeerProcess("storescu", ["-v", "-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + pending,
                                     logDirectory: dir.path)
            try sender.start()
            if round < 3 {
                usleep(UInt32.random(in: 400_000...1_500_000))
                // The destination stops answering for a moment, so the kill lands with a delivery in
                // flight (forwarding keeps up with ingest here, and the queue is often empty).
                hub.signal(SIGSTOP)
                usleep(200_000)
                gateway.kill9()
                hub.signal(SIGCONT)
                kills += 1
                _ = sender.wait(timeout: 60)
                acknowledged.formUnion(acknowledgedFiles(storescuOutput: sender.output))
                if try !outstandingDeliveries(gateway).isEmpty { killsWithWorkOutstanding += 1 }
            } else {
                #expect(sender.wait(timeout: 120) == 0, "\(sender.output.suffix(1500))")
                acknowledged.formUnion(acknowledgedFiles(storescuOutput: sender.output))
            }
        }
        #expect(acknowledged.count == files.count, "the last round should have sent everything")
        let expected = Set(try acknowledged.map { try DicomFile.probe($0).sopInstanceUID })
        let complete = Arrivals.wait(in: received, timeout: 180, poll: 0.5) { _ in census.distinct().isSuperset(of: expected) }
        if !complete {
            let missing = expected.subtracting(census.distinct())
            Issue.record("""
                missing at the destination: \(missing.count) of \(expected.count), e.g. \(missing.prefix(3))
                queue: \(try outstandingDeliveries(gateway).prefix(2000))
                gateway log: \(gateway.peer?.output.suffix(4000) ?? "")
                """)
        }
        let duplicates = census.fileCount() - census.distinct().count
        // In flight at a kill: one batch of 16 plus outcomes not yet committed (a few hundred ms of work).
        #expect(duplicates <= kills * 64, "\(duplicates) duplicate deliveries after \(kills) kills")
        #expect(killsWithWorkOutstanding > 0, "every kill came after forwarding had finished: the test proved nothing")
        print("forwarding crash: \(kills) kills, \(killsWithWorkOutstanding) with work outstanding, \(duplicates) duplicates")
        #expect(gateway.terminate() == 0)
    }
}

/// `dicom-gateway queue list` of every delivery not done, read from the index directly.
func outstandingDeliveries(_ gateway: GatewayProcess) throws -> String {
    let (status, output) = try PeerProcess(GatewayProcess.binary, [
        "queue", "list", "--config", gateway.configPath, "--state", "queued", "--state", "failed", "--state", "inflight",
        "--state", "dead",
    ], logDirectory: gateway.directory.path).run(timeout: 60)
    guard status == 0 else { throw TestFailure("queue list failed: \(output)") }
    return output.contains("no matching deliveries") ? "" : output
}

/// The SOP Instance UIDs in a receiving directory (each file read once it is complete).
final class ReceivedCensus: @unchecked Sendable {
    // Safe: used from the test's own thread only.
    let directory: String
    private var known: [String: String] = [:]  // file name -> SOP Instance UID

    init(directory: String) { self.directory = directory }

    private func refresh() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where known[name] == nil {
            if let info = try? DicomFile.probe(directory + "/" + name) { known[name] = info.sopInstanceUID }
        }
    }

    func distinct() -> Set<String> { refresh(); return Set(known.values) }
    func distinctCount() -> Int { distinct().count }
    func fileCount() -> Int { refresh(); return known.count }
}
