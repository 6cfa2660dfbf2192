import DicomCore
import DicomNetwork
import Foundation
import GRDB
import Testing

/// An item's whole life against real peers: a real Orthanc trust pushes its studies; the site
/// first chosen is down, so its unstarted item is reallocated and the images reach the other site
/// (storescp); at `escalate_at` the study's waiting deliveries (to an archive that is down too)
/// move up a class; past the deadline the item is overdue; a study no rule matched becomes an
/// orphan; every event reaches a webhook receiver (which refuses its first request: the gateway
/// retries) without patient data; the site's SR closes the item and goes home to the trust.
@Suite(.serialized) struct WorklistLifecycleTests {
    @Test func stalledItemIsReallocatedEscalatedOverdueThenReportedAndReturnedWhileAStudyWithoutARuleBecomesAnOrphan() async throws {
        let dir = TestDirectory("worklist-life")
        let (portA, upPort, downPort, archivePort, hookPort) = (Net.freePort(), Net.freePort(), Net.freePort(), Net.freePort(), Net.freePort())
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            delivery: { retry_initial: 1s, retry_max: 2s }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source, destination] }
              ARCHIVE: { ae_title: ARCHIVE, host: 127.0.0.1, port: \(archivePort), roles: [destination] }
              DOWN: { ae_title: DOWN_READ, host: 127.0.0.1, port: \(downPort), roles: [destination, reporter],
                      reporting: { skills: [general], capacity: 100 } }
              UP: { ae_title: UP_READ, host: 127.0.0.1, port: \(upPort), roles: [destination, reporter],
                    reporting: { skills: [general], capacity: 10 } }
            routes:
              - { name: to-archive, from: [TRUST_A], when: { category: image }, to: [ARCHIVE] }
              - { name: reports-home, from: [UP, DOWN], when: { category: report }, to: [origin] }
            reporting:
              deadlines: { routine: 16s }
              escalate_at: 50%
              orphan_after: 6s
              grace: 10m
              review_interval: 1s
              notify: { webhook: "http://127.0.0.1:\(hookPort)/hooks/reporting" }
              rules:
                - { name: films, when: { Modality: CR, category: image }, skill: general }
            """)
        let hookFile = dir.path + "/hook.jsonl"
        let hook = try WorklistPeers.start(WorklistPeers.webhook, named: "hook", ["\(hookPort)", hookFile, "1"], in: dir)
        let upFolder = dir.sub("up")
        let up = try PeerProcess("/usr/bin/storescp", ["-aet", "UP_READ", "-od", upFolder, "\(upPort)"], logDirectory: dir.path).start()
        let trust = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir,
                                                 modalities: ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gw.port)], dicomPort: portA)
        defer { up.stop(); hook.stop() }
        _ = try await OffPool.run { try gw.start() }
        func log() -> String { String(gw.peer?.output.suffix(6000) ?? "") }

        let film = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: nil, modality: "CR",
                              studyDescription: "Abdomen film", bodyPart: "ABDOMEN", instances: 2)
        let mr = TrustStudy(patientID: "777", patientName: "Roe^Richard", issuer: nil, modality: "MR",
                            studyDescription: "MR knee", bodyPart: "KNEE", instances: 1)
        try await trust.load([film, mr], writingIn: dir.sub("trust-files"))
        for study in [film, mr] {
            let id = try #require(try await trust.findStudies(query: ["StudyInstanceUID": study.studyUID]).first?.id)
            _ = try await trust.request("POST", "/modalities/gateway/store", body: Data(id.utf8), contentType: "text/plain")
        }

        // DOWN (the most spare capacity) gets it first; its deliveries fail, so the unstarted item
        // moves to UP, whose storescp receives both images; DOWN's unsent copies are cancelled.
        let atUp = await OffPool.waitUntil(timeout: 40) { WorklistPeers.files(upFolder).count == 2 }
        #expect(atUp, "\(log())")
        var item = try #require(try WorklistPeers.items(gw)[film.studyUID], "no item for the film study\n\(log())")
        #expect(item["site"] as String == "UP")
        #expect(item["origin"] as String? == "TRUST_A")
        #expect(item["passedOver"] as String == "DOWN")
        let history = try WorklistPeers.rows(gw, "SELECT event, site, detail FROM worklist_event WHERE itemRef = ? ORDER BY id",
                                             [item["id"] as Int64])
        #expect(history.map { "\($0["event"] as String)@\($0["site"] as String)" }.prefix(3) == ["created@", "allocated@DOWN", "reallocated@UP"],
                "\(history)")
        #expect((history.first { ($0["event"] as String) == "reallocated" }?["detail"] as String?)?.contains("deliveries to DOWN are failing") == true)
        let downStates = try WorklistPeers.rows(gw, "SELECT state FROM delivery WHERE destination = 'DOWN'").map { $0["state"] as String }
        #expect(downStates.count == 2 && downStates.allSatisfy { $0 == "cancelled" }, "\(downStates)")
        let audited = try WorklistPeers.rows(gw, "SELECT outcome FROM audit WHERE event = 'worklist'").map { $0["outcome"] as String }
        #expect(audited.contains("reallocated"), "\(audited)")

        // At 50% of the 16 s to the deadline its waiting deliveries (to the archive, which is down) go up to urgent.
        let escalated = await OffPool.waitUntil(timeout: 30) {
            let ranks = (try? WorklistPeers.rows(gw, "SELECT priority FROM delivery WHERE destination = 'ARCHIVE' AND route = 'to-archive' AND instanceRef IN (SELECT i.id FROM instance i JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef WHERE s.studyUID = ?)", [film.studyUID]).map { $0["priority"] as Int }) ?? []
            return ranks.count == 2 && ranks.allSatisfy { $0 == 2 }
        }
        #expect(escalated, "\(log())")
        item = try #require(try WorklistPeers.items(gw)[film.studyUID])
        #expect(item["escalatedAt"] as Double? != nil)

        // A study no rule matched, with no report after 6 s: an orphan, with an item to act on.
        let orphaned = await OffPool.waitUntil(timeout: 30) { (try? WorklistPeers.items(gw)[mr.studyUID]?["orphan"] as String?) == "no_rule" }
        #expect(orphaned, "\(log())")

        // Past the deadline, unreported: overdue, announced once.
        let overdue = await OffPool.waitUntil(timeout: 40) { (try? WorklistPeers.items(gw)[film.studyUID]?["overdueAt"] as Double?) != nil }
        #expect(overdue, "\(log())")

        // The webhook heard of the reallocation, the orphan and the overdue item (its first answer
        // was a refusal, so at least one was retried), and never a patient's name or ID.
        let heard = await OffPool.waitUntil(timeout: 40) {
            Set(WorklistPeers.notifications(in: hookFile).compactMap { $0["event"] as? String }).isSuperset(of: ["reallocated", "overdue", "orphan"])
        }
        let notes = WorklistPeers.notifications(in: hookFile)
        #expect(heard, "\(notes)\n\(log())")
        let overdueNote = notes.first { $0["event"] as? String == "overdue" }
        #expect(overdueNote?["study_instance_uid"] as? String == film.studyUID)
        #expect(overdueNote?["origin"] as? String == "TRUST_A")
        #expect(overdueNote?["site"] as? String == "UP")
        #expect(overdueNote?["class"] as? String == "routine")
        #expect((overdueNote?["deadline"] as? String)?.hasSuffix("Z") == true)
        #expect(notes.first { $0["event"] as? String == "orphan" }?["study_instance_uid"] as? String == mr.studyUID)
        let raw = (try? String(contentsOfFile: hookFile, encoding: .utf8)) ?? ""
        for secret in ["Doe", "Jane", "12345", "Roe", "777"] { #expect(!raw.contains(secret), "patient data '\(secret)' in a notification") }
        let retried = try WorklistPeers.rows(gw, "SELECT MAX(attempts) AS n FROM worklist_notification").first?["n"] as Int?
        #expect(retried ?? 0 >= 1)
        let logged = log()
        for secret in ["Doe^Jane", "Roe^Richard"] { #expect(!logged.contains(secret)) }

        // UP reports it (an SR with the network's view of the patient): reported, and returned once home.
        let srUID = film.studyUID + ".99.1"
        let sr = try ReportsHomeTests.basicTextSR(in: dir.sub("reports"), studyUID: film.studyUID, seriesUID: film.studyUID + ".99",
                                                  sopUID: srUID, patientID: "RTH-12345", patientName: "Doe^Jane")
        let (status, output) = try await DCMTK.runOffPool("/usr/bin/storescu", ["-aet", "UP_READ", "-aec", "NETGW", "127.0.0.1", "\(gw.port)", sr], in: dir)
        #expect(status == 0, "\(output)")
        let returned = await OffPool.waitUntil(timeout: 40) { (try? WorklistPeers.items(gw)[film.studyUID]?["state"] as String?) == "returned" }
        item = try #require(try WorklistPeers.items(gw)[film.studyUID])
        #expect(returned, "state \(item["state"] as String)\n\(log())")
        #expect(item["reportedBy"] as String == "UP")
        #expect(item["orphan"] as String? == nil)
        #expect(try await !trust.findInstances(query: ["SOPInstanceUID": srUID]).isEmpty, "the report did not reach the trust")
        // A second report is an addendum, not a new item.
        let sr2 = try ReportsHomeTests.basicTextSR(in: dir.sub("reports2"), studyUID: film.studyUID, seriesUID: film.studyUID + ".98",
                                                   sopUID: film.studyUID + ".98.1", patientID: "RTH-12345", patientName: "Doe^Jane")
        _ = try await DCMTK.runOffPool("/usr/bin/storescu", ["-aet", "UP_READ", "-aec", "NETGW", "127.0.0.1", "\(gw.port)", sr2], in: dir)
        let addendum = await OffPool.waitUntil(timeout: 20) {
            ((try? WorklistPeers.rows(gw, "SELECT event FROM worklist_event WHERE event = 'addendum'")) ?? []).count == 1
        }
        #expect(addendum)
        #expect(try WorklistPeers.rows(gw, "SELECT id FROM worklist_item").count == 2)

        _ = try? await OffPool.run { gw.terminate() }
        await OrthancPeer.stopAll([trust])
    }
}
