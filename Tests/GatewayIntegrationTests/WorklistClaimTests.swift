import DicomCore
import DicomNetwork
import Foundation
import GRDB
import Testing

/// Who is reporting what: a site's C-MOVE of its allocated study starts the item; a second site's
/// claim of an item in progress is refused with 409 and audited; a claim of an item not yet
/// started moves it to the claiming site. Real DCMTK storescu, movescu and storescp; the HTTP API.
@Suite(.serialized) struct WorklistClaimTests {
    @Test func retrieveBySiteStartsItsItemAndASecondSitesClaimIsRefusedWith409() async throws {
        let dir = TestDirectory("worklist-claim")
        let (aPort, bPort) = (Net.freePort(), Net.freePort())
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              SITE_A: { ae_title: SITEA_READ, host: 127.0.0.1, port: \(aPort), roles: [destination, reporter],
                        reporting: { skills: [general], capacity: 10, on_demand: true } }
              SITE_B: { ae_title: SITEB_READ, host: 127.0.0.1, port: \(bPort), roles: [destination, reporter],
                        reporting: { skills: [general], capacity: 5, on_demand: true } }
            reporting:
              review_interval: 1s
              rules:
                - { name: images, when: { category: image }, skill: general }
            """)
        let aFolder = dir.sub("site-a")
        let siteA = try PeerProcess("/usr/bin/storescp", ["-aet", "SITEA_READ", "-od", aFolder, "\(aPort)"], logDirectory: dir.path).start()
        defer { siteA.stop() }
        try gw.start()
        func log() -> String { String(gw.peer?.output.suffix(5000) ?? "") }
        let api = HTTPProbe(port: gw.httpPort)

        let first = TestData.newUID(), second = TestData.newUID()
        let files = try TestData.study(in: dir.sub("s1"), count: 2, studyUID: first, patientID: "P1", modality: "CR")
            + TestData.study(in: dir.sub("s2"), count: 1, studyUID: second, patientID: "P2", modality: "CR")
        let (status, output) = try await DCMTK.runOffPool("/usr/bin/storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: dir)
        try #require(status == 0, "\(output)")

        // Both go to SITE_A (more capacity, the tie after the first broken by capacity); on demand: nothing is pushed.
        let listed = try api.wait("/api/v1/worklist?state=allocated", timeout: 30) {
            ((try? $0.object()["items"] as? [[String: Any]]) ?? [])?.count == 2
        }
        let items = try #require(try listed.object()["items"] as? [[String: Any]], "\(listed.text)\n\(log())")
        #expect(items.count == 2, "\(listed.text)")
        #expect(items.allSatisfy { $0["site"] as? String == "SITE_A" }, "\(items)")
        func id(_ study: String) throws -> Int { try #require(items.first { $0["study_instance_uid"] as? String == study }?["id"] as? Int) }
        let firstID = try id(first), secondID = try id(second)
        #expect(WorklistPeers.files(aFolder).isEmpty)

        // SITE_A retrieves the first study (C-MOVE to itself): its item is in progress.
        let (moveStatus, moveOutput) = try await DCMTK.runOffPool("/usr/bin/movescu", [
            "-aet", "SITEA_READ", "-aec", "NETGW", "-aem", "SITEA_READ", "-S", "-k", "QueryRetrieveLevel=STUDY",
            "-k", "StudyInstanceUID=\(first)", "127.0.0.1", "\(gw.port)"], in: dir)
        #expect(moveStatus == 0, "\(moveOutput)")
        #expect(WorklistPeers.files(aFolder).count == 2)
        let started = try api.wait("/api/v1/worklist/\(firstID)", timeout: 10) { (try? $0.object()["state"] as? String) == "in_progress" }
        let detail = try started.object()
        #expect(detail["state"] as? String == "in_progress", "\(started.text)")
        let history = detail["history"] as? [[String: Any]] ?? []
        #expect(history.contains { $0["event"] as? String == "started" && ($0["detail"] as? String)?.contains("C-MOVE by SITEA_READ") == true },
                "\(history)")

        // SITE_B may not take an item SITE_A has started: 409, and the refusal is audited.
        let refused = try api.post("/api/v1/worklist/\(firstID)/claim", json: #"{"site": "SITE_B", "reporter": "dr.b"}"#)
        #expect(refused.status == 409, "\(refused.text)")
        #expect(refused.text.contains("in_progress"), "\(refused.text)")
        // Audit rows are committed with the next group transaction, a moment after the answer.
        let audited = await OffPool.waitUntil(timeout: 10) {
            ((try? WorklistPeers.rows(gw, "SELECT outcome FROM audit WHERE event = 'worklist' AND outcome = 'refused'")) ?? []).count == 1
        }
        #expect(audited, "the refused claim was not audited")
        // It may claim the one SITE_A has not started: it moves to SITE_B, in progress by dr.b.
        let claimed = try api.post("/api/v1/worklist/\(secondID)/claim", json: #"{"site": "SITE_B", "reporter": "dr.b"}"#)
        #expect(claimed.status == 200, "\(claimed.text)")
        let claimedItem = try claimed.object()
        #expect(claimedItem["site"] as? String == "SITE_B")
        #expect(claimedItem["state"] as? String == "in_progress")
        #expect(claimedItem["reporter"] as? String == "dr.b")
        // An unknown site is a bad request, not a conflict.
        let unknown = try api.post("/api/v1/worklist/\(secondID)/claim", json: #"{"site": "NOWHERE", "reporter": "x"}"#)
        #expect(unknown.status == 400, "\(unknown.text)")

        // The CLI explains the first item's allocation.
        let explain = try await ProcessRun.run(GatewayProcess.binary, ["worklist", "explain", "\(firstID)", "--config", gw.configPath], in: dir)
        #expect(explain.status == 0, "\(explain.combined)")
        #expect(explain.stdout.contains("SITE_A") && explain.stdout.contains("SITE_B"), "\(explain.stdout)")
        // Metrics count items by state, class and site.
        let metrics = try api.get("/metrics").text
        #expect(metrics.contains(#"dicom_gateway_worklist_items{state="in_progress",class="routine",site="SITE_A"} 1"#), "\(metrics.split(separator: "\n").filter { $0.contains("worklist") })")
        #expect(metrics.contains(#"dicom_gateway_worklist_items{state="in_progress",class="routine",site="SITE_B"} 1"#))
        #expect(gw.terminate() == 0)
    }
}
