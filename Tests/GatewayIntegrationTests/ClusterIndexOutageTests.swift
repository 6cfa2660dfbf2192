import DicomCore
import DicomNetwork
import Foundation
import Testing

/// PostgreSQL dies under load (kill -9) and comes back (issue 16): while it is gone stores are
/// refused (0xA700, the sender retries), nothing acknowledged is lost, and the nodes resume by
/// themselves when it returns.
@Suite(.serialized) struct ClusterIndexOutageTests {
    @Test func stopsAndRestartsOfPostgreSQLUnderLoadLoseNothingAcknowledged() throws {
        let rig = try ClusterRig(nodes: 2, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
            """)
        try rig.start()
        let files = try TestData.study(in: rig.dir.sub("in"), count: 400, rows: 64, columns: 64)
        var acknowledged: Set<String> = []
        var refusedDuringOutage = false
        for round in 1...3 {
            let pending = files.filter { !acknowledged.contains($0) }
            if pending.isEmpty { break }
            let sender = PeerProcess("storescu", ["-v", "-to", "30", "-ta", "30", "-td", "30", "-aet", "TRUSTA_PACS", "-aec", "NETGW",
                                                  "127.0.0.1", "\(rig.frontPort)"] + pending, logDirectory: rig.dir.path)
            try sender.start()
            if round == 1 {
                usleep(700_000)
                try rig.postgres.kill9()
                usleep(1_500_000)
                try rig.postgres.start()
            }
            _ = sender.wait(timeout: 120)
            let output = sender.output
            acknowledged.formUnion(acknowledgedFiles(storescuOutput: output))
            if round == 1, output.contains("Out of Resources") || output.contains("OutOfResources") || output.lowercased().contains("a700") {
                refusedDuringOutage = true
            }
        }
        #expect(acknowledged.count == files.count, "every instance should be acknowledged by the last round")
        #expect(refusedDuringOutage, "stores should have been refused with 0xA700 while PostgreSQL was down")
        // Every acknowledged instance is in the index, once.
        let uids = Set(try acknowledged.map { try DicomFile.probe($0).sopInstanceUID })
        let indexed = Set(try rig.sql("SELECT sopUID FROM instance").split(separator: "\n").map(String.init))
        #expect(indexed.isSuperset(of: uids), "\(uids.subtracting(indexed).count) acknowledged instances are not in the index")
        #expect(try rig.sql("SELECT count(*) - count(DISTINCT sopUID) FROM instance") == "0")
    }
}
