import DicomCore
import DicomNetwork
import Foundation
import Testing

/// storescu -> gateway -> storescp: routed instances arrive coerced, after an outage, stat first.
@Suite(.serialized) struct DeliveryWorkerTests {
    @Test func destinationDownThenUpGetsEverythingCoercedStatFirst() async throws {
        let dir = TestDirectory("deliver")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source, destination] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination, reporter] }
            priorities:
              - { class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
            routes:
              - name: imaging-to-hub
                from: [TRUST_A]
                when: { Modality: [CT, MR] }
                to: [HUB]
                coerce: { prefix: { PatientID: "RTH-" }, issuer_from_node: true }
            """)
        try gateway.start()
        let input = dir.sub("in")
        let routine = try TestData.study(in: input, count: 40, description: "CT chest")
        let (s1, o1) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + routine, in: dir)
        #expect(s1 == 0, "\(o1)")
        let stat = try TestData.study(in: input, count: 5, description: "CT head stroke pathway")
        let (s2, o2) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + stat, in: dir)
        #expect(s2 == 0, "\(o2)")

        // The destination comes up only now: everything was queued during the outage.
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        let deadline = Date().addingTimeInterval(90)
        var files: [String] = []
        while Date() < deadline {
            files = (try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []
            if files.count >= 45 { break }
            usleep(200_000)
        }
        #expect(files.count == 45, "only \(files.count) of 45 arrived; gateway log:\n\(gateway.peer?.output.suffix(3000) ?? "")")

        // Coerced on the way: prefixed Patient ID, issuer of the sending node.
        let sample = received + "/" + (files.first ?? "")
        #expect(try DCMTK.value("PatientID", in: sample, dir: dir) == "RTH-PID001")
        #expect(try DCMTK.value("IssuerOfPatientID", in: sample, dir: dir) == "RTH")

        // Stat overtook the routine backlog: every stat instance arrived before the last routine ones.
        let statUIDs = Set(try stat.map { try DicomFile.probe($0).sopInstanceUID })
        let arrival = try files.map { name -> (Date, Bool) in
            let path = received + "/" + name
            let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
            return (modified, statUIDs.contains(try DicomFile.probe(path).sopInstanceUID))
        }.sorted { $0.0 < $1.0 }
        let lastStat = arrival.lastIndex { $0.1 } ?? Int.max
        #expect(lastStat < 5 + 32, "stat instances were not delivered ahead of the backlog: last stat at position \(lastStat)")
        #expect(gateway.terminate() == 0)
        hub.stop()
    }
}
