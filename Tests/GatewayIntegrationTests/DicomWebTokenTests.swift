import DicomCore
import DicomNetwork
import Foundation
import Testing

/// STOW-RS and UPS-RS behind the HTTP API's tokens: storing and changing workitems need the role
/// `operate` (a `read` token gets 403, no token 401); the token's name is the sender, as a
/// calling AE title is for a C-STORE: the instances' origin, the audit entry's actor, and what
/// `calling_ae` conditions of the `priorities` rules match.
@Suite(.serialized) struct DicomWebTokenTests {
    @Test func storingNeedsAnOperateTokenWhoseNameIsTheSender() async throws {
        let dir = TestDirectory("dicomweb-tokens")
        let httpPort = Net.freePort()
        try "ai-secret-token\n".write(toFile: dir.path + "/ai.token", atomically: true, encoding: .utf8)
        try "viewer-secret-token\n".write(toFile: dir.path + "/viewer.token", atomically: true, encoding: .utf8)
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            http:
              port: \(httpPort)
              tokens:
                - { name: AI_TRIAGE, role: operate, file: ai.token }
                - { name: viewer, role: read, file: viewer.token }
            nodes:
              HUB: { ae_title: HUB, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination] }
            priorities:
              - { name: ai-results, class: stat, calling_ae: [AI_TRIAGE] }
            routes:
              - { name: all-to-hub, to: [HUB] }
            """)
        try gw.start()
        let up = await OffPool.waitUntil(timeout: 30) { (try? HTTPProbe(port: httpPort).get("/health"))?.status == 200 }
        #expect(up)
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("in"), count: 2, studyUID: study)
        let body = DicomWebPeers.multipart(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, boundary: "tok3n")
        let bodyPath = dir.path + "/body"
        try body.write(to: URL(fileURLWithPath: bodyPath))
        let url = "http://127.0.0.1:\(httpPort)/dicom-web/studies/\(study)"
        func post(_ token: String?) throws -> (status: Int, body: String) {
            try DicomWebPeers.curl(["-X", "POST", "-H", "Content-Type: multipart/related; type=application/dicom; boundary=tok3n",
                                    "--data-binary", "@" + bodyPath] + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? []) + [url],
                                   in: dir)
        }
        #expect(try post(nil).status == 401)
        let read = try post("viewer-secret-token")
        #expect(read.status == 403 && read.body.contains("operate"), "\(read.body)")
        let put = try DicomWebPeers.curl(["-X", "PUT", "-H", "Authorization: Bearer viewer-secret-token", "--data-binary", "{}",
                                          "http://127.0.0.1:\(httpPort)/dicom-web/workitems/2.25.1/state"], in: dir)
        #expect(put.status == 403, "\(put.body)")
        let stored = try post("ai-secret-token")
        #expect(stored.status == 200, "\(stored.body)")

        let instances = try WorklistPeers.rows(gw, """
            SELECT i.callingAE, s.originAE FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
            WHERE s.studyUID = ?
            """, [study])
        #expect(instances.count == 2)
        #expect(instances.allSatisfy { ($0["callingAE"] as String) == "AI_TRIAGE" && ($0["originAE"] as String) == "AI_TRIAGE" }, "\(instances)")
        let audit = try WorklistPeers.rows(gw, "SELECT actor, detail FROM audit WHERE event = 'association' AND detail LIKE 'STOW-RS%'")
        #expect(audit.map { $0["actor"] as String } == ["AI_TRIAGE"], "\(audit)")
        // The calling_ae rule matched the token's name: the deliveries are stat.
        let deliveries = try WorklistPeers.rows(gw, """
            SELECT d.priority FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
            JOIN study s ON s.id = se.studyRef WHERE s.studyUID = ?
            """, [study])
        #expect(deliveries.count == 2 && deliveries.allSatisfy { ($0["priority"] as Int) == 3 }, "\(deliveries)")
        #expect(gw.terminate() == 0)
    }
}
