import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import GRDB
import Testing

/// Patient identity across two real Orthanc trusts whose Patient IDs collide, a reporter
/// (storescp + DCMTK storescu) and the gateway binary with `identity: { patient_id: prefix }`:
/// the reporter sees network IDs, its report goes home with the trust's own ID and issuer, and
/// `dicom-gateway study` shows the timeline.
@Suite(.serialized) struct ReportsHomeTests {
    @Test func reportComesHomeToItsTrustWithTheLocalPatientIDAndTheTimelineIsRecorded() async throws {
        let dir = TestDirectory("home")
        let (portA, portB, hubPort) = (Net.freePort(), Net.freePort(), Net.freePort())
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            identity: { patient_id: prefix }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source, destination] }
              TRUST_B: { ae_title: TRUSTB_PACS, host: 127.0.0.1, port: \(portB), issuer: RGT, roles: [source, destination] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination, reporter] }
            routes:
              - { name: images-to-hub, from: [TRUST_A, TRUST_B], when: { category: image }, to: [HUB] }
              - { name: reports-home, from: [HUB], when: { category: report }, to: [origin] }
            """)
        let modalities = ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gw.port)]
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir, modalities: modalities, dicomPort: portA)
        let b = try await OrthancPeer.launch(aeTitle: "TRUSTB_PACS", in: dir, modalities: modalities, dicomPort: portB)
        // Two different people, both 12345 at their own trust; the files name no issuer.
        let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: nil, studyDescription: "CT head", instances: 3)
        let john = TrustStudy(patientID: "12345", patientName: "Smith^John", issuer: nil, studyDescription: "CT chest",
                              bodyPart: "CHEST", instances: 2)
        try await a.load([jane], writingIn: dir.sub("trust-a-files"))
        try await b.load([john], writingIn: dir.sub("trust-b-files"))
        let received = dir.sub("hub")
        let hub = try PeerProcess("/usr/bin/storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path).start()
        _ = try await OffPool.run { try gw.start() }
        defer { hub.stop() }
        func gatewayLog() -> String { String(gw.peer?.output.suffix(4000) ?? "") }

        // Each trust pushes its study to the gateway (Orthanc's C-STORE SCU, as a PACS would).
        for (trust, study) in [(a, jane), (b, john)] {
            let id = try #require(try await trust.findStudies(query: ["StudyInstanceUID": study.studyUID]).first?.id)
            _ = try await trust.request("POST", "/modalities/gateway/store", body: Data(id.utf8), contentType: "text/plain")
        }

        // The reporter gets both studies, each patient under their network Patient ID.
        let allArrived = await OffPool.waitUntil(timeout: 60) {
            ((try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []).count >= 5
        }
        #expect(allArrived, "\(gatewayLog())")
        var seen: [String: [String]] = [:]  // study UID -> "PatientID|Issuer|Name" of each file
        for name in try FileManager.default.contentsOfDirectory(atPath: received).sorted() {
            let path = received + "/" + name
            let study = try #require(try DCMTK.value("StudyInstanceUID", in: path, dir: dir))
            let pid = try DCMTK.value("PatientID", in: path, dir: dir) ?? "<none>"
            let issuer = try DCMTK.value("IssuerOfPatientID", in: path, dir: dir) ?? "<none>"
            let patientName = try DCMTK.value("PatientName", in: path, dir: dir) ?? "<none>"
            seen[study, default: []].append("\(pid)|\(issuer)|\(patientName)")
        }
        #expect(seen == [jane.studyUID: Array(repeating: "RTH-12345|RTH|Doe^Jane", count: 3),
                         john.studyUID: Array(repeating: "RGT-12345|RGT|Smith^John", count: 2)])
        // The cache keeps the trust's bytes.
        let cachedFiles = Storage.instanceFiles(in: gw.storageRoot)
        #expect(cachedFiles.count == 5)
        for file in cachedFiles {
            #expect(try DCMTK.value("PatientID", in: file, dir: dir) == "12345")
        }

        // The reporter's report: same study, the network Patient ID, no issuer, sent with DCMTK storescu.
        let srUID = jane.studyUID + ".99.1"
        let srFile = try Self.basicTextSR(in: dir.sub("reports"), studyUID: jane.studyUID, seriesUID: jane.studyUID + ".99",
                                          sopUID: srUID, patientID: "RTH-12345", patientName: "Doe^Jane")
        let (status, output) = try DCMTK.run("/usr/bin/storescu", ["-aet", "HUB_READ", "-aec", "NETGW", "127.0.0.1", "\(gw.port)", srFile],
                                             in: dir)
        #expect(status == 0, "\(output)\n\(gatewayLog())")

        // It arrives at trust A with A's own identifiers, and never at trust B.
        var homeID: String?
        let home = try await Self.poll(timeout: 60) {
            homeID = try await a.findInstances(query: ["SOPInstanceUID": srUID]).first?.id
            return homeID != nil
        }
        #expect(home, "the report did not reach trust A\n\(gatewayLog())\n\(a.log.suffix(2000))")
        if let homeID {
            let tags = try await a.tags(homeID)
            #expect(tags["PatientID"] == "12345")
            #expect(tags["IssuerOfPatientID"] == "RTH")
            #expect(tags["PatientName"] == "Doe^Jane")
            #expect(tags["StudyInstanceUID"] == jane.studyUID)
            #expect(tags["SOPClassUID"] == SOPClass.basicTextSR)
        }
        #expect(try await b.findInstances(query: ["SOPInstanceUID": srUID]).isEmpty)
        #expect(try await b.statistics() == .init(patients: 1, studies: 1, series: 1, instances: 2))
        // Trust A: still one patient 12345, one study, now with the report's series.
        #expect(try await a.statistics() == .init(patients: 1, studies: 1, series: 2, instances: 4))

        // The index: the report is filed under Jane at RTH (no patient "RTH-12345"), its one
        // delivery went to TRUST_A as urgent, and the network IDs are mapped.
        let index = try Self.readIndex(gw)
        let patients = try Self.rows(index, "SELECT issuer, patientID, patientName FROM patient ORDER BY issuer, patientID")
            .map { "\($0["issuer"] as String)|\($0["patientID"] as String)|\($0["patientName"] as String)" }
        #expect(patients == ["RGT|12345|Smith^John", "RTH|12345|Doe^Jane"])
        let reportDeliveries = try Self.rows(index, """
            SELECT d.destination, d.priority, d.route FROM delivery d JOIN instance i ON i.id = d.instanceRef WHERE i.sopUID = ?
            """, [srUID]).map { "\($0["destination"] as String)|\($0["priority"] as Int)|\($0["route"] as String)" }
        #expect(reportDeliveries == ["TRUST_A|2|reports-home"])
        let mappings = try Self.rows(index, "SELECT issuer, localPatientID, networkPatientID FROM patient_identity ORDER BY issuer")
            .map { "\($0["issuer"] as String)|\($0["localPatientID"] as String)|\($0["networkPatientID"] as String)" }
        #expect(mappings == ["RGT|12345|RGT-12345", "RTH|12345|RTH-12345"])
        let janeStudy = try Self.rows(index, "SELECT instanceCount, originNode FROM study WHERE studyUID = ?", [jane.studyUID]).first
        #expect(janeStudy?["instanceCount"] as Int? == 4)
        #expect(janeStudy?["originNode"] as String? == "TRUST_A")

        // `dicom-gateway study UID --json`: received, delivered to HUB, reported by HUB, returned to TRUST_A.
        var summary: [String: Any] = [:]
        var events: [[String: Any]] = []
        let complete = try await Self.poll(timeout: 30) {
            let run = try await ProcessRun.run(GatewayProcess.binary, ["study", jane.studyUID, "--config", gw.configPath, "--json"], in: dir)
            guard run.status == 0, let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
                Issue.record("study command failed: \(run.combined)")
                return true
            }
            summary = object
            events = object["timeline"] as? [[String: Any]] ?? []
            return events.count >= 4
        }
        #expect(complete, "\(summary)")
        #expect(events.map { "\($0["event"] as? String ?? "?")@\($0["node"] as? String ?? "?")" }
            == ["received@TRUST_A", "delivered@HUB", "reported@HUB", "report_returned@TRUST_A"], "\(summary)")
        let times = events.compactMap { $0["unix_time"] as? Double }
        #expect(times.count == 4 && times == times.sorted(), "\(events)")
        #expect(events.allSatisfy { ($0["time"] as? String)?.hasSuffix("Z") == true }, "\(events)")
        #expect(summary["study_uid"] as? String == jane.studyUID)
        #expect(summary["instances"] as? Int == 4)
        #expect(summary["patient"] as? [String: String] == ["patient_id": "12345", "issuer": "RTH", "name": "Doe^Jane"])
        #expect((summary["origin"] as? [String: Any])?["node"] as? String == "TRUST_A")
        #expect(summary["deliveries"] as? [String: [String: Int]] == ["HUB": ["done": 3], "TRUST_A": ["done": 1]])
        let turnaround = summary["turnaround"] as? [String: Any] ?? [:]
        #expect(Set(turnaround.keys) == ["received_to_delivered_seconds", "received_to_reported_seconds", "reported_to_report_returned_seconds"])
        if times.count == 4 {
            // Equal up to floating-point rounding (Date differences against differences of Unix times).
            func near(_ value: Double?, _ expected: Double) -> Bool { value.map { abs($0 - expected) < 1e-6 } ?? false }
            #expect(near((turnaround["received_to_delivered_seconds"] as? [String: Double])?["HUB"], times[1] - times[0]), "\(turnaround)")
            #expect(near(turnaround["received_to_reported_seconds"] as? Double, times[2] - times[0]), "\(turnaround)")
            #expect(near(turnaround["reported_to_report_returned_seconds"] as? Double, times[3] - times[2]), "\(turnaround)")
            #expect(times[3] - times[2] < 30, "\(turnaround)")
        }

        // The text form names the same steps.
        let text = try await ProcessRun.run(GatewayProcess.binary, ["study", jane.studyUID, "--config", gw.configPath], in: dir)
        #expect(text.status == 0, "\(text.combined)")
        for line in ["origin     TRUST_A (AE TRUSTA_PACS", "  HUB: done 3", "  TRUST_A: done 1", "report_returned ", "received -> delivered HUB: ",
                     "received -> reported: ", "reported -> report returned: "] {
            #expect(text.stdout.contains(line), "missing '\(line)' in:\n\(text.stdout)")
        }
        let unknown = try await ProcessRun.run(GatewayProcess.binary, ["study", "1.2.3.4.5", "--config", gw.configPath], in: dir)
        #expect(unknown.status != 0)
        #expect(unknown.combined.contains("study 1.2.3.4.5 is not in the cache"), "\(unknown.combined)")

        _ = try? await OffPool.run { gw.terminate() }
        await OrthancPeer.stopAll([a, b])
    }

    /// Polls `condition` (async) every 100 ms until it holds or `timeout` seconds pass.
    static func poll(timeout: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try await condition() { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Rows of one query (synchronous, so it can be called from the async test).
    static func rows(_ gw: GatewayProcess, _ sql: String, _ arguments: IndexArguments = []) throws -> [IndexRow] {
        try gw.indexRows(sql, arguments)
    }

    /// The gateway whose index is read (on SQLite or PostgreSQL).
    static func readIndex(_ gw: GatewayProcess) throws -> GatewayProcess { gw }

    /// A Basic Text SR made with DCMTK's dump2dcm.
    static func basicTextSR(in dir: String, studyUID: String, seriesUID: String, sopUID: String, patientID: String,
                            patientName: String) throws -> String {
        let dump = """
            (0008,0005) CS [ISO_IR 100]
            (0008,0016) UI =BasicTextSRStorage
            (0008,0018) UI [\(sopUID)]
            (0008,0020) DA [20240106]
            (0008,0023) DA [20240106]
            (0008,0030) TM [101010]
            (0008,0033) TM [111111]
            (0008,0050) SH [ACC001]
            (0008,0060) CS [SR]
            (0008,0090) PN [Ref^Doctor]
            (0010,0010) PN [\(patientName)]
            (0010,0020) LO [\(patientID)]
            (0010,0030) DA [19600101]
            (0010,0040) CS [F]
            (0020,000d) UI [\(studyUID)]
            (0020,000e) UI [\(seriesUID)]
            (0020,0010) SH [S1]
            (0020,0011) IS [99]
            (0020,0013) IS [1]
            (0040,a040) CS [CONTAINER]
            (0040,a050) CS [SEPARATE]
            (0040,a491) CS [COMPLETE]
            (0040,a493) CS [VERIFIED]
            """
        let dumpPath = dir + "/report.dump", path = dir + "/report.dcm"
        try dump.write(toFile: dumpPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dump2dcm")
        p.arguments = ["+te", dumpPath, path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("dump2dcm failed for \(path)") }
        return path
    }
}
