import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import GRDB
import Testing

/// The network: two real Orthanc trust PACS, the gateway (real binary) pulling from them on a
/// schedule, retrieving on demand for a reporter, and answering federated queries.
@Suite(.serialized) struct FederationTests {
    static var today: String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date())
    }

    /// Counts cached instances per study by reading the gateway's index (read-only).
    static func cachedCounts(_ gateway: GatewayProcess) -> [String: Int] {
        let rows = (try? gateway.indexRows("""
            SELECT s.studyUID AS uid, COUNT(i.id) AS n FROM study s JOIN series se ON se.studyRef = s.id
            JOIN instance i ON i.seriesRef = se.id GROUP BY s.studyUID
            """)) ?? []
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["uid"] as String, $0["n"] as Int) })
    }

    static func patients(_ gateway: GatewayProcess, id: String) -> [String] {
        ((try? gateway.indexRows("SELECT issuer || '|' || patientID AS p FROM patient WHERE patientID = ? ORDER BY issuer", [id])) ?? [])
            .map { $0["p"] as String }
    }

    static func auditCount(_ gateway: GatewayProcess, event: String, studyUID: String) -> Int {
        (try? gateway.indexRows("SELECT COUNT(*) AS n FROM audit WHERE event = ? AND studyUID = ?", [event, studyUID]).first
            .map { $0["n"] as Int }) ?? -1
    }

    static func waitFor(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return condition()
    }

    @Test func scheduledPullFetchesNewStudiesFromBothTrustsIncludingADownOneAndAGrowingStudy() async throws {
        let dir = TestDirectory("pull")
        let (portA, portB) = (Net.freePort(), Net.freePort())
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source],
                         pull: { interval: 2s, lookback: 1d } }
              TRUST_B: { ae_title: TRUSTB_PACS, host: 127.0.0.1, port: \(portB), issuer: RGT, roles: [source],
                         pull: { interval: 2s, lookback: 1d, filters: { ModalitiesInStudy: CT } } }
            """)
        let modalities = ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gateway.port)]
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir, modalities: modalities, dicomPort: portA)
        let today = Self.today
        let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: nil, studyDate: today, instances: 3)
        let richard = TrustStudy(patientID: "67890", patientName: "Roe^Richard", issuer: nil, modality: "MR", studyDate: today,
                                 studyDescription: "MR knee", bodyPart: "KNEE", instances: 1)
        let old = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: nil, studyDate: "20200101", instances: 1)
        try await a.load([jane, richard, old], writingIn: dir.sub("a-files"))
        _ = try await OffPool.run { try gateway.start() }

        // Trust B is down at first: its polls fail and are retried with back-off on their own.
        let pulledA = await Self.waitFor(60) {
            let c = Self.cachedCounts(gateway)
            return c[jane.studyUID] == 3 && c[richard.studyUID] == 1
        }
        #expect(pulledA, "trust A's studies of today were not pulled: \(Self.cachedCounts(gateway))\n\(gateway.peer?.output.suffix(3000) ?? "")")
        #expect(Self.cachedCounts(gateway)[old.studyUID] == nil, "a study outside the look-back window was pulled")

        let b = try await OrthancPeer.launch(aeTitle: "TRUSTB_PACS", in: dir, modalities: modalities, dicomPort: portB)
        let john = TrustStudy(patientID: "12345", patientName: "Smith^John", issuer: nil, studyDate: today, studyDescription: "CT chest",
                              bodyPart: "CHEST", instances: 2)
        let johnMR = TrustStudy(patientID: "12345", patientName: "Smith^John", issuer: nil, modality: "MR", studyDate: today, instances: 1)
        try await b.load([john, johnMR], writingIn: dir.sub("b-files"))
        let pulledB = await Self.waitFor(60) { Self.cachedCounts(gateway)[john.studyUID] == 2 }
        #expect(pulledB, "trust B was not pulled after it came back: \(Self.cachedCounts(gateway))\n\(gateway.peer?.output.suffix(3000) ?? "")")
        #expect(Self.cachedCounts(gateway)[johnMR.studyUID] == nil, "B's filter ModalitiesInStudy=CT was not applied")

        // A study still growing at the source is pulled again until complete.
        var grown = jane
        grown.instances = 5
        let files = try grown.write(in: dir.sub("a-more"))
        try await a.upload(files: Array(files.suffix(2)))
        let regrown = await Self.waitFor(60) { Self.cachedCounts(gateway)[jane.studyUID] == 5 }
        #expect(regrown, "the grown study was not completed: \(Self.cachedCounts(gateway))")

        // Same local Patient ID at two trusts: two patients in the cache, told apart by issuer.
        #expect(Self.patients(gateway, id: "12345") == ["RGT|12345", "RTH|12345"])
        let exitStatus = try await OffPool.run { gateway.terminate() }
        #expect(exitStatus == 0)
        await OrthancPeer.stopAll([a, b])
    }

    @Test func reporterRetrievesUncachedStudyFetchedOnceAndSeesTheWholeNetworkInItsQuery() async throws {
        let dir = TestDirectory("pullthrough")
        let (portA, portB, hubPort) = (Net.freePort(), Net.freePort(), Net.freePort())
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source] }
              TRUST_B: { ae_title: TRUSTB_PACS, host: 127.0.0.1, port: \(portB), issuer: RGT, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [reporter], federated_query: true }
            """)
        let modalities = ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gateway.port)]
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir, modalities: modalities, dicomPort: portA)
        let b = try await OrthancPeer.launch(aeTitle: "TRUSTB_PACS", in: dir, modalities: modalities, dicomPort: portB)
        let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH", instances: 6)
        let john = TrustStudy(patientID: "12345", patientName: "Smith^John", issuer: "RGT", studyDescription: "CT chest", instances: 2)
        try await a.load([jane], writingIn: dir.sub("a-files"))
        try await b.load([john], writingIn: dir.sub("b-files"))
        _ = try await OffPool.run { try gateway.start() }
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["--fork", "+uf", "-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        let hubListens = try await OffPool.run { Net.waitForListener(hubPort) }
        try #require(hubListens, "the reporter's storescp did not listen")

        // Two reporters' C-MOVEs for a study only trust A holds, at the same time.
        let moves = (0..<2).map { _ in
            PeerProcess("movescu", ["-v", "-S", "-aet", "HUB_READ", "-aec", "NETGW", "-aem", "HUB_READ",
                                    "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(jane.studyUID)",
                                    "127.0.0.1", "\(gateway.port)"], logDirectory: dir.path)
        }
        for m in moves { try m.start() }
        for m in moves {
            #expect(m.wait(timeout: 120) == 0, "movescu failed:\n\(m.output.suffix(2000))")
            #expect(m.output.contains("Received Final Move Response (Success)"), "\(m.output.suffix(1500))")
        }
        let delivered = (try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []
        #expect(delivered.count == 12, "both reporters' moves deliver all 6 instances: \(delivered.count)")
        #expect(Self.cachedCounts(gateway)[jane.studyUID] == 6)
        #expect(Self.auditCount(gateway, event: "pull", studyUID: jane.studyUID) == 1,
                "the study was fetched from the source more than once (or never)\n\(gateway.peer?.output.suffix(3000) ?? "")")

        // Federated query: the cached study is ONLINE; trust B's study, not cached, is NEARLINE via the gateway.
        var keys = DicomAttributes()
        keys[.queryRetrieveLevel] = "STUDY"
        keys[.patientID] = "12345"
        keys[.patientName] = ""
        keys[.studyInstanceUID] = ""
        keys[.retrieveAETitle] = ""
        keys[.instanceAvailability] = ""
        let reporter = DicomClient(callingAE: "HUB_READ")
        let (matches, result) = try await reporter.find(gateway.node, model: .studyRoot, keys: keys)
        #expect(result.status.isSuccess)
        let byStudy = Dictionary(uniqueKeysWithValues: matches.map { ($0.string(.studyInstanceUID) ?? "", $0) })
        #expect(Set(byStudy.keys) == [jane.studyUID, john.studyUID], "\(matches)")
        #expect(byStudy[jane.studyUID]?.string(.instanceAvailability) == "ONLINE")
        #expect(byStudy[john.studyUID]?.string(.instanceAvailability) == "NEARLINE")
        #expect(byStudy[john.studyUID]?.string(.retrieveAETitle) == "NETGW")
        #expect(byStudy[john.studyUID]?.string(.patientName) == "Smith^John")

        // A caller without federated_query sees only the cache.
        let plain = DicomClient(callingAE: "OTHER_WS")
        let (cachedOnly, _) = try await plain.find(gateway.node, model: .studyRoot, keys: keys)
        #expect(cachedOnly.compactMap { $0.string(.studyInstanceUID) } == [jane.studyUID])
        let exitStatus = try await OffPool.run { gateway.terminate() }
        #expect(exitStatus == 0)
        await OrthancPeer.stopAll([a, b])
    }

    /// With `identity.patient_id: prefix`, a reporter's federated query by the network Patient ID
    /// finds the patient's cached study and, asked of the trust by the trust's own ID, the one
    /// still only at the trust, both answered with the network ID.
    @Test func aFederatedQueryByTheNetworkIDAsksTheTrustByItsOwnID() async throws {
        let dir = TestDirectory("federated-network-id")
        let portA = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            identity: { patient_id: prefix }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [reporter], federated_query: true }
            """)
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir,
                                             modalities: ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gateway.port)], dicomPort: portA)
        let earlier = TrustStudy(patientID: "12345", patientName: "Doe^Jane", studyDate: "20200101", instances: 1)
        let latest = TrustStudy(patientID: "12345", patientName: "Doe^Jane", studyDate: "20240102", instances: 1)
        let files = try await a.load([earlier, latest], writingIn: dir.sub("a-files"))
        _ = try await OffPool.run { try gateway.start() }
        // The earlier study reaches the cache (and with it the mapping 12345@RTH -> RTH-12345).
        let sent = try await ProcessRun.run(PeerProcess.resolve("storescu"), [
            "-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + (files[earlier.studyUID] ?? []), in: dir)
        #expect(sent.status == 0, "\(sent.combined)")

        var keys = DicomAttributes()
        keys[.queryRetrieveLevel] = "STUDY"
        keys[.patientID] = "RTH-12345"
        keys[.studyInstanceUID] = ""
        keys[.instanceAvailability] = ""
        let (matches, result) = try await DicomClient(callingAE: "HUB_READ").find(gateway.node, model: .studyRoot, keys: keys)
        #expect(result.status.isSuccess)
        let byStudy = Dictionary(uniqueKeysWithValues: matches.map { ($0.string(.studyInstanceUID) ?? "", $0) })
        #expect(Set(byStudy.keys) == [earlier.studyUID, latest.studyUID], "\(matches)")
        #expect(byStudy[earlier.studyUID]?.string(.instanceAvailability) == "ONLINE")
        #expect(byStudy[latest.studyUID]?.string(.instanceAvailability) == "NEARLINE")
        #expect(matches.allSatisfy { $0.string(.patientID) == "RTH-12345" }, "\(matches)")
        let exitStatus = try await OffPool.run { gateway.terminate() }
        #expect(exitStatus == 0)
        await OrthancPeer.stopAll([a])
    }
}

/// Relevant priors: a new stat CT from trust A makes the gateway fetch the patient's earlier CT
/// from A at bulk priority and send it to the reporter after the new study.
@Suite(.serialized) struct PriorFetchTests {
    @Test func priorOfANewStatStudyFollowsItToTheReporterAtBulkWithoutDelayingIt() async throws {
        let dir = TestDirectory("priors")
        let (portA, hubPort) = (Net.freePort(), Net.freePort())
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            priorities:
              - { class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
            priors: { count: 2, years: 5, match: [modality] }
            routes:
              - { name: a-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        let modalities = ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gateway.port)]
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir, modalities: modalities, dicomPort: portA)
        let today = FederationTests.today
        let year = Int(today.prefix(4))!
        let priorCT = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH",
                                 studyDate: "\(year - 2)0301", studyDescription: "CT head", instances: 3)
        let priorMR = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH", modality: "MR",
                                 studyDate: "\(year - 1)0301", studyDescription: "MR knee", bodyPart: "KNEE", instances: 1)
        let ancientCT = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH",
                                   studyDate: "\(year - 10)0301", studyDescription: "CT head", instances: 1)
        let otherPatient = TrustStudy(patientID: "99999", patientName: "Roe^Richard", issuer: "RTH",
                                      studyDate: "\(year - 1)0101", studyDescription: "CT head", instances: 1)
        try await a.load([priorCT, priorMR, ancientCT, otherPatient], writingIn: dir.sub("a-files"))
        _ = try await OffPool.run { try gateway.start() }
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }

        // The new study: stat, sent by trust A's modality workflow (storescu as TRUSTA_PACS).
        let newStudy = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH", studyDate: today,
                                  studyDescription: "CT head stroke pathway", instances: 20)
        let files = try newStudy.write(in: dir.sub("new"))
        let (status, output) = try await DCMTK.runOffPool("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1",
                                                                     "\(gateway.port)"] + files, in: dir)
        #expect(status == 0, "\(output.suffix(1500))")

        // Arrival order at the reporter, as first seen.
        var order: [String] = []
        let done = await FederationTests.waitFor(60) {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []).sorted() where !order.contains(name) {
                order.append(name)
            }
            return order.count >= 23
        }
        #expect(done, "expected 20 new + 3 prior instances at the reporter, got \(order.count)\n\(gateway.peer?.output.suffix(3000) ?? "")")
        let newNames = order.filter { $0.contains(newStudy.studyUID) }
        let priorNames = order.filter { $0.contains(priorCT.studyUID) }
        #expect(newNames.count == 20)
        #expect(priorNames.count == 3)
        #expect(order.filter { $0.contains(priorMR.studyUID) || $0.contains(ancientCT.studyUID) || $0.contains(otherPatient.studyUID) }.isEmpty,
                "only the relevant prior (same modality, within 5 years, same patient) is sent")
        if let lastNew = order.lastIndex(where: { $0.contains(newStudy.studyUID) }),
           let firstPrior = order.firstIndex(where: { $0.contains(priorCT.studyUID) }) {
            #expect(lastNew < firstPrior, "a prior went out before the stat study was complete: \(order)")
        }
        // The prior's deliveries were bulk.
        // storescp writes a file before it answers: the last delivery may still be in flight.
        var rows: [[String: Any]] = []
        let listDeadline = Date().addingTimeInterval(20)
        repeat {
            let list = try await ProcessRun.run(GatewayProcess.binary, [
                "queue", "list", "--config", gateway.configPath, "--state", "done", "--study", priorCT.studyUID, "--json"], in: dir)
            rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list.combined)")
            if rows.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < listDeadline
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0["class"] as? String == "bulk" && $0["destination"] as? String == "HUB" }, "\(rows)")
        #expect(FederationTests.cachedCounts(gateway)[priorMR.studyUID] == nil, "an irrelevant prior was fetched")
        let exitStatus = try await OffPool.run { gateway.terminate() }
        #expect(exitStatus == 0)
        await OrthancPeer.stopAll([a])
    }
}

/// `pull: { method: get }`: the instances come back on the gateway's own association, so the
/// source needs no route to the gateway (here its entry for the gateway has a dead port).
@Suite(.serialized) struct PullByGetTests {
    @Test func scheduledPullByCGetIngestsAndRoutesWithoutAMoveDestination() async throws {
        let dir = TestDirectory("pullget")
        let (portA, hubPort) = (Net.freePort(), Net.freePort())
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source],
                         pull: { interval: 2s, lookback: 1d, method: get } }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            routes:
              - { name: a-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        let deadPort = Net.freePort()
        let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir,
                                             modalities: ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: deadPort)],
                                             dicomPort: portA)
        let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: nil, studyDate: FederationTests.today, instances: 4)
        try await a.load([jane], writingIn: dir.sub("a-files"))
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        _ = try await OffPool.run { try gateway.start() }

        let pulled = await FederationTests.waitFor(60) { FederationTests.cachedCounts(gateway)[jane.studyUID] == 4 }
        #expect(pulled, "C-GET pull did not cache the study: \(FederationTests.cachedCounts(gateway))\n\(gateway.peer?.output.suffix(3000) ?? "")")
        #expect(FederationTests.patients(gateway, id: "12345") == ["RTH|12345"], "pulled instances gain the node's issuer")
        let routed = await FederationTests.waitFor(30) {
            ((try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []).filter { $0.contains(jane.studyUID) }.count == 4
        }
        #expect(routed, "pulled instances were not routed to the hub")
        let exitStatus = try await OffPool.run { gateway.terminate() }
        #expect(exitStatus == 0)
        await OrthancPeer.stopAll([a])
    }
}
