import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Pulls in a cluster (issue 16), against a real trust PACS (Orthanc) whose C-MOVEs go to the
/// cluster's AE behind haproxy: two reporters asking two nodes for the same uncached study cause
/// one fetch; the pull schedule runs on the leader only, and carries on on another node when the
/// leader is killed.
@Suite(.serialized) struct ClusterPullTests {
    static func sql(_ rig: ClusterRig, _ query: String) -> String { (try? rig.sql(query)) ?? "" }

    @Test func twoReportersOnTwoNodesCauseOneFetch() async throws {
        let (portA, hubPort) = (Net.freePort(), Net.freePort())
        let rig = try ClusterRig(nodes: 2, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [reporter] }
            """)
        // The trust sends its C-MOVE sub-operations to the cluster's AE, through the load balancer.
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: rig.dir,
                                             modalities: ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: rig.frontPort)],
                                             dicomPort: portA)
        let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH", instances: 6)
        try await a.load([jane], writingIn: rig.dir.sub("a-files"))
        try await OffPool.run { try rig.start() }
        let received = rig.dir.sub("hub")
        let hub = PeerProcess("storescp", ["--fork", "+uf", "-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: rig.dir.path)
        try hub.start()
        defer { hub.stop() }
        #expect(try await OffPool.run { Net.waitForListener(hubPort) })

        // The two reporters' C-MOVEs, at the same time, each to another node.
        let moves = rig.nodes.map { node in
            PeerProcess("movescu", ["-v", "-S", "-aet", "HUB_READ", "-aec", "NETGW", "-aem", "HUB_READ",
                                    "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(jane.studyUID)",
                                    "127.0.0.1", "\(node.port)"], logDirectory: rig.dir.path)
        }
        for m in moves { try m.start() }
        for m in moves {
            let status = try await OffPool.run { m.wait(timeout: 120) }
            #expect(status == 0, "movescu failed:\n\(m.output.suffix(2000))")
            #expect(m.output.contains("Received Final Move Response (Success)"), "\(m.output.suffix(1500))")
        }
        let delivered = (try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []
        #expect(delivered.count == 12, "both reporters get all 6 instances: \(delivered.count)")
        #expect(Self.sql(rig, "SELECT count(*) FROM instance") == "6")
        // One retrieve from the trust: one pull in the shared audit trail, and the claim is gone.
        let pulls = try await OffPool.run {
            _ = waitUntil(timeout: 5) { Self.sql(rig, "SELECT count(*) FROM audit WHERE event = 'pull'") != "0" }
            usleep(500_000)
            return Self.sql(rig, "SELECT count(*) || ' ' || string_agg(outcome, ',') FROM audit WHERE event = 'pull' AND studyUID = '\(jane.studyUID)'")
        }
        #expect(pulls == "1 complete", "the study was fetched from the trust more than once (or never): \(pulls)")
        #expect(Self.sql(rig, "SELECT count(*) FROM fetch_claim") == "0", "a finished fetch gives its claim up")

        // The dashboard of either node, in a real browser, shows both nodes, which one leads and which one it is.
        let dom = try await HeadlessChromium.dumpDOM("http://127.0.0.1:\(rig.nodes[1].httpPort)/dashboard", in: rig.dir)
        let section = DOMElement.all(in: dom, "section", ["id": "cluster-section"]).first
        #expect(section != nil && section?["hidden"] == nil, "the cluster section is not shown\n\(dom.prefix(20_000))")
        let rows = section?.all("tr", class: "alive") ?? []
        #expect(rows.compactMap { $0["data-node"] } == ["gw-0", "gw-1"], "\(section?.text ?? dom.prefix(20_000).description)")
        #expect(rows.filter { $0.text.contains("leader") }.count == 1, "\(section?.text ?? "")")
        #expect(rows.last?.text.contains("(this node)") == true && rows.first?.text.contains("(this node)") == false,
                "\(section?.text ?? "")")
        await OrthancPeer.stopAll([a])
    }

    @Test func killNineOfThePullLeaderAnotherNodeCarriesOnTheSchedule() async throws {
        let portA = Net.freePort()
        let rig = try ClusterRig(nodes: 2, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source],
                         pull: { interval: 2s, lookback: 1d } }
            """)
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: rig.dir,
                                             modalities: ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: rig.frontPort)],
                                             dicomPort: portA)
        let today = FederationTests.today
        let first = TrustStudy(patientID: "111", patientName: "First^Pat", issuer: nil, studyDate: today, instances: 3)
        try await a.load([first], writingIn: rig.dir.sub("a-files"))
        try await OffPool.run { try rig.start() }  // gw-0 starts first, so it leads

        let cached: @Sendable (String) -> String = { uid in
            Self.sql(rig, "SELECT count(*) FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef WHERE s.studyUID = '\(uid)'")
        }
        let firstPulled = try await OffPool.run { waitUntil(timeout: 60) { cached(first.studyUID) == "3" } }
        #expect(firstPulled, "the leader did not pull the trust's study: \(cached(first.studyUID))")
        #expect(Self.sql(rig, "SELECT node FROM cluster_node WHERE leader = 1") == "gw-0")

        rig.nodes[0].kill9()
        let second = TrustStudy(patientID: "222", patientName: "Second^Pat", issuer: nil, studyDate: today, instances: 2)
        try await a.load([second], writingIn: rig.dir.sub("a-more"))
        let takenOver = try await OffPool.run {
            waitUntil(timeout: 30) { Self.sql(rig, "SELECT node FROM cluster_node WHERE leader = 1") == "gw-1" }
        }
        #expect(takenOver, "gw-1 did not take the lead: \(Self.sql(rig, "SELECT node || ':' || leader FROM cluster_node"))")
        let secondPulled = try await OffPool.run { waitUntil(timeout: 60) { cached(second.studyUID) == "2" } }
        let log = rig.nodes[1].peer?.output.suffix(3000) ?? ""
        #expect(secondPulled, "the new leader did not carry on the trust's pull schedule: \(cached(second.studyUID))\n\(log)")
        #expect(cached(first.studyUID) == "3", "the first study is still whole")
        await OrthancPeer.stopAll([a])
    }
}
