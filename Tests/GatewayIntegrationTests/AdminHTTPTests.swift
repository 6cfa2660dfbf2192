import DicomCore
import DicomNetwork
import Foundation
import Testing

/// The operators' HTTP API against a real gateway process: storescu sends, a pynetdicom
/// destination refuses, storescp receives what an operator replays; curl-like calls over loopback.
@Suite(.serialized) struct AdminHTTPTests {
    /// A storage SCP that refuses every instance with 0xA900 (data set does not match SOP class):
    /// a permanent refusal, so the gateway's delivery goes dead at once.
    static let refusingHub = #"""
        import sys
        from pynetdicom import AE, evt, AllStoragePresentationContexts
        from pynetdicom.sop_class import Verification
        ae = AE(ae_title="HUB_READ")
        ae.supported_contexts = AllStoragePresentationContexts
        ae.add_supported_context(Verification)
        ae.start_server(("127.0.0.1", int(sys.argv[1])), block=True, evt_handlers=[(evt.EVT_C_STORE, lambda event: 0xA900)])
        """#

    static func routing(hubPort: Int) -> String {
        """
        nodes:
          TRUST_A: { ae_title: TRUSTA_PACS, roles: [source], allow: [echo, store, find] }
          HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
        priorities:
          - { class: stat, when: { StudyDescription: "~(?i)stroke" } }
        routes:
          - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
        """
    }

    static func send(_ files: [String], to gateway: GatewayProcess, in dir: TestDirectory) throws {
        let (status, output) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files, in: dir)
        #expect(status == 0, "storescu: \(output.suffix(2000))")
    }

    /// The value of one sample in a Prometheus text page, nil when absent.
    static func sample(_ page: String, _ name: String, _ labels: String = "") -> Double? {
        let prefix = labels.isEmpty ? name + " " : name + "{" + labels + "} "
        guard let line = page.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Double(line.dropFirst(prefix.count))
    }

    /// What breaks the Prometheus text format 0.0.4 in `page`: a family declared twice, a sample
    /// of no declared family, a line that is neither.
    static func formatProblems(_ page: String) -> [String] {
        var problems: [String] = []
        var families = Set<String>()
        for line in page.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if line.hasPrefix("# TYPE ") {
                if parts.count != 4 || !families.insert(String(parts[2])).inserted { problems.append("bad or repeated: \(line)") }
            } else if line.hasPrefix("#") {
                continue
            } else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && families.contains(String($0.dropLast($1.count))) ? String($0.dropLast($1.count)) : $0 }
                if !families.contains(family) { problems.append("sample of no declared family: \(line)") }
                if Double(parts.last ?? "") == nil { problems.append("no value: \(line)") }
            }
        }
        return problems
    }

    @Test
    func deadDeliveriesAreSeenInTheAPIAndMetricsAndAReplayDeliversThem() throws {
        let dir = TestDirectory("admin-replay")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: Self.routing(hubPort: hubPort))
        let script = dir.path + "/refusing.py"
        try Self.refusingHub.write(toFile: script, atomically: true, encoding: .utf8)
        let refusing = try PythonPeer.process(script, ["\(hubPort)"], logDirectory: dir.path).start()
        try #require(Net.waitForListener(hubPort), "the refusing HUB did not listen:\n\(refusing.output)")
        try gateway.start()
        let http = HTTPProbe(port: gateway.httpPort)
        #expect(Net.waitForListener(gateway.httpPort), "the HTTP API did not listen:\n\(gateway.peer?.output ?? "")")

        let health = try http.get("/health")
        #expect(health.status == 200, "\(health.text)")
        #expect(try health.object()["status"] as? String == "ok")
        #expect(try health.object()["ae_title"] as? String == "NETGW")

        let files = try TestData.study(in: dir.sub("in"), count: 3, description: "CT chest routine")
        let studyUID = try DicomFile.probe(files[0]).studyInstanceUID
        try Self.send(files, to: gateway, in: dir)

        // The HUB refuses permanently: three dead deliveries, visible with their error.
        let dead = try http.wait("/api/v1/deliveries?state=dead&destination=HUB") { (try? $0.array().count) == 3 }
        let deadRows = try dead.array()
        #expect(deadRows.count == 3, "dead deliveries: \(dead.text)\ngateway log:\n\(gateway.peer?.output.suffix(3000) ?? "")")
        #expect(deadRows.allSatisfy { $0["study_instance_uid"] as? String == studyUID && $0["class"] as? String == "routine" })
        #expect(deadRows.allSatisfy { ($0["last_error"] as? String ?? "").contains("A900") || ($0["last_error"] as? String ?? "").lowercased().contains("a900") },
                "\(dead.text)")
        refusing.stop()

        let nodes = try http.get("/api/v1/nodes").array()
        let hub = nodes.first { $0["name"] as? String == "HUB" }
        #expect(hub?["dead"] as? Int == 3, "\(nodes)")
        #expect(hub?["waiting"] as? Int == 0, "dead deliveries are not counted as waiting: \(nodes)")

        let metrics = try http.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.contentType.hasPrefix("text/plain"))
        #expect(Self.sample(metrics.text, "dicom_gateway_queue_deliveries", "destination=\"HUB\",class=\"routine\",state=\"dead\"") == 3,
                "\(metrics.text)")
        #expect(Self.sample(metrics.text, "dicom_gateway_stores_total", "node=\"TRUST_A\",outcome=\"stored\"") == 3, "\(metrics.text)")
        #expect(Self.sample(metrics.text, "dicom_gateway_deliveries_total", "destination=\"HUB\",class=\"routine\",outcome=\"dead\"") == 3,
                "\(metrics.text)")
        #expect(Self.sample(metrics.text, "dicom_gateway_cache_instances") == 3, "\(metrics.text)")
        #expect((Self.sample(metrics.text, "dicom_gateway_associations_total", "outcome=\"accepted\"") ?? 0) >= 1, "\(metrics.text)")

        // Cancel needs a choice; states must exist and be ones a replay or cancel can change; a
        // misspelt key is refused rather than ignored (it would widen the choice).
        #expect(try http.post("/api/v1/deliveries/cancel", json: "{}").status == 400)
        #expect(try http.get("/api/v1/deliveries?state=lost").status == 400)
        #expect(try http.get("/api/v1/deliveries?limit=many").status == 400)
        #expect(try http.post("/api/v1/deliveries/replay", json: #"{"destination": "NOWHERE"}"#).status == 404)
        #expect(try http.post("/api/v1/deliveries/replay", json: #"{"ids": "seven"}"#).status == 400)
        #expect(try http.post("/api/v1/deliveries/replay", json: #"{"states": ["inflight"]}"#).status == 400)
        #expect(try http.post("/api/v1/deliveries/cancel", json: #"{"destination": "HUB", "states": []}"#).status == 400)
        let misspelt = try http.post("/api/v1/deliveries/replay", json: #"{"study": "1.2.3"}"#)
        #expect(misspelt.status == 400 && misspelt.text.contains("unknown key 'study'"), "\(misspelt.text)")

        // One dead delivery is cancelled by id, and replayed back (a cancelled one can be).
        let firstID = try #require(deadRows.first?["id"] as? Int)
        let cancelled = try http.post("/api/v1/deliveries/cancel", json: #"{"ids": [\#(firstID)]}"#)
        #expect(try cancelled.object()["changed"] as? Int == 1, "\(cancelled.text)")
        #expect(try http.get("/api/v1/deliveries?state=cancelled").array().map { $0["id"] as? Int } == [firstID])
        #expect(try http.get("/api/v1/audit?event=delivery&limit=1").array().first?["outcome"] as? String == "cancel")
        // (Not cancelled again after this: the replayed delivery may already be in flight, which
        // a cancel rightly leaves alone.)
        #expect(try http.post("/api/v1/deliveries/replay", json: #"{"ids": [\#(firstID)], "states": ["cancelled"]}"#).object()["changed"] as? Int == 1)

        // The HUB is fixed (a storescp now listens there); the operator replays the dead work.
        let received = dir.sub("hub")
        let storescp = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try storescp.start()
        defer { storescp.stop() }
        try #require(Net.waitForListener(hubPort), "storescp did not listen")
        let replay = try http.post("/api/v1/deliveries/replay", json: #"{"destination": "HUB"}"#)
        #expect(replay.status == 200, "\(replay.text)")
        #expect(try replay.object()["changed"] as? Int ?? 0 >= 2, "\(replay.text)")
        #expect(Arrivals.wait(in: received, timeout: 60) { $0.count >= 3 }, "the replayed deliveries did not arrive:\n\(gateway.peer?.output.suffix(3000) ?? "")")

        let (findStatus, findOutput) = try DCMTK.run("findscu", ["-S", "-aet", "TRUSTA_PACS", "-aec", "NETGW",
                                                                 "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
                                                                 "127.0.0.1", "\(gateway.port)"], in: dir)
        #expect(findStatus == 0, "\(findOutput)")
        let after = try http.wait("/metrics") { Self.sample($0.text, "dicom_gateway_deliveries_total", "destination=\"HUB\",class=\"routine\",outcome=\"sent\"") == 3 }
        #expect(Self.sample(after.text, "dicom_gateway_deliveries_total", "destination=\"HUB\",class=\"routine\",outcome=\"sent\"") == 3, "\(after.text)")
        #expect(Self.sample(after.text, "dicom_gateway_delivery_delay_seconds_count", "destination=\"HUB\",class=\"routine\"") == 3, "\(after.text)")
        #expect(Self.sample(after.text, "dicom_gateway_queue_deliveries", "destination=\"HUB\",class=\"routine\",state=\"dead\"") == nil)
        #expect(Self.sample(after.text, "dicom_gateway_queries_total", "level=\"STUDY\"") == 1, "\(after.text)")
        #expect(Self.formatProblems(after.text).isEmpty, "\(Self.formatProblems(after.text))\n\(after.text)")

        // The audit trail names the replay and who did it.
        let audit = try http.get("/api/v1/audit?event=delivery&limit=5").array()
        #expect(audit.first?["outcome"] as? String == "replay", "\(audit)")
        #expect(audit.first?["actor"] as? String == "http-api", "\(audit)")

        // The study: listed without patient data (http.patient_data is off), with its timeline.
        let studies = try http.get("/api/v1/studies").array()
        let listed = studies.first { $0["study_instance_uid"] as? String == studyUID }
        #expect(listed?["instance_count"] as? Int == 3, "\(studies)")
        #expect(listed?["origin_node"] as? String == "TRUST_A", "\(studies)")
        #expect(listed?["patient"] == nil, "patient data shown although http.patient_data is off: \(studies)")
        let detail = try http.get("/api/v1/studies/\(studyUID)")
        #expect(detail.status == 200)
        #expect(!detail.text.contains("Doe"), "patient name in the study view: \(detail.text)")
        let events = try detail.object()["events"] as? [[String: Any]] ?? []
        #expect(!events.isEmpty, "\(detail.text)")
        #expect(try http.get("/api/v1/studies/1.2.3.4.5.6.999").status == 404)

        let page = try http.get("/")
        #expect(page.status == 200)
        #expect(page.contentType.hasPrefix("text/html"))
        #expect(page.text.contains("/api/v1/queues"))
        #expect(gateway.terminate() == 0, "the gateway did not stop cleanly with its HTTP API running")
    }

    @Test func escalatingAStudyRaisesItsWaitingDeliveries() throws {
        let dir = TestDirectory("admin-escalate")
        let httpPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: Self.routing(hubPort: Net.freePort())
                                         + "\nhttp: { port: \(httpPort), patient_data: true }")
        try gateway.start()
        let http = HTTPProbe(port: httpPort)
        #expect(Net.waitForListener(httpPort))
        let files = try TestData.study(in: dir.sub("in"), count: 4, description: "CT chest routine")
        let studyUID = try DicomFile.probe(files[0]).studyInstanceUID
        try Self.send(files, to: gateway, in: dir)

        func count(_ rows: [[String: Any]], class name: String) -> Int {
            rows.filter { $0["destination"] as? String == "HUB" && $0["class"] as? String == name }.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        }
        let before = try http.get("/api/v1/queues").array()
        #expect(count(before, class: "routine") == 4, "\(before)")
        #expect(try http.post("/api/v1/studies/\(studyUID)/escalate", json: #"{"class": "critical"}"#).status == 400)
        #expect(try http.post("/api/v1/studies/1.2.3.999/escalate", json: #"{"class": "stat"}"#).status == 404)
        let raised = try http.post("/api/v1/studies/\(studyUID)/escalate", json: #"{"class": "stat"}"#)
        #expect(raised.status == 200, "\(raised.text)")
        #expect(try raised.object()["changed"] as? Int == 4, "\(raised.text)")
        let after = try http.get("/api/v1/queues").array()
        #expect(count(after, class: "stat") == 4, "\(after)")
        #expect(count(after, class: "routine") == 0, "\(after)")
        let audit = try http.get("/api/v1/audit?study=\(studyUID)").array()
        #expect(audit.contains { $0["outcome"] as? String == "escalate" }, "\(audit)")
        // Never lowered: back to routine changes nothing.
        #expect(try http.post("/api/v1/studies/\(studyUID)/escalate", json: #"{"class": "routine"}"#).object()["changed"] as? Int == 0)
        #expect(try http.post("/api/v1/studies/\(studyUID)/escalate", json: #"{"priority": "stat"}"#).status == 400)
        // http.patient_data is on here: the study shows its patient.
        let studies = try http.get("/api/v1/studies").array()
        let patient = studies.first { $0["study_instance_uid"] as? String == studyUID }?["patient"] as? [String: Any]
        #expect(patient?["patient_id"] as? String == "PID001", "\(studies)")
        #expect(gateway.terminate() == 0)
    }

    @Test func withATokenFileEveryRequestButHealthNeedsTheToken() throws {
        let dir = TestDirectory("admin-token")
        let port = Net.freePort()
        let tokenFile = dir.path + "/api-token"
        try "s3cret-token-for-tests\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let gateway = try GatewayProcess(directory: dir, extraYAML: "http: { port: \(port), token_file: \(tokenFile) }")
        try gateway.start()
        #expect(Net.waitForListener(port))
        let anonymous = HTTPProbe(port: port)
        let health = try anonymous.get("/health")
        #expect(health.status == 200)
        #expect(try health.object().keys.sorted() == ["status"], "without the token /health says only whether it is healthy: \(health.text)")
        let page = try anonymous.get("/")
        #expect(page.status == 200 && page.contentType.hasPrefix("text/html"), "the dashboard page (which asks for the token) must load")
        let refused = try anonymous.get("/api/v1/queues")
        #expect(refused.status == 401, "\(refused.text)")
        #expect(refused.text.contains("token"), "\(refused.text)")
        #expect(try anonymous.get("/metrics").status == 401)
        #expect(try anonymous.get("/api/v1/queues", token: "wrong").status == 401)
        #expect(try anonymous.post("/api/v1/deliveries/replay", token: "wrong").status == 401)
        let allowed = HTTPProbe(port: port, token: "s3cret-token-for-tests")
        #expect(try allowed.get("/health").object()["ae_title"] as? String == "NETGW")
        #expect(try allowed.get("/api/v1/queues").status == 200)
        #expect(try allowed.get("/metrics").status == 200)
        #expect(gateway.terminate() == 0)
    }

    @Test func aReloadThroughTheAPIReportsEveryErrorOrTakesTheNewRoutes() throws {
        let dir = TestDirectory("admin-reload")
        let gateway = try GatewayProcess(directory: dir, extraYAML: Self.routing(hubPort: Net.freePort()))
        try gateway.start()
        let http = HTTPProbe(port: gateway.httpPort)
        #expect(Net.waitForListener(gateway.httpPort))
        let original = try String(contentsOfFile: gateway.configPath, encoding: .utf8) + "\n"

        try (original + "  - { name: broken, to: [NOWHERE] }\n").write(toFile: gateway.configPath, atomically: true, encoding: .utf8)
        let refused = try http.post("/api/v1/config/reload")
        #expect(refused.status == 422, "\(refused.text)")
        let errors = try refused.object()["errors"] as? [String] ?? []
        #expect(errors.count == 1 && errors.contains { $0.contains("gateway.yaml:") && $0.contains("NOWHERE") }, "\(refused.text)")
        #expect(try http.get("/api/v1/config").object()["routes"] as? [String] == ["all-to-hub"])

        try (original + "  - { name: stat-copy, when: { StudyDescription: \"~stroke\" }, to: [HUB] }\n")
            .write(toFile: gateway.configPath, atomically: true, encoding: .utf8)
        let taken = try http.post("/api/v1/config/reload")
        #expect(taken.status == 200, "\(taken.text)")
        #expect(try http.get("/api/v1/config").object()["routes"] as? [String] == ["all-to-hub", "stat-copy"])
        let health = try http.get("/health").object()
        #expect((health["last_reload"] as? [String: Any])?["succeeded"] as? Bool == true, "\(health)")
        // Both reloads are in the audit trail, newest first.
        let audit = try http.get("/api/v1/audit?event=config").array()
        #expect(audit.map { $0["outcome"] as? String } == ["reloaded", "refused"], "\(audit)")
        #expect(audit.allSatisfy { $0["actor"] as? String == "http-api" })
        #expect(gateway.terminate() == 0)
    }

    @Test func aGatewayWhoseHTTPPortIsTakenStopsAndSaysWhy() throws {
        let first = try GatewayProcess(directory: TestDirectory("admin-port-a"))
        try first.start()
        #expect(Net.waitForListener(first.httpPort))
        let dir = TestDirectory("admin-port-b")
        let second = try GatewayProcess(directory: dir, extraYAML: "http: { port: \(first.httpPort) }")
        let (status, output) = try PeerProcess(GatewayProcess.binary, ["serve", "--config", second.configPath], logDirectory: dir.path)
            .run(timeout: 60)
        #expect(status != 0, "a gateway without its HTTP port kept running:\n\(output)")
        #expect(output.contains("the HTTP API cannot listen on 127.0.0.1:\(first.httpPort)"), "\(output)")
        #expect(try HTTPProbe(port: first.httpPort).get("/health").status == 200, "the first gateway's API must be unaffected")
        #expect(first.terminate() == 0)
    }
}
