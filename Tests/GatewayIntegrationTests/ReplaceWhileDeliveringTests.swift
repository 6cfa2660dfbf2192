import DicomCore
import Foundation
import Testing

/// storescu -> gateway (duplicates: replace) -> a pynetdicom HUB that holds its answer to the
/// first C-STORE: a corrected copy acknowledged while the old one is in flight reaches the HUB too.
@Suite(.serialized) struct ReplaceWhileDeliveringTests {
    /// A storage SCP that logs each Patient Name it receives and, for the first C-STORE only,
    /// signals `holding` and answers once `release` exists.
    static let hub = #"""
        import os, sys, time
        from pynetdicom import AE, evt, AllStoragePresentationContexts
        from pynetdicom.sop_class import Verification

        port, folder = int(sys.argv[1]), sys.argv[2]
        log = os.path.join(folder, "received.txt")

        def on_store(event):
            first = not os.path.exists(log)
            with open(log, "a") as f:
                f.write(str(event.dataset.PatientName) + "\n")
            if first:
                open(os.path.join(folder, "holding"), "w").close()
                deadline = time.time() + 60
                while not os.path.exists(os.path.join(folder, "release")) and time.time() < deadline:
                    time.sleep(0.05)
            return 0x0000

        ae = AE(ae_title="HUB_READ")
        ae.supported_contexts = AllStoragePresentationContexts
        ae.add_supported_context(Verification)
        ae.start_server(("127.0.0.1", port), block=True, evt_handlers=[(evt.EVT_C_STORE, on_store)])
        """#

    static func waitFor(_ path: String, lines: Int = 0, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               text.split(separator: "\n").count >= lines { return true }
            usleep(50_000)
        }
        return false
    }

    @Test
    func correctedCopyAcknowledgedWhileTheOldOneIsInFlightReachesTheDestination() throws {
        let dir = TestDirectory("replace-inflight")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, roles: [source, destination] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            routes:
              - { name: imaging-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        let config = try String(contentsOfFile: gateway.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "min_free_space: 0B }", with: "min_free_space: 0B, duplicates: replace }")
            .write(toFile: gateway.configPath, atomically: true, encoding: .utf8)

        let hubFolder = dir.sub("hub")
        let script = dir.path + "/hub.py"
        try Self.hub.write(toFile: script, atomically: true, encoding: .utf8)
        let hub = try PythonPeer.process(script, ["\(hubPort)", hubFolder], logDirectory: dir.path).start()
        defer { hub.stop() }
        #expect(Net.waitForListener(hubPort), "the HUB did not listen:\n\(hub.output)")
        try gateway.start()

        let study = TestData.newUID()
        let original = try TestData.study(in: dir.sub("original"), count: 1, studyUID: study)
        let corrected = try TestData.study(in: dir.sub("corrected"), count: 1, studyUID: study, extra: [.patientName: "Doe^Janet"])
        let send = ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"]
        let (s1, o1) = try DCMTK.run("storescu", send + original, in: dir)
        #expect(s1 == 0, "\(o1)")
        #expect(Self.waitFor(hubFolder + "/holding", timeout: 30), "the original never reached the HUB:\n\(gateway.peer?.output ?? "")")

        // The HUB has the old content and has not answered yet: the delivery is in flight.
        let (s2, o2) = try DCMTK.run("storescu", send + corrected, in: dir)
        #expect(s2 == 0, "the corrected copy must be acknowledged: \(o2)")
        FileManager.default.createFile(atPath: hubFolder + "/release", contents: nil)

        let log = hubFolder + "/received.txt"
        _ = Self.waitFor(log, lines: 2, timeout: 30)
        let received = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        #expect(received == ["Doe^Jane", "Doe^Janet"],
                "the corrected copy must follow the one in flight; HUB log:\n\(hub.output)\ngateway log:\n\(gateway.peer?.output.suffix(3000) ?? "")")
        #expect(gateway.terminate() == 0)
    }
}
