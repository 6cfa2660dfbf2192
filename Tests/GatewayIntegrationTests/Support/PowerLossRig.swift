import DicomCore
import DicomNetwork
import Foundation
import GRDB
import GatewayStore

/// Power-loss trials of the gateway: its storage (files, index, WAL) on lossyfs; storescu senders
/// in parallel (new studies, and replacements of earlier ones with `duplicates: replace`) while it
/// forwards to a storescp HUB, opens worklist items and retires studies (retention above 1 MB:
/// a pass at every start, so some cuts land in one); the power is cut at a random moment with
/// the gateway and the senders killed -9 at the same instant; the gateway restarts on what
/// survived, and every acknowledgement is checked. Used by PowerLossTests (a few trials) and
/// scripts/bench/power-loss (many, via POWER_LOSS_TRIALS).
final class PowerLossRig: @unchecked Sendable {
    // Safe: used from the test's own thread only.
    let dir: TestDirectory
    let fs: LossyMount
    let gateway: GatewayProcess
    let hub: PeerProcess
    let received: String
    let client = DicomClient(callingAE: "CHECKER")

    /// One version of an instance that was sent: its dataset digest, and whether it was acknowledged.
    struct Version { let digest: String; let acknowledged: Bool }
    private(set) var versions: [String: [Version]] = [:]  // SOP Instance UID -> versions in sending order
    private(set) var studyOf: [String: String] = [:]      // SOP Instance UID -> Study Instance UID
    private(set) var problems: [String] = []
    struct Stats {
        var trials = 0, acknowledged = 0, replaced = 0
        var interrupted = 0           // senders cut before their last acknowledgement
        var deliveriesOutstanding = 0 // restarts that found deliveries not yet done
        var retired = 0               // studies retired by retention, as of the last check
        var unacknowledgedKept = 0    // instances indexed after a cut although no version was acknowledged
    }
    private(set) var stats = Stats()
    private var studies: [(uid: String, files: [String])] = []
    private var retired = Set<String>()  // studies with a retention audit row, as of the last check

