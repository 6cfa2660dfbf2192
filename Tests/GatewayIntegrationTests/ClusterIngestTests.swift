import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Two gateway nodes on one PostgreSQL index and one storage directory, behind haproxy
/// (issue 16): any node serves any association, every instance is indexed once and delivered
/// once to its destination, whichever node received it.
@Suite(.serialized) struct ClusterIngestTests {
    @Test func parallelStoresThroughHAProxyAreIndexedOnceAndDeliveredOnce() throws {
        let hubPort = Net.freePort()
        let rig = try ClusterRig(nodes: 2, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination], max_associations: 2 }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        let (hub, received) = try rig.startHub(port: hubPort)
        defer { hub.stop() }
        try rig.start()

        // Four senders at once through the load balancer, a study each.
        let perSender = 40
        var senders: [PeerProcess] = []
        var expected = Set<String>()
        for s in 0..<4 {
            let files = try TestData.study(in: rig.dir.sub("in\(s)"), count: perSender, patientID: "PID\(s)")
            expected.formUnion(try files.map { try DicomFile.probe($0).sopInstanceUID })
            // Timeouts, so a stalled association fails with a message instead of waiting out the test.
            let sender = PeerProcess("storescu", ["-v", "-to", "30", "-ta", "30", "-td", "30", "-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(rig.frontPort)"] + files,
                                     logDirectory: rig.dir.path)
            try sender.start()
            senders.append(sender)
        }
        for sender in senders { #expect(sender.wait(timeout: 120) == 0, "\(sender.output.suffix(1500))") }

        // Indexed once each, in the shared index.
        #expect(try rig.sql("SELECT count(*) || ' ' || count(DISTINCT sopUID) FROM instance") == "\(expected.count) \(expected.count)")
        // Both nodes received some (their prepared-file runs are named after them).
        for node in ["gw-0", "gw-1"] {
            let n = Int(try rig.sql("SELECT count(*) FROM instance WHERE path LIKE 'files/\(node).%'")) ?? 0
            #expect(n > 0, "node \(node) received no instance: haproxy should spread the associations")
        }
        // Delivered once each: every instance reaches the hub, and no file twice.
        let census = ReceivedCensus(directory: received)
        let complete = Arrivals.wait(in: received, timeout: 120, poll: 0.5) { _ in census.distinct().isSuperset(of: expected) }
        #expect(complete, "\(census.distinctCount()) of \(expected.count) arrived")
        usleep(1_000_000)  // a duplicate would come just after
        #expect(census.fileCount() == expected.count, "\(census.fileCount() - expected.count) duplicate deliveries")
        #expect(try rig.sql("SELECT count(*) FROM delivery WHERE state <> 'done'") == "0")
        // The hub's max_associations (2) held across the cluster: two slots, each held by one node at most.
        #expect(try rig.sql("SELECT count(*) || ' ' || COALESCE(max(slot), -1) FROM delivery_slot WHERE destination = 'HUB' AND holder <> ''")
                    .split(separator: " ").first.flatMap { Int($0) }.map { $0 <= 2 } == true)
        #expect(try rig.sql("SELECT count(*) FROM delivery_slot WHERE destination = 'HUB' AND slot >= 2") == "0")
        // Both nodes are in the cluster's table, one of them leading.
        #expect(try rig.sql("SELECT string_agg(node || ':' || leader, ',' ORDER BY node) FROM cluster_node")
                    .split(separator: ",").count == 2)
        #expect(try rig.sql("SELECT count(*) FROM cluster_node WHERE leader = 1") == "1")
        // Any node's API shows the whole cluster; /health says which engine and that storage is reachable.
        let api = HTTPProbe(port: rig.nodes[1].httpPort)
        let nodes = try api.get("/api/v1/cluster").array()
        #expect(nodes.map { $0["node"] as? String } == ["gw-0", "gw-1"], "\(nodes)")
        #expect(nodes.filter { $0["leader"] as? Bool == true }.count == 1 && nodes.allSatisfy { $0["alive"] as? Bool == true },
                "\(nodes)")
        // Work queued on one node rang the other (LISTEN/NOTIFY): each heard the other's deliveries.
        for node in rig.nodes {
            let heard = AdminHTTPTests.sample(try HTTPProbe(port: node.httpPort).get("/metrics").text,
                                              "dicom_gateway_cluster_rings_heard_total") ?? 0
            #expect(heard > 0, "node on port \(node.httpPort) heard no ring from the other")
        }
        let health = try api.get("/health")
        let view = try health.object()
        #expect(health.status == 200 && view["index_engine"] as? String == "postgresql" && view["node"] as? String == "gw-1"
                && view["storage"] as? String == "ok", "\(health.text)")
    }
}
