import DicomCore
import DicomNetwork
import Foundation
import Testing

/// STOW-RS (PS3.18 §10.5) with dicomweb-client as the real client: instances stored by HTTP go
/// through the C-STORE's durable ingest (found by DCMTK findscu, routed to a storescp, kept by a
/// kill -9 right after the 200), with the standard's answers for partial and total refusals,
/// wrong media types and bodies over `dicomweb.stow_max_bytes`.
@Suite(.serialized) struct StowRSTests {
    /// A gateway process routing everything to a DCMTK storescp `HUB`.
    static func gatewayWithHub(_ dir: TestDirectory, extraYAML: String = "") throws -> (GatewayProcess, PeerProcess, String) {
        let hubPort = Net.freePort()
        let received = dir.sub("hub")
        let hub = try PeerProcess("storescp", ["-aet", "HUB", "-od", received, "\(hubPort)"], logDirectory: dir.path).start()
        guard Net.waitForListener(hubPort) else { throw TestFailure("storescp did not listen") }
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              HUB: { ae_title: HUB, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            routes:
              - { name: all-to-hub, to: [HUB] }
            \(extraYAML)
            """)
        return (gw, hub, received)
    }

    /// The SOP Instance UIDs findscu finds in a study (IMAGE level, study root).
    static func findscu(_ gw: GatewayProcess, study: String, in dir: TestDirectory) throws -> [String] {
        let out = dir.sub("find-\(UUID().uuidString.prefix(8))")
        let (status, output) = try DCMTK.run("/usr/bin/findscu", [
            "-S", "-aet", "REPORTER", "-aec", "NETGW", "-X", "-od", out, "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=IMAGE", "-k", "StudyInstanceUID=\(study)", "-k", "SOPInstanceUID",
        ], in: dir)
        guard status == 0 else { throw TestFailure("findscu failed: \(output.suffix(2000))") }
        return try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("rsp") }
            .compactMap { try DicomFile.readAttributes(out + "/" + $0).string(.sopInstanceUID) }.sorted()
    }

    static func waitUntilUp(_ gw: GatewayProcess) async -> Bool {
        let probe = HTTPProbe(port: gw.httpPort)
        return await OffPool.waitUntil(timeout: 30) { (try? probe.get("/health"))?.status == 200 }
    }

    @Test func allGoodInstancesAreStoredFoundByFindscuAndRoutedToStorescp() async throws {
        let dir = TestDirectory("stow-good")
        let (gw, hub, received) = try Self.gatewayWithHub(dir)
        defer { hub.stop() }
        try gw.start()
        #expect(await Self.waitUntilUp(gw))
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("in"), count: 3, studyUID: study)
        let reply = try DicomWebPeers.stow(port: gw.httpPort, study: study, files: files, in: dir)
        #expect(reply.status == 200, "\(reply.body)")
        let sops = (1...3).map { "\(study).1.\($0)" }
        #expect(reply.sopUIDs("00081199").sorted() == sops)
        #expect(reply.items("00081198").isEmpty)
        let url = (reply.items("00081199").first?["00081190"] as? [String: Any])?["Value"] as? [String]
        #expect(url?.first?.hasSuffix("/dicom-web/studies/\(study)/series/\(study).1/instances/\(study).1.1") == true, "\(String(describing: url))")
        #expect(try Self.findscu(gw, study: study, in: dir) == sops)
        let delivered = await OffPool.waitUntil(timeout: 30) { WorklistPeers.files(received).count == 3 }
        #expect(delivered, "storescp received \(WorklistPeers.files(received))")
        // The HTTP caller's store is audited as a storing association's (DICOM Instances Transferred).
        let audits = try WorklistPeers.rows(gw, "SELECT * FROM audit WHERE event = 'association' AND detail LIKE 'STOW-RS%'")
        #expect(audits.count == 1 && (audits.first?["detail"] as String?) == "STOW-RS request: stored 3, refused 0")
        #expect(gw.terminate() == 0)
    }

    @Test func oneInstanceOfAnotherStudyIsRefusedWith202AndAllRefusedIs409() async throws {
        let dir = TestDirectory("stow-partial")
        let (gw, hub, _) = try Self.gatewayWithHub(dir)
        defer { hub.stop() }
        try gw.start()
        #expect(await Self.waitUntilUp(gw))
        let study = TestData.newUID(), other = TestData.newUID()
        let good = try TestData.study(in: dir.sub("a"), count: 2, studyUID: study)
        let stranger = try TestData.study(in: dir.sub("b"), count: 1, studyUID: other)
        let partial = try DicomWebPeers.stow(port: gw.httpPort, study: study, files: good + stranger, in: dir)
        #expect(partial.status == 202, "\(partial.body)")
        #expect(partial.sopUIDs("00081199").sorted() == ["\(study).1.1", "\(study).1.2"])
        #expect(partial.sopUIDs("00081198") == ["\(other).1.1"])
        #expect(partial.failureReasons == [0xA900])
        #expect(try Self.findscu(gw, study: other, in: dir).isEmpty, "an instance of another study than the URL's was stored")

        let refused = try DicomWebPeers.stow(port: gw.httpPort, study: study, files: stranger, in: dir)
        #expect(refused.status == 409, "\(refused.body)")
        #expect(refused.failureReasons == [0xA900])
        #expect(try Self.findscu(gw, study: study, in: dir).count == 2)
        let incoming = try FileManager.default.contentsOfDirectory(atPath: gw.storageRoot + "/incoming").filter { $0.hasPrefix("stow-") }
        #expect(incoming.isEmpty, "parts left behind: \(incoming)")
        #expect(gw.terminate() == 0)
    }

    @Test func wrongMediaTypeIs415AndABodyOverTheLimitIs413WithNothingLeftBehind() async throws {
        let dir = TestDirectory("stow-limits")
        let (gw, hub, _) = try Self.gatewayWithHub(dir, extraYAML: "dicomweb: { stow_max_bytes: 64KB }")
        defer { hub.stop() }
        try gw.start()
        #expect(await Self.waitUntilUp(gw))
        let url = "http://127.0.0.1:\(gw.httpPort)/dicom-web/studies"
        let wrong = try DicomWebPeers.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{}", url], in: dir)
        #expect(wrong.status == 415, "\(wrong.body)")
        #expect(wrong.body.contains("multipart/related"))
        let dicomJSON = try DicomWebPeers.curl([
            "-X", "POST", "-H", "Content-Type: multipart/related; type=\"application/dicom+json\"; boundary=x", "--data-binary", "x", url,
        ], in: dir)
        #expect(dicomJSON.status == 415, "\(dicomJSON.body)")
        let malformed = try DicomWebPeers.curl([
            "-X", "POST", "-H", "Content-Type: multipart/related; type=application/dicom; boundary=abc", "--data-binary", "no parts here", url,
        ], in: dir)
        #expect(malformed.status == 400, "\(malformed.body)")

        // 40 instances of about 2.5 KB: over 64 KB, announced (Content-Length) or not (chunked).
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("big"), count: 40, studyUID: study, rows: 32, columns: 32)
        let body = DicomWebPeers.multipart(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, boundary: "b0und")
        let bodyPath = dir.path + "/big.body"
        try body.write(to: URL(fileURLWithPath: bodyPath))
        #expect(body.count > 64 << 10)
        let type = "Content-Type: multipart/related; type=\"application/dicom\"; boundary=b0und"
        let announced = try DicomWebPeers.curl(["-X", "POST", "-H", type, "--data-binary", "@" + bodyPath, url], in: dir)
        #expect(announced.status == 413, "\(announced.body)")
        #expect(announced.body.contains("stow_max_bytes"))
        let chunked = try DicomWebPeers.curl(["-X", "POST", "-H", type, "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + bodyPath, url],
                                             in: dir)
        #expect(chunked.status == 413, "\(chunked.body)")
        #expect(chunked.body.contains("stow_max_bytes"))
        #expect(try Self.findscu(gw, study: study, in: dir).isEmpty, "a refused request stored instances")
        let incoming = try FileManager.default.contentsOfDirectory(atPath: gw.storageRoot + "/incoming").filter { $0.hasPrefix("stow-") }
        #expect(incoming.isEmpty, "parts left behind: \(incoming)")
        // The gateway goes on: a request within the limit is stored.
        let small = try DicomWebPeers.stow(port: gw.httpPort, files: Array(files.prefix(2)), in: dir)
        #expect(small.status == 200, "\(small.body)")
        #expect(try Self.findscu(gw, study: study, in: dir).count == 2)
        #expect(gw.terminate() == 0)
    }

    @Test func instancesAnswered200SurviveKillNineRightAfterTheAnswer() async throws {
        let dir = TestDirectory("stow-kill")
        let gw = try GatewayProcess(directory: dir)
        var stored: [String: [String]] = [:]
        for round in 0..<3 {
            try gw.start()
            #expect(await Self.waitUntilUp(gw))
            let study = TestData.newUID()
            let files = try TestData.study(in: dir.sub("round\(round)"), count: 4, studyUID: study)
            let reply = try DicomWebPeers.stow(port: gw.httpPort, files: files, in: dir)
            gw.kill9()
            try #require(reply.status == 200, "\(reply.body)")
            stored[study] = reply.sopUIDs("00081199").sorted()
        }
        try gw.start()
        #expect(await Self.waitUntilUp(gw))
        for (study, sops) in stored {
            #expect(sops.count == 4)
            #expect(try Self.findscu(gw, study: study, in: dir) == sops, "instances of study \(study) answered 200 were lost")
        }
        #expect(gw.terminate() == 0)
    }

    /// An AI service's result (a Secondary Capture) stored by STOW-RS meets the `priorities`
    /// rules as a C-STORE would: a matching rule raises its study's worklist item to stat.
    @Test func anAIResultStoredByStowRaisesItsStudysPriority() async throws {
        let dir = TestDirectory("stow-ai")
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              SITE: { ae_title: SITE_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination, reporter],
                      reporting: { skills: [general], capacity: 10 } }
            priorities:
              - { name: ai-finding, class: stat, when: { Modality: OT, SeriesDescription: "~(?i)^AI triage" } }
            reporting:
              rules:
                - { name: images, when: { category: image }, skill: general }
            """)
        try gw.start()
        #expect(await Self.waitUntilUp(gw))
        let study = TestData.newUID()
        let ct = try TestData.study(in: dir.sub("ct"), count: 2, studyUID: study, description: "CT chest")
        let (status, output) = try DCMTK.run("/usr/bin/storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + ct,
                                             in: dir)
        try #require(status == 0, "\(output)")
        let routine = try WorklistPeers.items(gw)[study]
        #expect(routine?["priority"] as Int? == 1, "the CT study's item should start routine")

        let template = try TestData.template(in: dir.sub("sc"), modality: "OT", sopClass: "SecondaryCaptureImageStorage")
        let result = dir.path + "/ai-result.dcm"
        try DicomFile.write(from: template, to: result, setting: [
            .studyInstanceUID: study, .seriesInstanceUID: "\(study).99", .sopInstanceUID: "\(study).99.1", .patientID: "PID001",
            .seriesDescription: "AI triage: suspected large vessel occlusion",
        ])
        let reply = try DicomWebPeers.stow(port: gw.httpPort, study: study, files: [result], in: dir)
        #expect(reply.status == 200, "\(reply.body)")
        let raised = try WorklistPeers.items(gw)[study]
        #expect(raised?["priority"] as Int? == 3, "the AI result matched the stat rule but the item is class \(String(describing: raised?["priority"] as Int?))")
        #expect(try WorklistPeers.items(gw).count == 1)
        #expect(gw.terminate() == 0)
    }
}