    init(label: String, torn: Double = 0) throws {
        dir = TestDirectory(label)
        fs = LossyMount(directory: dir, name: "disk", torn: torn)
        try fs.mount()
        let storage = fs.path("storage")
        // The operator's storage directory exists and is durable before the gateway first starts.
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: false)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        let hubPort = Net.freePort()
        gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination], max_associations: 2 }
              SITE: { ae_title: SITE_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [reporter],
                      reporting: { skills: [general], capacity: 10000, on_demand: true } }
            delivery: { batch_size: 8 }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            reporting:
              rules:
                - { name: images, when: { category: image }, skill: general }
            """, storagePath: storage, storageYAML: ", duplicates: replace, retention: { max_size: 1MB }")
        received = dir.sub("hub")
        // The HUB stores on the real disk; +uf: every copy gets its own file.
        hub = PeerProcess("storescp", ["+uf", "-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        try DicomRuntime.bootstrap()
    }

    /// One trial: start the gateway on the surviving state, check it, send, cut the power.
    func trial(_ n: Int) async throws {
        try gateway.start()
        try await verify(label: "before trial \(n)")
        var senders: [(PeerProcess, [String])] = []
        for s in 0..<3 {
            let uid = TestData.newUID()
            let files = try TestData.study(in: dir.sub("t\(n)"), count: 40, studyUID: uid, patientID: "P\(n)-\(s)", rows: 64, columns: 64)
            studies.append((uid, files))
            senders.append((try send(files), files))
        }
        if let earlier = studies.dropLast(3).randomElement() {  // a replacement of an earlier study, different bytes
            let files = try TestData.study(in: dir.sub("t\(n)-r"), count: earlier.files.count, studyUID: earlier.uid,
                                           description: "Replaced in trial \(n)", rows: 64, columns: 64)
            senders.append((try send(files), files))
            stats.replaced += 1
        }
        let firstAck = Date().addingTimeInterval(20)
        while !senders.contains(where: { $0.0.output.contains("Received Store Response") }) && Date() < firstAck { usleep(5_000) }
        usleep(UInt32.random(in: 0...700_000))
        fs.cutPower(killing: [gateway.peer!] + senders.map(\.0))
        for (sender, files) in senders {
            let acknowledged = Set(acknowledgedFiles(storescuOutput: sender.output))
            if acknowledged.count < files.count { stats.interrupted += 1 }
            stats.acknowledged += acknowledged.count
            for file in files {
                let info = try DicomFile.probe(file)
                studyOf[info.sopInstanceUID] = info.studyInstanceUID
                versions[info.sopInstanceUID, default: []].append(
                    Version(digest: try DatasetDigest.sha256(ofFile: file).digest, acknowledged: acknowledged.contains(file)))
            }
        }
        stats.trials += 1
        try fs.mount()
    }

    private func send(_ files: [String]) throws -> PeerProcess {
        try PeerProcess("storescu", ["-v", "-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files,
                        logDirectory: dir.path).start()
    }

    /// The digests the cache may hold for `sop`: the last acknowledged version or any sent after it.
    private func allowed(_ sop: String) -> Set<String>? {
        guard let all = versions[sop], let last = all.lastIndex(where: \.acknowledged) else { return nil }
        return Set(all[last...].map(\.digest))
    }

    /// Studies retention retired (its audit row is written in the transaction that removes the rows).
    private func retiredStudies() throws -> Set<String> {
        try WorklistPeers.index(gateway).read { db in
            Set(try String.fetchAll(db, sql: "SELECT studyUID FROM audit WHERE event = 'evict'"))
        }
    }

    /// Records the problems found, except those of studies retention retired meanwhile: the
    /// retention pass at each start runs while the checks do.
    private func keep(_ found: [(study: String, text: String)]) throws {
        retired = try retiredStudies()
        stats.retired = retired.count
        problems += found.filter { !retired.contains($0.study) }.map(\.text)
    }

    /// Every acknowledged instance is filed with an allowed digest, indexed (C-FIND) and has its
    /// worklist item; no index row names a missing file.
    func verify(label: String) async throws {
        var found: [(study: String, text: String)] = []
        let index = try WorklistPeers.index(gateway)
        let (rows, outstanding) = try index.read { db in
            (try Row.fetchAll(db, sql: """
                SELECT i.sopUID, i.path, s.studyUID FROM instance i
                JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
                """),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery WHERE state != 'done'") ?? 0)
        }
        if outstanding > 0 { stats.deliveriesOutstanding += 1 }
        var indexed = Set<String>()
        for row in rows {
            let sop: String = row["sopUID"], path: String = row["path"], study: String = row["studyUID"]
            indexed.insert(sop)
            if !FileManager.default.fileExists(atPath: gateway.storageRoot + "/" + path) {
                found.append((study, "\(label): index row of \(sop) names a missing file \(path)"))
            }
        }
        let items = try WorklistPeers.items(gateway)
        var byStudy: [String: [String]] = [:]
        var unacknowledgedKept = 0
        for sop in versions.keys {
            let study = studyOf[sop]!
            guard let allowed = allowed(sop) else {
                if indexed.contains(sop) { unacknowledgedKept += 1 }
                continue
            }
            byStudy[study, default: []].append(sop)
            guard let stored = storedPath(gateway.storageRoot, sop: sop) else {
                found.append((study, "\(label): acknowledged \(sop) is missing"))
                continue
            }
            // Retention (its pass at each start runs beside the checks) may remove it meanwhile:
            // recorded like a missing file, and forgiven by `keep` if its study was retired.
            guard let digest = try? DatasetDigest.sha256(ofFile: stored).digest else {
                found.append((study, "\(label): acknowledged \(sop) is missing (gone while read)"))
                continue
            }
            if !allowed.contains(digest) {
                found.append((study, "\(label): \(sop) holds bytes never acknowledged"))
            }
            if !indexed.contains(sop) { found.append((study, "\(label): acknowledged \(sop) has no index row")) }
        }
        stats.unacknowledgedKept = unacknowledgedKept
        for (study, sops) in byStudy {
            if items[study] == nil { found.append((study, "\(label): the worklist item of acknowledged study \(study) is missing")) }
            var keys = DicomAttributes()
            keys[.queryRetrieveLevel] = "IMAGE"
            keys[.studyInstanceUID] = study
            keys[.sopInstanceUID] = ""
            let (matches, result) = try await client.find(gateway.node, model: .studyRoot, keys: keys)
            let matched = Set(matches.compactMap { $0.string(.sopInstanceUID) })
            if !result.status.isSuccess || !matched.isSuperset(of: sops) {
                found.append((study, "\(label): C-FIND finds \(matched.intersection(sops).count) of \(sops.count) acknowledged instances of \(study)"))
            }
        }
        // A study retention retired may lack any instance; its deliveries are still checked at the
        // HUB (a study with deliveries outstanding is never retired).
        try keep(found)
    }

    /// After the last trial: every acknowledged instance is retrievable (C-GET) with its bytes,
    /// and reaches the HUB.
    func finish() async throws {
        try gateway.start()
        try await verify(label: "after the last trial")
        var found: [(study: String, text: String)] = []
        let acknowledged = Set(versions.keys.filter { allowed($0) != nil })
        for study in Set(acknowledged.map { studyOf[$0]! }).subtracting(retired) {
            let out = dir.sub("get-\(study)")
            var keys = DicomAttributes()
            keys[.queryRetrieveLevel] = "STUDY"
            keys[.studyInstanceUID] = study
            _ = try await client.get(gateway.node, model: .studyRoot, keys: keys, into: out)
            var got: [String: String] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [] {
                let info = try DicomFile.probe(out + "/" + name)
                got[info.sopInstanceUID] = try DatasetDigest.sha256(ofFile: out + "/" + name).digest
            }
            for sop in acknowledged where studyOf[sop] == study {
                guard let digest = got[sop] else { found.append((study, "C-GET of \(study) did not return acknowledged \(sop)")); continue }
                if !allowed(sop)!.contains(digest) { found.append((study, "C-GET returned bytes never acknowledged for \(sop)")) }
            }
        }
        try keep(found)
        let census = ReceivedCensus(directory: received)
        let delivered = Arrivals.wait(in: received, timeout: 120, poll: 0.5) { _ in census.distinct().isSuperset(of: acknowledged) }
        if !delivered {
            let missing = acknowledged.subtracting(census.distinct())
            problems.append("\(missing.count) acknowledged instances never reached the HUB, e.g. \(missing.prefix(3)); queue:\n\(try outstandingDeliveries(gateway).prefix(1500))")
        }
        if gateway.terminate() != 0 { problems.append("the gateway did not stop cleanly:\n\(gateway.peer?.output.suffix(3000) ?? "")") }
        hub.stop()
    }

    var summary: String {
        "\(stats.trials) trials, \(stats.acknowledged) acknowledged stores (\(versions.count) instances, "
            + "\(stats.replaced) replacement studies), \(stats.interrupted) senders cut mid-study, "
            + "\(stats.deliveriesOutstanding) restarts with deliveries outstanding, "
            + "\(stats.retired) studies retired, \(stats.unacknowledgedKept) unacknowledged instances kept, \(problems.count) problems"
    }
}
