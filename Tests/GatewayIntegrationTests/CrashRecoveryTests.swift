import DicomCore
import DicomNetwork
import Foundation
import GRDB
import GatewayStore
import Testing

/// Nothing acknowledged is lost: kill -9 the gateway at random moments while storescu sends,
/// restart it, and check every acknowledged instance is present, byte-identical and indexed.
@Suite(.serialized) struct CrashRecoveryTests {
    @Test func killNineDuringIngestLosesNoAcknowledgedInstance() async throws {
        let dir = TestDirectory("crash")
        let gateway = try GatewayProcess(directory: dir)
        try DicomRuntime.bootstrap()
        let client = DicomClient(callingAE: "CHECKER")
        var totalAcknowledged = 0
        var interruptedRounds = 0
        for round in 1...4 {
            // More than the gateway ingests before the latest kill (it takes 300-500 of these a second).
            let files = try TestData.study(in: dir.sub("in\(round)"), count: 600, rows: 64, columns: 64)
            try gateway.start()
            let sender = PeerProcess("storescu", ["-v", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files,
                                     logDirectory: dir.path)
            try sender.start()
            // The kill comes at a random moment after the first acknowledgement (before it, a round
            // would prove nothing; how long storescu takes to start varies from machine to machine).
            let firstAcknowledged = Date().addingTimeInterval(20)
            while !sender.output.contains("Received Store Response") && Date() < firstAcknowledged { usleep(5_000) }
            usleep(UInt32.random(in: 0...750_000))
            gateway.kill9()
            _ = sender.wait(timeout: 60)
            let acknowledged = acknowledgedFiles(storescuOutput: sender.output)
            if acknowledged.isEmpty { Issue.record("round \(round): nothing acknowledged; storescu said:\n\(sender.output.prefix(2000))") }
            totalAcknowledged += acknowledged.count
            if acknowledged.count < files.count { interruptedRounds += 1 }

            try gateway.start()  // recovery runs before it listens
            for file in acknowledged {
                let info = try DicomFile.probe(file)
                let stored = try #require(storedPath(gateway.storageRoot, sop: info.sopInstanceUID),
                                          "round \(round): acknowledged \(info.sopInstanceUID) is missing")
                #expect(try DatasetDigest.sha256(ofFile: stored).digest == DatasetDigest.sha256(ofFile: file).digest,
                        "round \(round): \(info.sopInstanceUID) differs from what was sent")
            }
            // Indexed: an IMAGE-level C-FIND through the restarted gateway finds every one of them.
            if !acknowledged.isEmpty {
                var keys = DicomAttributes()
                keys[.queryRetrieveLevel] = "IMAGE"
                keys[.studyInstanceUID] = try DicomFile.probe(files[0]).studyInstanceUID
                keys[.sopInstanceUID] = ""
                let (matches, result) = try await client.find(gateway.node, model: .studyRoot, keys: keys)
                #expect(result.status.isSuccess)
                let found = Set(matches.compactMap { $0.string(.sopInstanceUID) })
                for file in acknowledged {
                    #expect(found.contains(try DicomFile.probe(file).sopInstanceUID), "round \(round): not indexed")
                }
            }
            let incoming = (try? FileManager.default.contentsOfDirectory(atPath: gateway.storageRoot + "/incoming")) ?? []
            #expect(incoming.filter { $0.hasSuffix(".part") }.isEmpty, "partial files left after recovery: \(incoming)")
            #expect(gateway.terminate() == 0)
        }
        #expect(totalAcknowledged > 0, "the sender never got an acknowledgement: the test proved nothing")
        #expect(interruptedRounds > 0, "every kill came after the transfer had finished: the test proved nothing")
    }
}

/// The stored file of an instance, as the index names it (the gateway stopped or not).
func storedPath(_ storageRoot: String, sop: String) -> String? {
    var configuration = Configuration()
    configuration.readonly = true
    guard let queue = try? DatabaseQueue(path: storageRoot + "/index.sqlite", configuration: configuration),
          let relative = try? queue.read({ db in try String.fetchOne(db, sql: "SELECT path FROM instance WHERE sopUID = ?", arguments: [sop]) })
    else { return nil }
    let path = storageRoot + "/" + relative
    return FileManager.default.fileExists(atPath: path) ? path : nil
}
