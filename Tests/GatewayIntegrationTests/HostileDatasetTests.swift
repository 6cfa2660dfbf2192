import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Hostile data never crashes the gateway: data sets nesting sequences past `limits.max_sequence_depth`
/// (64 by default) are refused as they arrive, before DCMTK's recursive parser sees them, as
/// C-STORE (0xC000) and as C-FIND identifiers (0xA900); one at the limit is stored, routed and
/// retrieved. Sent raw by scripts/fuzz/dicom_wire.py (its own DICOM UL client, so the bytes are
/// exactly what a hostile peer would send); after each group the process is alive, answers
/// C-ECHO, and its memory, threads and descriptors are back near their baseline.
@Suite(.serialized) struct HostileDatasetTests {
    static let wire = PythonPeer.repositoryRoot + "/scripts/fuzz/dicom_wire.py"

    /// Runs dicom_wire.py and returns its JSON line.
    static func wire(_ arguments: [String], port: Int, dir: TestDirectory) async throws -> [String: Any] {
        let (status, output) = try await PythonPeer.process(wire, ["--port", "\(port)"] + arguments, logDirectory: dir.path)
            .runOffPool(timeout: 120)
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw TestFailure("dicom_wire \(arguments) exited \(status) without a result: \(output.suffix(2000))") }
        return object
    }

    static func status(_ r: [String: Any]) -> Int? { r["status"] as? Int }

    @Test func nestedDataSetsAreRefusedBeforeParsingAndTheGatewayStaysUp() async throws {
        let dir = TestDirectory("hostile")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              WIRE: { ae_title: WIRE, roles: [source], allow: [echo, store, find, get] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            routes:
              - { name: all-to-hub, from: [WIRE], to: [HUB] }
            """)
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        let process = try gateway.start()
        let pid = process.process.processIdentifier
        func alive(_ label: String) async throws {
            #expect(process.process.isRunning, "the gateway died after \(label): \(process.output.suffix(3000))")
            let echo = try await Self.wire(["echo"], port: gateway.port, dir: dir)
            #expect(Self.status(echo) == 0, "no C-ECHO after \(label): \(echo)")
        }
        try await alive("start")
        let baseline = (rss: ProcessProbe.residentKiB(pid), threads: ProcessProbe.threads(pid), fds: ProcessProbe.openFiles(pid))

        // C-STORE: within the limit stored, past it refused; undefined- and defined-length, implicit and explicit.
        for depth in [10, 64, 65, 100, 1_000, 10_000, 100_000] {
            let r = try await Self.wire(["store-nested", "\(depth)"], port: gateway.port, dir: dir)
            if depth <= 64 {
                #expect(Self.status(r) == 0x0000, "depth \(depth) is within the limit: \(r)")
            } else {
                #expect(Self.status(r) == 0xC000, "depth \(depth) must be refused with 0xC000: \(r)")
                #expect((r["error_comment"] as? String ?? "").contains("nesting"), "\(r)")
            }
        }
        for depth in [65, 100_000] {
            let r = try await Self.wire(["store-nested", "\(depth)", "--defined-length", "--transfer-syntax", "explicit"],
                                        port: gateway.port, dir: dir)
            #expect(Self.status(r) == 0xC000, "defined-length explicit depth \(depth): \(r)")
        }
        try await alive("nested C-STOREs")

        // C-FIND identifiers: past the limit refused as they arrive (0xA900); within it, sequence
        // matching is refused clearly (0xC211) rather than ignored, which would match every study.
        for depth in [10, 64, 65, 1_000, 10_000, 100_000] {
            let r = try await Self.wire(["find-nested", "\(depth)"], port: gateway.port, dir: dir)
            #expect(Self.status(r) == (depth <= 64 ? 0xC211 : 0xA900), "find depth \(depth): \(r)")
            #expect(r["matches"] as? Int == 0, "a refused query returns nothing: \(r)")
        }
        try await alive("nested C-FINDs")

        // The instances within the limit went through: routed to the destination and retrievable.
        let census = ReceivedCensus(directory: received)
        #expect(Arrivals.wait(in: received, timeout: 30, poll: 0.2) { _ in census.distinctCount() >= 2 },
                "the depth-10 and depth-64 instances must reach the destination: \(census.distinctCount())")
        let get = try await PeerProcess("getscu", ["-P", "-aet", "WIRE", "-aec", "NETGW", "-k", "QueryRetrieveLevel=PATIENT",
                                                   "-k", "PatientID=WIRE-NESTED", "-od", dir.sub("got"), "127.0.0.1", "\(gateway.port)"],
                                        logDirectory: dir.path).runOffPool(timeout: 60)
        #expect(get.status == 0, "\(get.output)")
        let got = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/got")) ?? []
        #expect(got.count == 2, "getscu retrieves the two stored nested instances: \(got) \(get.output.suffix(1500))")

        // Resources back near the baseline (a refused data set is dropped as it arrives, not kept).
        #expect(await OffPool.waitUntil(timeout: 10) { ProcessProbe.openFiles(pid) <= baseline.fds + 4 },
                "descriptors \(ProcessProbe.openFiles(pid)) against \(baseline.fds)")
        #expect(await OffPool.waitUntil(timeout: 10) { ProcessProbe.threads(pid) <= baseline.threads + 4 },
                "threads \(ProcessProbe.threads(pid)) against \(baseline.threads)")
        #expect(ProcessProbe.residentKiB(pid) < baseline.rss + 64 * 1024,
                "resident memory \(ProcessProbe.residentKiB(pid)) KiB against \(baseline.rss) KiB")
        print("hostile data sets: rss \(baseline.rss) -> \(ProcessProbe.residentKiB(pid)) KiB, threads \(baseline.threads) -> "
              + "\(ProcessProbe.threads(pid)), fds \(baseline.fds) -> \(ProcessProbe.openFiles(pid))")
        #expect(gateway.terminate() == 0)
    }

    /// DCMTK parses command sets as they arrive, recursively: a "command" nesting sequences is cut
    /// off by the transport (it resets the connection) before DCMTK sees it.
    @Test func aNestedCommandSetIsCutOffAndTheGatewayStaysUp() async throws {
        let dir = TestDirectory("hostile")
        let gateway = try GatewayProcess(directory: dir)
        let process = try gateway.start()
        let script = dir.path + "/command.py"
        try Self.nestedCommandScript.write(toFile: script, atomically: true, encoding: .utf8)
        let (status, output) = try await PythonPeer.process(script, [PythonPeer.repositoryRoot + "/scripts/fuzz", "\(gateway.port)"],
                                                            logDirectory: dir.path).runOffPool(timeout: 120)
        #expect(status == 0, "\(output)")
        #expect(output.contains("depth 10000: connection closed"), "\(output)")
        #expect(output.contains("depth 0: status 0x0000"), "a plain C-ECHO still works: \(output)")
        #expect(process.process.isRunning, "\(process.output.suffix(3000))")
        #expect(gateway.terminate() == 0)
    }

    /// Sends a C-ECHO whose command set carries (0008,1115) nested `depth` times (undefined lengths).
    static let nestedCommandScript = #"""
    import struct, sys
    sys.path.insert(0, sys.argv[1])
    import dicom_wire as dw
    port = int(sys.argv[2])
    for depth in (10000, 0):
        a = dw.Association.open("127.0.0.1", port, contexts=[(dw.VERIFICATION, [dw.IMPLICIT_LE])])
        nested = (struct.pack("<HHI", 0x0008, 0x1115, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)) * depth
        command = dw.echo_rq() + nested
        try:
            a.send(dw.pdu(4, dw.pdv(1, 3, command)))
            reply = a.receive_message()
            print("depth %d: status 0x%04X" % (depth, struct.unpack("<H", reply[0][(0, 0x0900)])[0]), flush=True)
            a.release()
        except Exception as e:
            print("depth %d: connection closed (%s)" % (depth, type(e).__name__), flush=True)
    """#

    @Test func anOverLimitFileCachedByAnOlderVersionIsQuarantinedAtStart() async throws {
        let dir = TestDirectory("hostile")
        let hubPort = Net.freePort()
        let nodes = """
            nodes:
              WIRE: { ae_title: WIRE, roles: [source], allow: [echo, store, find, get] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            routes:
              - { name: all-to-hub, from: [WIRE], to: [HUB] }
            """
        // A gateway that allowed deeper nesting caches a depth-100 instance (the destination is down).
        let permissive = try GatewayProcess(directory: dir, extraYAML: nodes + "\nlimits: { max_sequence_depth: 128 }")
        try permissive.start()
        let stored = try await Self.wire(["--calling-ae", "WIRE", "store-nested", "100"], port: permissive.port, dir: dir)
        #expect(Self.status(stored) == 0x0000, "\(stored)")
        #expect(permissive.terminate() == 0)
        // As a row migrated from before the limits existed looks: not yet checked.
        let sql = PeerProcess("sqlite3", [permissive.storageRoot + "/index.sqlite", "UPDATE instance SET limitsChecked = 0"],
                              logDirectory: dir.path)
        #expect(try sql.run(timeout: 30).status == 0, "\(sql.output)")

        // This version, default limits, destination up: the file is quarantined at start, never sent.
        let strict = try GatewayProcess(directory: dir, extraYAML: nodes)
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        #expect(Net.waitForListener(hubPort))
        let process = try strict.start()
        try await Task.sleep(for: .seconds(3))
        #expect(process.process.isRunning)
        #expect(process.output.contains("quarantined: its cached file breaks the input limits"), "\(process.output.prefix(3000))")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []).isEmpty,
                "an over-limit cached file must not be sent")
        let list = try PeerProcess(GatewayProcess.binary, ["queue", "list", "--config", strict.configPath, "--state", "quarantined"],
                                   logDirectory: dir.path).run(timeout: 60)
        #expect(list.output.contains("quarantined"), "\(list.output)")
        // Nor retrieved: a C-GET lists it as failed and sends nothing.
        let get = try await PeerProcess("getscu", ["-P", "-aet", "WIRE", "-aec", "NETGW", "-k", "QueryRetrieveLevel=PATIENT",
                                                   "-k", "PatientID=WIRE-NESTED", "-od", dir.sub("got"), "127.0.0.1", "\(strict.port)"],
                                        logDirectory: dir.path).runOffPool(timeout: 60)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/got")) ?? []).isEmpty,
                "a quarantined instance must not be retrieved: \(get.output.suffix(1500))")
        #expect(process.process.isRunning)
        #expect(strict.terminate() == 0)
    }

    @Test func largeQueryKeysGetACorrectAnswerOrAClearRefusal() async throws {
        let gw = try await CacheQR.boot("bigkeys")
        let study = TestData.newUID()
        try await CacheQR.storescu(gw, try TestData.study(in: gw.directory.sub("in"), count: 2, studyUID: study, patientID: "BIGKEYS"))
        let script = gw.directory.path + "/keys.py"
        try Self.keysScript.write(toFile: script, atomically: true, encoding: .utf8)
        let (port, logs) = (gw.port, gw.directory.path)
        let (status, output) = try await CacheQR.offPool {
            try PythonPeer.process(script, ["\(port)", study], logDirectory: logs).run(timeout: 120)
        }
        #expect(status == 0, "\(output)")
        print("large query keys:\n\(output)")
        func result(_ name: String) -> (status: Int, matches: Int, comment: String, seconds: Double)? {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("\(name) ") }) else { return nil }
            let f = line.split(separator: " ", maxSplits: 4).map(String.init)
            guard f.count >= 4, let s = Int(f[1]), let m = Int(f[2]), let t = Double(f[3]) else { return nil }
            return (s, m, f.count > 4 ? f[4] : "", t)
        }
        let uidList = try #require(result("uid-list-10000"), "\(output)")
        #expect(uidList.status == 0 && uidList.matches == 1, "10,000 Study Instance UIDs, one of them cached: \(uidList)")
        let longName = try #require(result("patient-name-70000"), "\(output)")
        #expect(longName.status == 0xC211 && longName.matches == 0 && longName.comment.contains("bytes"), "\(longName)")
        let longID = try #require(result("patient-id-70000"), "\(output)")
        #expect(longID.status == 0xC211 && longID.matches == 0, "\(longID)")
        let wildcards = try #require(result("wildcards-40"), "\(output)")
        #expect(wildcards.status == 0xC211 && wildcards.matches == 0 && wildcards.comment.contains("wildcards"), "\(wildcards)")
        let star = try #require(result("wildcard-only"), "\(output)")
        #expect(star.status == 0 && star.matches == 1, "PatientID * is a universal match: \(star)")
        for r in [uidList, longName, longID, wildcards, star] { #expect(r.seconds < 5, "a query took \(r.seconds) s") }
        #expect(await gw.answersEcho())
        await gw.stop()
    }

    /// pynetdicom C-FINDs with large keys; prints "NAME STATUS MATCHES SECONDS COMMENT" per query.
    static let keysScript = #"""
    import sys, time
    import pydicom.config
    from pydicom.dataset import Dataset
    from pydicom.uid import ImplicitVRLittleEndian
    from pynetdicom import AE
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as FIND
    # Values past their VR's maximum are the point here; Implicit VR carries lengths over 64 KiB.
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    pydicom.config.settings.writing_validation_mode = pydicom.config.IGNORE
    port, study = int(sys.argv[1]), sys.argv[2]
    ae = AE(ae_title="BIGKEYS")
    ae.add_requested_context(FIND, ImplicitVRLittleEndian)
    ae.maximum_pdu_size = 0
    a = ae.associate("127.0.0.1", port, ae_title="NETGW")
    assert a.is_established, "association failed"
    def run(name, **keys):
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.StudyInstanceUID = keys.pop("StudyInstanceUID", "")
        ds.PatientID = keys.pop("PatientID", "")
        ds.PatientName = keys.pop("PatientName", "")
        start, matches, status, comment = time.time(), 0, -1, ""
        for st, ident in a.send_c_find(ds, FIND):
            if st is None:
                break
            status = st.Status
            comment = str(getattr(st, "ErrorComment", "") or "")
            if status in (0xFF00, 0xFF01):
                matches += 1
        print(name, status, matches, "%.3f" % (time.time() - start), comment, flush=True)
    uids = ["1.2.826.0.1.3680043.10.543.%d" % i for i in range(9999)] + [study]
    run("uid-list-10000", StudyInstanceUID=uids)
    run("patient-name-70000", PatientName="A" * 70000)
    run("patient-id-70000", PatientID="B" * 70000)
    run("wildcards-40", PatientName="*a" * 40)
    run("wildcard-only", PatientID="*")
    a.release()
    """#
}
