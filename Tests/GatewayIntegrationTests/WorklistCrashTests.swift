import DicomCore
import DicomNetwork
import Foundation
import GRDB
import Testing

/// A worklist item is written in the transaction that acknowledges the instance that creates it:
/// kill -9 right after DCMTK storescu hears "success", start again, and the item is there.
@Suite(.serialized) struct WorklistCrashTests {
    @Test func itemOfAnAcknowledgedStudySurvivesKillNineRightAfterTheAcknowledgement() async throws {
        let dir = TestDirectory("worklist-kill")
        let sitePort = Net.freePort()
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              SITE: { ae_title: SITE_READ, host: 127.0.0.1, port: \(sitePort), roles: [destination, reporter],
                      reporting: { skills: [general], capacity: 10 } }
            reporting:
              rules:
                - { name: images, when: { category: image }, skill: general }
            """)
        var acknowledged: [String] = []
        for round in 0..<5 {
            try gw.start()
            let study = TestData.newUID()
            let files = try TestData.study(in: dir.sub("round\(round)"), count: 1, studyUID: study, patientID: "K\(round)", modality: "CR")
            let (status, output) = try DCMTK.run("/usr/bin/storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files,
                                                 in: dir)
            gw.kill9()
            try #require(status == 0, "\(output)")
            acknowledged.append(study)
        }
        try gw.start()
        // Up (its HTTP API answers) before it is asked to stop: a SIGTERM before the signal
        // handlers are installed would kill it outright.
        let probe = HTTPProbe(port: gw.httpPort)
        let up = await OffPool.waitUntil(timeout: 30) { (try? probe.get("/health"))?.status == 200 }
        #expect(up)
        let items = try WorklistPeers.items(gw)
        for study in acknowledged {
            #expect(items[study] != nil, "the item of acknowledged study \(study) was lost")
            #expect(items[study]?["rule"] as String? == "images")
        }
        #expect(items.count == acknowledged.count)
        let exit = gw.terminate()
        #expect(exit == 0, "\(gw.peer?.output.suffix(4000) ?? "")")
    }
}
