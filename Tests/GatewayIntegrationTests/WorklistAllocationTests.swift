import DicomCore
import DicomNetwork
import Foundation
import GRDB
import Testing

/// The reporting worklist allocates by skill and levels load: three real reporting sites
/// (two DCMTK storescp, one pynetdicom), studies sent with DCMTK storescu as a trust PACS.
/// While the two general sites are outside their hours the items wait, flagged; when a reload
/// brings them into hours, the stat stroke study is allocated and delivered first, and a burst of
/// 30 routine studies spreads over the two sites in proportion to their capacity (10 and 20).
@Suite(.serialized) struct WorklistAllocationTests {
    /// `HH:MM-HH:MM`, a window that starts `from` minutes from now and lasts an hour.
    static func window(startingIn from: Int) -> String {
        let now = Calendar(identifier: .gregorian).dateComponents(in: TimeZone.current, from: Date())
        let start = ((now.hour ?? 0) * 60 + (now.minute ?? 0) + from) % 1440
        let end = (start + 60) % 1440
        func text(_ m: Int) -> String { String(format: "%02d:%02d", m / 60, m % 60) }
        return "\(text(start))-\(text(end))"
    }

    @Test func studiesAreAllocatedBySkillAndABurstSpreadsOverSitesInProportionToCapacityAfterTheStatStudy() async throws {
        let dir = TestDirectory("worklist-alloc")
        let (neuroPort, generalPort, mskPort) = (Net.freePort(), Net.freePort(), Net.freePort())
        let closed = Self.window(startingIn: 180)
        let yaml = """
            priorities:
              - { name: stroke, class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              NEURO: { ae_title: NEURO_READ, host: 127.0.0.1, port: \(neuroPort), roles: [destination, reporter],
                       reporting: { skills: [neuro, general], capacity: 10, hours: "HOURS" } }
              GENERAL: { ae_title: GEN_READ, host: 127.0.0.1, port: \(generalPort), roles: [destination, reporter],
                         reporting: { skills: [general, chest], capacity: 20, hours: "HOURS" } }
              MSK: { ae_title: MSK_READ, host: 127.0.0.1, port: \(mskPort), roles: [destination, reporter],
                     reporting: { skills: [msk], capacity: 5 } }
            reporting:
              review_interval: 1s
              rules:
                - { name: stroke, when: { Modality: CT, StudyDescription: "~(?i)stroke" }, skill: neuro, deadline: 30m }
                - { name: chest, when: { Modality: [CR, DX], BodyPartExamined: CHEST }, skill: chest }
                - { name: msk, when: { BodyPartExamined: [KNEE, HAND] }, skill: msk }
                - { name: images, when: { category: image }, skill: general }
            """
        let gw = try GatewayProcess(directory: dir, extraYAML: yaml.replacingOccurrences(of: "HOURS", with: closed))
        let neuroFolder = dir.sub("neuro"), generalFolder = dir.sub("general"), mskFolder = dir.sub("msk")
        let neuro = try PeerProcess("/usr/bin/storescp", ["-aet", "NEURO_READ", "-od", neuroFolder, "\(neuroPort)"], logDirectory: dir.path).start()
        let general = try PeerProcess("/usr/bin/storescp", ["-aet", "GEN_READ", "-od", generalFolder, "\(generalPort)"], logDirectory: dir.path).start()
        let msk = try WorklistPeers.start(WorklistPeers.storeSCP, named: "msk", ["\(mskPort)", mskFolder, "MSK_READ"], in: dir)
        defer { neuro.stop(); general.stop(); msk.stop() }
        try gw.start()
        func log() -> String { String(gw.peer?.output.suffix(6000) ?? "") }

        // Thirty routine studies, then a chest film, a knee and a stroke CT, as one trust sends them.
        var routine: [String] = []
        var files: [String] = []
        for i in 0..<30 {
            let uid = TestData.newUID()
            routine.append(uid)
            files += try TestData.study(in: dir.sub("routine"), count: 1, studyUID: uid, patientID: "R\(i)", modality: "CR",
                                        description: "Abdomen", extra: [.bodyPartExamined: "ABDOMEN"])
        }
        let chest = TestData.newUID(), knee = TestData.newUID(), stroke = TestData.newUID()
        files += try TestData.study(in: dir.sub("chest"), count: 1, studyUID: chest, patientID: "C1", modality: "CR",
                                    description: "Chest PA", extra: [.bodyPartExamined: "CHEST"])
        files += try TestData.study(in: dir.sub("knee"), count: 1, studyUID: knee, patientID: "K1", modality: "CR",
                                    description: "Knee", extra: [.bodyPartExamined: "KNEE"])
        files += try TestData.study(in: dir.sub("stroke"), count: 3, studyUID: stroke, patientID: "S1", modality: "CT",
                                    description: "CT head STROKE pathway", extra: [.bodyPartExamined: "HEAD"])
        let (status, output) = try await DCMTK.runOffPool("/usr/bin/storescu",
            ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: dir)
        try #require(status == 0, "\(output.suffix(2000))\n\(log())")

        // Outside the general sites' hours: only the knee goes (to MSK, the one site with msk),
        // everything else waits, flagged with the reason.
        let kneeArrived = await OffPool.waitUntil(timeout: 30) { WorklistPeers.files(mskFolder).count == 1 }
        #expect(kneeArrived, "\(log())")
        let flagged = await OffPool.waitUntil(timeout: 30) {
            let items = (try? WorklistPeers.items(gw)) ?? [:]
            return items.count == 33 && items.values.filter { ($0["state"] as String) == "scheduled" && !($0["flag"] as String).isEmpty }.count == 32
        }
        var items = try WorklistPeers.items(gw)
        #expect(flagged, "\(items.values.map { "\($0["studyUID"] as String) \($0["state"] as String) \($0["flag"] as String)" })\n\(log())")
        #expect(items[knee]?["site"] as String? == "MSK")
        #expect(items[knee]?["state"] as String? == "allocated")
        #expect((items[stroke]?["flag"] as String?)?.contains("NEURO outside its hours (\(closed))") == true, "\(String(describing: items[stroke]))")
        #expect(items[stroke]?["priority"] as Int? == 3)
        let strokeDeadline = (items[stroke]?["deadline"] as Double? ?? 0) - (items[stroke]?["arrivedAt"] as Double? ?? 0)
        #expect(abs(strokeDeadline - 1800) < 0.001)
        #expect(items[routine[0]]?["priority"] as Int? == 1)
        #expect(WorklistPeers.files(neuroFolder).isEmpty && WorklistPeers.files(generalFolder).isEmpty)

        // Both sites come into hours (the whole day) by a configuration reload.
        try yaml.replacingOccurrences(of: "HOURS", with: "00:00-24:00").write(toFile: gw.configPath, atomically: true, encoding: .utf8)
        let reload = try HTTPProbe(port: gw.httpPort).post("/api/v1/config/reload")
        #expect(reload.status == 200, "\(reload.text)")
        let allocated = await OffPool.waitUntil(timeout: 30) {
            ((try? WorklistPeers.items(gw)) ?? [:]).values.allSatisfy { ($0["state"] as String) == "allocated" }
        }
        items = try WorklistPeers.items(gw)
        #expect(allocated, "\(log())")
        #expect(items[stroke]?["site"] as String? == "NEURO")
        #expect(items[chest]?["site"] as String? == "GENERAL")
        let atNeuro = routine.filter { items[$0]?["site"] as String? == "NEURO" }.count
        let atGeneral = routine.filter { items[$0]?["site"] as String? == "GENERAL" }.count
        // Open effort over capacity levels out: NEURO 1 (stroke) + n against GENERAL 1 (chest) + 30 - n,
        // at 10 and 20 per hour, gives n = 9 or 10.
        #expect(atNeuro + atGeneral == 30)
        #expect((9...10).contains(atNeuro), "NEURO got \(atNeuro), GENERAL \(atGeneral)")

        // The stat study was allocated first, before every routine study that had waited longer.
        let order = try WorklistPeers.rows(gw, """
            SELECT w.studyUID FROM worklist_event e JOIN worklist_item w ON w.id = e.itemRef WHERE e.event = 'allocated' ORDER BY e.id
            """).map { $0["studyUID"] as String }
        #expect(order.first == knee && order.dropFirst().first == stroke, "allocation order: \(order.prefix(4))")
        // Its explanation names every site and why it lost.
        let explanation = try #require(items[routine[0]]?["explanation"] as String?)
        let decision = try #require(try JSONSerialization.jsonObject(with: Data(explanation.utf8)) as? [String: Any])
        let candidates = decision["candidates"] as? [[String: Any]] ?? []
        #expect(Set(candidates.compactMap { $0["site"] as? String }) == ["NEURO", "GENERAL", "MSK"], "\(decision)")
        #expect(candidates.first { $0["site"] as? String == "MSK" }?["note"] as? String == "does not report general", "\(decision)")

        // Every image reaches its site; at NEURO the stroke study's three arrive before its routine ones.
        let delivered = await OffPool.waitUntil(timeout: 60) {
            WorklistPeers.files(neuroFolder).count == 3 + atNeuro && WorklistPeers.files(generalFolder).count == 1 + atGeneral
        }
        #expect(delivered, "neuro \(WorklistPeers.files(neuroFolder).count), general \(WorklistPeers.files(generalFolder).count)\n\(log())")
        func modified(_ folder: String, _ name: String) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.modificationDate] as? Date) ?? .distantFuture
        }
        let neuroFiles = WorklistPeers.files(neuroFolder)
        let strokeTimes = neuroFiles.filter { $0.contains(stroke) }.map { modified(neuroFolder, $0) }
        let routineTimes = neuroFiles.filter { !$0.contains(stroke) }.map { modified(neuroFolder, $0) }
        #expect(strokeTimes.count == 3)
        if let lastStroke = strokeTimes.max(), let firstRoutine = routineTimes.min() {
            #expect(lastStroke <= firstRoutine, "a routine study reached NEURO before the stroke study was complete")
        }
        #expect(WorklistPeers.files(mskFolder).count == 1)
        // Copies to the reporters went by the worklist (there is no route), at the item's class.
        let deliveries = try WorklistPeers.rows(gw, "SELECT destination, route, priority, state FROM delivery")
        #expect(deliveries.count == 35)
        #expect(deliveries.allSatisfy { ($0["route"] as String) == "worklist" && ($0["state"] as String) == "done" })
        #expect(deliveries.filter { ($0["priority"] as Int) == 3 }.count == 3)
        #expect(gw.terminate() == 0)
    }
}
