import DicomCore
import DicomNetwork
import Foundation
import GRDB
import Testing

/// UPS-RS (PS3.18 §11) over the reporting worklist with curl as the client: search, retrieve,
/// claim with a Transaction UID, a second claim refused (PS3.4 CC.1.1), a completion with the
/// wrong Transaction UID refused, one with the right one done, a cancel by the performer; each
/// change in the audit trail.
@Suite(.serialized) struct UPSRSTests {
    static func value(_ object: [String: Any], _ tag: String) -> Any? { ((object[tag] as? [String: Any])?["Value"] as? [Any])?.first }

    @Test func searchRetrieveClaimCompleteAndCancelWorkitems() async throws {
        let dir = TestDirectory("ups")
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              SITE_A: { ae_title: SITEA_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination, reporter],
                        reporting: { skills: [general], capacity: 10, on_demand: true } }
            reporting:
              review_interval: 1s
              rules:
                - { name: images, when: { category: image }, skill: general }
            """)
        try gw.start()
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("s"), count: 1, studyUID: study, patientID: "P1", modality: "CR")
        let (status, output) = try DCMTK.run("/usr/bin/storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: dir)
        try #require(status == 0, "\(output)")
        let api = HTTPProbe(port: gw.httpPort)
        _ = try api.wait("/api/v1/worklist?state=allocated", timeout: 30) { ((try? $0.object()["items"] as? [[String: Any]]) ?? [])?.count == 1 }
        let root = "http://127.0.0.1:\(gw.httpPort)/dicom-web"

        // Search: the allocated item is SCHEDULED, at SITE_A, for the study; a range that misses it finds nothing (204).
        let today = String(UPSRSTests.utcDate().prefix(8))
        let found = try DicomWebPeers.curlWithHeaders(["\(root)/workitems?ProcedureStepState=SCHEDULED&ScheduledProcedureStepStartDateTime=\(today)-"],
                                                       in: dir)
        #expect(found.status == 200, "\(found.body)")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(found.body.utf8)) as? [[String: Any]])
        #expect(items.count == 1)
        let item = try #require(items.first)
        #expect(Self.value(item, "00741000") as? String == "SCHEDULED")
        let station = Self.value(item, "00404025") as? [String: Any]
        #expect(station.flatMap { Self.value($0, "00080100") } as? String == "SITE_A", "\(item)")
        let request = Self.value(item, "0040A370") as? [String: Any]
        #expect(request.flatMap { Self.value($0, "0020000D") } as? String == study)
        #expect(item["00081195"] == nil, "the Transaction UID is never shown")
        let uid = try #require(Self.value(item, "00080018") as? String)
        #expect(try DicomWebPeers.curl(["\(root)/workitems?ScheduledProcedureStepStartDateTime=19990101-19991231"], in: dir).status == 204)
        #expect(try DicomWebPeers.curl(["\(root)/workitems?ProcedureStepState=IN%20PROGRESS"], in: dir).status == 204)
        #expect(try DicomWebPeers.curl(["\(root)/workitems?StudyInstanceUID=\(study)"], in: dir).status == 200)
        #expect(try DicomWebPeers.curl(["\(root)/workitems/2.25.1"], in: dir).status == 404)

        func change(_ state: String, _ transaction: String) throws -> (status: Int, body: String, headers: [String: String]) {
            let body = #"{"00741000": {"vr": "CS", "Value": ["\#(state)"]}, "00081195": {"vr": "UI", "Value": ["\#(transaction)"]}}"#
            return try DicomWebPeers.curlWithHeaders(["-X", "PUT", "-H", "Content-Type: application/dicom+json", "--data-binary", body,
                                                      "\(root)/workitems/\(uid)/state"], in: dir)
        }
        let (t1, t2) = (TestData.newUID(), TestData.newUID())
        let claimed = try change("IN PROGRESS", t1)
        #expect(claimed.status == 200, "\(claimed.body)")
        let retrieved = try DicomWebPeers.curl(["\(root)/workitems/\(uid)"], in: dir)
        let now = try #require((try JSONSerialization.jsonObject(with: Data(retrieved.body.utf8)) as? [[String: Any]])?.first)
        #expect(Self.value(now, "00741000") as? String == "IN PROGRESS", "\(retrieved.body)")
        let row = try #require(try WorklistPeers.items(gw)[study])
        #expect(row["state"] as String? == "in_progress")
        #expect(row["transactionUID"] as String? == t1)

        let second = try change("IN PROGRESS", t2)
        #expect(second.status == 409, "\(second.body)")
        #expect(second.headers["warning"]?.contains("already IN PROGRESS") == true, "\(second.headers)")
        let wrong = try change("COMPLETED", t2)
        #expect(wrong.status == 409, "\(wrong.body)")
        #expect(wrong.headers["warning"]?.contains("correct Transaction UID") == true, "\(wrong.headers)")
        let done = try change("COMPLETED", t1)
        #expect(done.status == 200, "\(done.body)")
        #expect(try WorklistPeers.items(gw)[study]?["state"] as String? == "reported")
        let completed = try DicomWebPeers.curl(["\(root)/workitems?ProcedureStepState=COMPLETED"], in: dir)
        #expect(completed.body.contains(uid), "\(completed.body)")
        let late = try change("IN PROGRESS", t2)
        #expect(late.status == 409 && late.headers["warning"]?.contains("may no longer be updated") == true, "\(late.headers)")

        // Another study's item: claimed, then cancelled by the same performer (another Transaction UID is refused).
        let other = TestData.newUID()
        let more = try TestData.study(in: dir.sub("o"), count: 1, studyUID: other, patientID: "P2", modality: "CR")
        let (sent, log) = try DCMTK.run("/usr/bin/storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + more, in: dir)
        try #require(sent == 0, "\(log)")
        _ = try api.wait("/api/v1/worklist?state=allocated", timeout: 30) { ((try? $0.object()["items"] as? [[String: Any]]) ?? [])?.count == 1 }
        let listed = try DicomWebPeers.curl(["\(root)/workitems?StudyInstanceUID=\(other)"], in: dir)
        let otherItem = try #require((try JSONSerialization.jsonObject(with: Data(listed.body.utf8)) as? [[String: Any]])?.first, "\(listed.body)")
        let otherUID = try #require(Self.value(otherItem, "00080018") as? String)
        func change(_ uid: String, _ state: String, _ transaction: String) throws -> Int {
            let body = #"{"00741000": {"vr": "CS", "Value": ["\#(state)"]}, "00081195": {"vr": "UI", "Value": ["\#(transaction)"]}}"#
            return try DicomWebPeers.curl(["-X", "PUT", "--data-binary", body, "\(root)/workitems/\(uid)/state"], in: dir).status
        }
        let t3 = TestData.newUID()
        #expect(try change(otherUID, "CANCELED", t3) == 409, "a SCHEDULED item cannot be canceled by a state change")
        #expect(try change(otherUID, "IN PROGRESS", t3) == 200)
        #expect(try change(otherUID, "CANCELED", t1) == 409)
        #expect(try change(otherUID, "CANCELED", t3) == 200)
        #expect(try WorklistPeers.items(gw)[other]?["state"] as String? == "cancelled")

        let audit = try WorklistPeers.rows(gw, "SELECT outcome, detail FROM audit WHERE event = 'worklist' AND studyUID = ?", [study])
        let outcomes = audit.map { $0["outcome"] as String }
        #expect(outcomes.contains("claimed") && outcomes.contains("completed"), "\(audit)")
        #expect(audit.filter { ($0["outcome"] as String) == "refused" && ($0["detail"] as String).hasPrefix("UPS-RS") }.count >= 2, "\(audit)")
        // Searches and retrieves are queries in the audit trail, with what they found.
        let queries = try await DicomWebNodeTokenTests.auditRows(
            gw, "SELECT outcome, detail, studyUID FROM audit WHERE event = 'query' AND detail LIKE 'UPS-RS%'", [], count: 2)
        #expect(queries.contains { ($0["outcome"] as String) == "0 match(es)" && ($0["detail"] as String).contains("19990101-19991231") },
                "\(queries)")
        #expect(queries.contains { ($0["outcome"] as String) == "1 match(es)" && ($0["studyUID"] as String?) == study
                                   && ($0["detail"] as String).hasPrefix("UPS-RS workitem ") }, "\(queries)")
        #expect(gw.terminate() == 0)
    }

    static func utcDate() -> String {
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMddHHmmss"
        return f.string(from: Date())
    }
}
