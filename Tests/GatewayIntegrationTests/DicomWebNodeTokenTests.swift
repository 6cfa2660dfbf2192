import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import GRDB
import Testing

/// DICOMweb with tokens bound to nodes (`http.tokens[].node`): a request acts as that node does
/// over DIMSE. Two trusts (RTH, RGT) send a patient each, both with the local Patient ID 12345
/// (`identity.patient_id: prefix`); the reporter's token finds what findscu from the reporter's AE
/// finds, by the network Patient IDs; trust A's token sees its own ID, as trust A's C-FIND does;
/// a node without `find` gets 403 on QIDO-RS, without `get` 403 on WADO-RS and WADO-URI, without
/// `store` 403 on STOW-RS, each refusal audited as a security alert; STOW-RS with trust B's
/// token files the instances as trust B's C-STORE would (its issuer, its origin, its routes).
@Suite(.serialized) struct DicomWebNodeTokenTests {
    static let tokens = ["reporter", "trust-a", "trust-b", "finder", "finder-ops", "ops"]

    /// The gateway: the nodes and tokens above; trust B's instances are routed to HUB (not listening:
    /// its deliveries stay queued).
    static func gateway(_ label: String) throws -> (GatewayProcess, TestDirectory, http: Int) {
        let dir = TestDirectory(label)
        let http = Net.freePort()
        for name in tokens { try "\(name)-secret\n".write(toFile: dir.path + "/\(name).token", atomically: true, encoding: .utf8) }
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            identity: { patient_id: prefix }
            http:
              port: \(http)
              tokens:
                - { name: reporter-b-viewer, role: read, node: REPORTER_B, file: reporter.token }
                - { name: trust-a-viewer, role: read, node: TRUST_A, file: trust-a.token }
                - { name: trust-b-ai, role: operate, node: TRUST_B, file: trust-b.token }
                - { name: finder-viewer, role: read, node: FINDER, file: finder.token }
                - { name: finder-ops, role: operate, node: FINDER, file: finder-ops.token }
                - { name: ops, role: operate, file: ops.token }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, issuer: RTH, roles: [source], allow: [echo, store, find, get] }
              TRUST_B: { ae_title: TRUSTB_PACS, issuer: RGT, roles: [source] }
              REPORTER_B: { ae_title: REPB, host: 127.0.0.1, port: \(Net.freePort()), roles: [reporter] }
              FINDER: { ae_title: FINDER, host: 127.0.0.1, port: \(Net.freePort()), roles: [reporter], allow: [echo, find] }
              HUB: { ae_title: HUB, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination] }
            routes:
              - { name: b-to-hub, from: [TRUST_B], to: [HUB] }
            """)
        try gw.start()
        return (gw, dir, http)
    }

    static func get(_ path: String, token: String, http: Int, in dir: TestDirectory, accept: String = "application/dicom+json") throws
        -> (status: Int, body: String)
    {
        try DicomWebPeers.curl(["-H", "Authorization: Bearer \(token)-secret", "-H", "Accept: \(accept)",
                                "http://127.0.0.1:\(http)\(path)"], in: dir)
    }

    /// Study Instance UID -> Patient ID of a QIDO-RS study search.
    static func qido(_ query: String, token: String, http: Int, in dir: TestDirectory) throws -> [String: String] {
        let reply = try get("/dicom-web/studies?includefield=00100020&\(query)", token: token, http: http, in: dir)
        if reply.status == 204 { return [:] }
        guard reply.status == 200, let objects = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]] else {
            throw TestFailure("QIDO-RS \(query) with \(token): \(reply.status) \(reply.body)")
        }
        return Dictionary(uniqueKeysWithValues: objects.map { (Self.value($0, "0020000D"), Self.value($0, "00100020")) })
    }

    static func value(_ object: [String: Any], _ tag: String) -> String {
        ((object[tag] as? [String: Any])?["Value"] as? [String])?.first ?? ""
    }

    /// Study Instance UID -> Patient ID of findscu (study root) from `callingAE`.
    static func findscu(_ gw: GatewayProcess, _ dir: TestDirectory, callingAE: String, patientID: String = "") throws -> [String: String] {
        let out = dir.sub("find-\(UUID().uuidString.prefix(8))")
        let (status, log) = try DCMTK.run("findscu", ["-S", "-aet", callingAE, "-aec", "NETGW", "-X", "-od", out, "127.0.0.1", "\(gw.port)",
                                                      "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID", "-k", "PatientID=\(patientID)"],
                                          in: dir)
        guard status == 0 else { throw TestFailure("findscu from \(callingAE) failed:\n\(log)") }
        let matches = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("rsp") }
            .map { try DicomFile.readAttributes(out + "/" + $0) }
        return Dictionary(uniqueKeysWithValues: matches.map { ($0.string(.studyInstanceUID) ?? "", $0.string(.patientID) ?? "") })
    }

    /// The details of the security alerts of `actor`, once there are `count` (audit rows are
    /// committed in the background: polled for up to 10 s), or as many as there are then.
    static func securityAlerts(_ gw: GatewayProcess, actor: String, count: Int) async throws -> [String] {
        try await auditRows(gw, "SELECT detail FROM audit WHERE event = 'security-alert' AND actor = ? AND outcome = 'permission-denied'",
                            [actor], count: count).map { $0["detail"] as String }
    }

    static func auditRows(_ gw: GatewayProcess, _ sql: String, _ arguments: IndexArguments, count: Int) async throws -> [IndexRow] {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let rows = try WorklistPeers.rows(gw, sql, arguments)
            if rows.count >= count || Date() >= deadline { return rows }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func aNodeBoundTokenSearchesAndRetrievesAsItsNodeDoesOverDIMSE() async throws {
        let (gw, dir, http) = try Self.gateway("webnode-qido")
        defer { _ = gw.terminate() }
        let (studyA, studyB) = (TestData.newUID(), TestData.newUID())
        let filesA = try TestData.study(in: dir.sub("a"), count: 2, studyUID: studyA, patientID: "12345")
        let filesB = try TestData.study(in: dir.sub("b"), count: 1, studyUID: studyB, patientID: "12345")
        for (ae, files) in [("TRUSTA_PACS", filesA), ("TRUSTB_PACS", filesB)] {
            let (status, log) = try DCMTK.run("storescu", ["-aet", ae, "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: dir)
            try #require(status == 0, "\(log)")
        }

        // The reporter's token: network Patient IDs, the very answer of findscu from the reporter's AE.
        let reporter = try Self.qido("", token: "reporter", http: http, in: dir)
        #expect(reporter == [studyA: "RTH-12345", studyB: "RGT-12345"], "\(reporter)")
        #expect(try Self.findscu(gw, dir, callingAE: "REPB") == reporter)
        // A network ID selects that trust's patient only, as in C-FIND.
        let byNetworkID = try Self.qido("PatientID=RTH-12345", token: "reporter", http: http, in: dir)
        #expect(byNetworkID == [studyA: "RTH-12345"], "\(byNetworkID)")
        #expect(try Self.findscu(gw, dir, callingAE: "REPB", patientID: "RTH-12345") == byNetworkID)
        // Trust A's token: its own patient by its own ID, the other trust's by the network's; as its C-FIND.
        let trustA = try Self.qido("", token: "trust-a", http: http, in: dir)
        #expect(trustA == [studyA: "12345", studyB: "RGT-12345"], "\(trustA)")
        #expect(try Self.findscu(gw, dir, callingAE: "TRUSTA_PACS") == trustA)
        let ownID = try Self.qido("PatientID=12345", token: "trust-a", http: http, in: dir)
        #expect(ownID[studyA] == "12345", "\(ownID)")
        // A token without a node: the network view (ops and admin tools).
        #expect(try Self.qido("", token: "ops", http: http, in: dir) == reporter)

        // Trust B may store but not find: 403, with the reason, audited as the DIMSE refusal is.
        let refused = try Self.get("/dicom-web/studies", token: "trust-b", http: http, in: dir)
        #expect(refused.status == 403, "\(refused)")
        #expect(refused.body.contains("may not use QIDO-RS, which needs find"), "\(refused.body)")
        let alerts = try await Self.securityAlerts(gw, actor: "trust-b-ai", count: 1)
        #expect(alerts.count == 1 && alerts[0].contains("node TRUST_B") && alerts[0].contains("GET /dicom-web/studies"), "\(alerts)")

        // WADO-RS metadata: the Patient ID a C-GET to that node would carry.
        func metadataPatientIDs(_ token: String) throws -> [String] {
            let reply = try Self.get("/dicom-web/studies/\(studyA)/metadata", token: token, http: http, in: dir)
            guard reply.status == 200, let objects = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]] else {
                throw TestFailure("metadata with \(token): \(reply.status) \(reply.body)")
            }
            return objects.map { Self.value($0, "00100020") }
        }
        #expect(try metadataPatientIDs("reporter") == ["RTH-12345", "RTH-12345"])
        #expect(try metadataPatientIDs("trust-a") == ["12345", "12345"])
        // The retrieved instance too: its bytes carry the node's ID.
        let sopA = try DicomFile.readAttributes(filesA[0]).string(.sopInstanceUID) ?? ""
        let uri = "/wado?requestType=WADO&studyUID=\(studyA)&seriesUID=\(studyA).1&objectUID=\(sopA)&contentType=application/dicom"
        let (curlStatus, curlLog) = try PeerProcess("/usr/bin/curl", ["-sSf", "-o", dir.path + "/wado-uri.dcm", "-H", "Authorization: Bearer reporter-secret",
                                                                      "http://127.0.0.1:\(http)\(uri)"], logDirectory: dir.path).run(timeout: 60)
        #expect(curlStatus == 0, "\(curlLog)")
        #expect(try DicomFile.readAttributes(dir.path + "/wado-uri.dcm").string(.patientID) == "RTH-12345")

        // FINDER may find but not get: WADO-RS and WADO-URI answer 403, audited; its QIDO works.
        #expect(try Self.qido("", token: "finder", http: http, in: dir).count == 2)
        let noMetadata = try Self.get("/dicom-web/studies/\(studyA)/metadata", token: "finder", http: http, in: dir)
        #expect(noMetadata.status == 403 && noMetadata.body.contains("may not use WADO-RS, which needs get"), "\(noMetadata)")
        let noURI = try Self.get(uri, token: "finder", http: http, in: dir, accept: "application/dicom")
        #expect(noURI.status == 403 && noURI.body.contains("WADO-URI"), "\(noURI)")
        #expect(try await Self.securityAlerts(gw, actor: "finder-viewer", count: 2).count == 2)
        // UPS-RS needs the node's worklist permission (a reporter without reporting: lacks it); a token without a node passes.
        let noWorklist = try Self.get("/dicom-web/workitems", token: "reporter", http: http, in: dir)
        #expect(noWorklist.status == 403 && noWorklist.body.contains("may not use UPS-RS, which needs worklist:"), "\(noWorklist)")
        #expect(try Self.get("/dicom-web/workitems", token: "ops", http: http, in: dir).status != 403)
        #expect(gw.terminate() == 0)
    }

    @Test func stowWithANodeBoundTokenStoresAsThatNode() async throws {
        let (gw, dir, http) = try Self.gateway("webnode-stow")
        defer { _ = gw.terminate() }
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("in"), count: 2, studyUID: study, patientID: "777")
        let body = DicomWebPeers.multipart(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, boundary: "n0de")
        try body.write(to: URL(fileURLWithPath: dir.path + "/body"))
        func post(_ token: String) throws -> (status: Int, body: String) {
            try DicomWebPeers.curl(["-X", "POST", "-H", "Content-Type: multipart/related; type=application/dicom; boundary=n0de",
                                    "-H", "Accept: application/dicom+json", "-H", "Authorization: Bearer \(token)-secret",
                                    "--data-binary", "@" + dir.path + "/body", "http://127.0.0.1:\(http)/dicom-web/studies"], in: dir)
        }
        // FINDER's operate token: the role suffices, the node's permissions do not (no store).
        let refused = try post("finder-ops")
        #expect(refused.status == 403 && refused.body.contains("may not use STOW-RS, which needs store"), "\(refused)")
        #expect(try await Self.securityAlerts(gw, actor: "finder-ops", count: 1).count == 1)
        let stored = try post("trust-b")
        #expect(stored.status == 200, "\(stored)")

        // Filed as trust B's C-STORE would be: its AE title, its origin, its issuer on the patient.
        let rows = try WorklistPeers.rows(gw, """
            SELECT i.callingAE, s.originNode, p.issuer, p.patientID FROM instance i JOIN series se ON se.id = i.seriesRef
            JOIN study s ON s.id = se.studyRef JOIN patient p ON p.id = s.patientRef WHERE s.studyUID = ?
            """, [study])
        #expect(rows.count == 2, "\(rows)")
        #expect(rows.allSatisfy { ($0["callingAE"] as String) == "TRUSTB_PACS" && ($0["originNode"] as String?) == "TRUST_B"
                && ($0["issuer"] as String) == "RGT" && ($0["patientID"] as String) == "777" }, "\(rows)")
        // Routed by trust B's route, and seen by a reporter under the network Patient ID.
        let deliveries = try WorklistPeers.rows(gw, """
            SELECT d.destination FROM delivery d JOIN instance i ON i.id = d.instanceRef JOIN series se ON se.id = i.seriesRef
            JOIN study s ON s.id = se.studyRef WHERE s.studyUID = ?
            """, [study])
        #expect(deliveries.map { $0["destination"] as String } == ["HUB", "HUB"], "\(deliveries)")
        #expect(try Self.qido("StudyInstanceUID=\(study)", token: "reporter", http: http, in: dir) == [study: "RGT-777"])
        let audit = try await Self.auditRows(gw, "SELECT actor FROM audit WHERE event = 'association' AND detail LIKE 'STOW-RS%'", [], count: 1)
        #expect(audit.map { $0["actor"] as String } == ["TRUSTB_PACS"], "\(audit)")
        #expect(gw.terminate() == 0)
    }
}
