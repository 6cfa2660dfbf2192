import DicomCore
import DicomNetwork
import Foundation
import Testing

/// A node of the cluster dies (kill -9) while it holds deliveries in flight and the leader lock
/// (issue 16): the other node becomes the leader, takes the dead node's deliveries back when its
/// leases expire (within seconds), and everything acknowledged reaches the destination, sent
/// twice at most for the instances the dead node had in flight.
@Suite(.serialized) struct ClusterTakeoverTests {
    @Test func killNineOfTheLeaderWhileItForwardsLosesNothing() throws {
        let hubPort = Net.freePort()
        let rig = try ClusterRig(nodes: 2, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination], max_associations: 1 }
            delivery: { batch_size: 8 }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        let (hub, received) = try rig.startHub(port: hubPort)
        defer { hub.stop() }
        // gw-0 starts first, so it takes the leader lock.
        try rig.start()
        #expect(waitUntil(timeout: 10) { (try? rig.sql("SELECT node FROM cluster_node WHERE leader = 1")) == "gw-0" },
                "gw-0 should lead: \((try? rig.sql("SELECT node || ':' || leader FROM cluster_node")) ?? "")")

        // The destination stops answering: both nodes' workers lease batches and hold them in flight.
        hub.signal(SIGSTOP)
        var expected = Set<String>()
        var senders: [PeerProcess] = []
        for s in 0..<2 {
            let files = try TestData.study(in: rig.dir.sub("in\(s)"), count: 30, patientID: "PID\(s)")
            expected.formUnion(try files.map { try DicomFile.probe($0).sopInstanceUID })
            let sender = PeerProcess("storescu", ["-v", "-to", "30", "-ta", "30", "-td", "30", "-aet", "TRUSTA_PACS", "-aec", "NETGW",
                                                  "127.0.0.1", "\(rig.frontPort)"] + files, logDirectory: rig.dir.path)
            try sender.start()
            senders.append(sender)
        }
        for sender in senders { #expect(sender.wait(timeout: 120) == 0, "\(sender.output.suffix(1500))") }
        #expect(try rig.sql("SELECT count(*) FROM instance") == "\(expected.count)")
        let heldByDead = waitUntil(timeout: 15) { (Int((try? rig.sql(Self.inFlight("gw-0"))) ?? "") ?? 0) > 0 }
        #expect(heldByDead, "gw-0 should hold deliveries in flight before it dies")
        let inFlightAtKill = Int(try rig.sql(Self.inFlight("gw-0"))) ?? 0

        let killed = Date()
        rig.nodes[0].kill9()
        // gw-1 takes the lead, and gw-0's deliveries go back to the queue once its leases expire.
        #expect(waitUntil(timeout: 10) { (try? rig.sql("SELECT count(*) FROM cluster_node WHERE node = 'gw-1' AND leader = 1")) == "1" },
                "gw-1 should lead after gw-0 died")
        let takenBack = waitUntil(timeout: 20, poll: 0.2) { (try? rig.sql(Self.inFlight("gw-0"))) == "0" }
        let takeover = Date().timeIntervalSince(killed)
        #expect(takenBack && takeover < 10, "gw-0's deliveries were taken back after \(takeover) s (target < 10 s)")
        print("cluster takeover: \(inFlightAtKill) deliveries in flight on the dead node, taken back after \(String(format: "%.1f", takeover)) s")

        hub.signal(SIGCONT)
        let census = ReceivedCensus(directory: received)
        let complete = Arrivals.wait(in: received, timeout: 120, poll: 0.5) { _ in census.distinct().isSuperset(of: expected) }
        #expect(complete, "\(census.distinctCount()) of \(expected.count) arrived")
        usleep(1_000_000)
        let duplicates = census.fileCount() - census.distinctCount()
        #expect(duplicates <= inFlightAtKill, "\(duplicates) duplicates; only the \(inFlightAtKill) in flight on the dead node may repeat")
        #expect(waitUntil(timeout: 20) { (try? rig.sql("SELECT count(*) FROM delivery WHERE state <> 'done'")) == "0" })
    }

    static func inFlight(_ node: String) -> String {
        "SELECT count(*) FROM delivery WHERE state = 'inflight' AND leasedBy = '\(node)'"
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Double, poll: Double = 0.25, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(poll * 1_000_000))
    }
    return condition()
}
