import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Routed deliveries are queued in the transaction that acknowledges the C-STORE, with the
/// priority class the rules give, and survive a kill -9.
@Suite(.serialized) struct DeliveryQueueTests {
    static let routing = """
        nodes:
          TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source, destination] }
          HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 11195, roles: [destination, reporter] }
        priorities:
          - { class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
        routes:
          - { name: imaging-to-hub, from: [TRUST_A], when: { Modality: [CT, MR] }, to: [HUB] }
        """

    struct Depth: Decodable, Equatable {
        let destination: String
        let `class`: String
        let state: String
        let count: Int
    }

    static func depths(_ gateway: GatewayProcess) throws -> [Depth] {
        let run = PeerProcess(GatewayProcess.binary, ["queue", "--config", gateway.configPath, "--json"], logDirectory: gateway.directory.path)
        let (status, _) = try run.run(timeout: 60)
        #expect(status == 0)
        // The log file holds stdout; parse the JSON array in it.
        let text = run.output
        guard let start = text.firstIndex(of: "["), let end = text.lastIndex(of: "]") else { return [] }
        return try JSONDecoder().decode([Depth].self, from: Data(text[start...end].utf8))
    }

    @Test func routedInstancesAreQueuedByClassAndSurviveKillNine() async throws {
        let dir = TestDirectory("queue")
        let gateway = try GatewayProcess(directory: dir, extraYAML: Self.routing)
        try gateway.start()
        let input = dir.sub("in")
        let stroke = try TestData.study(in: input, count: 3, description: "CT head stroke pathway")
        let routine = try TestData.study(in: input, count: 4, description: "CT chest")
        let (status, out) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + stroke + routine,
                                          in: dir)
        #expect(status == 0, "\(out)")
        // An unknown sender matches no route (from: [TRUST_A]): cached, not queued.
        let stranger = try TestData.study(in: input, count: 2, description: "CT stroke")
        let (status2, out2) = try DCMTK.run("storescu", ["-aet", "STRANGER", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + stranger,
                                            in: dir)
        #expect(status2 == 0, "\(out2)")
        gateway.kill9()
        // Acknowledged means queued: the rows are there after a crash, without a restart of the gateway.
        let depths = try Self.depths(gateway)
        // HUB is down in this test: each row is queued, or failed and waiting for its retry.
        func count(_ cls: String) -> Int {
            depths.filter { $0.destination == "HUB" && $0.class == cls && ["queued", "failed", "inflight"].contains($0.state) }
                .reduce(0) { $0 + $1.count }
        }
        #expect(count("stat") == 3, "\(depths)")
        #expect(count("routine") == 4, "\(depths)")
        #expect(depths.reduce(0) { $0 + $1.count } == 7, "\(depths)")
    }
}
