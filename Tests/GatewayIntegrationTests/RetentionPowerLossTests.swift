import DicomCore
import Foundation
import GRDB
import Testing

/// A study retention retired stays retired when the power goes: the files' removals are made
/// durable (their directories synced), so a cut cannot bring the files back for recovery to
/// index again. Storage on lossyfs; the cut comes right after the eviction.
@Suite(.serialized) struct RetentionPowerLossTests {
    @Test func studyRetiredByRetentionDoesNotComeBackAfterPowerCut() async throws {
        let dir = TestDirectory("retention-powerloss")
        let fs = LossyMount(directory: dir, name: "disk")
        try fs.mount()
        let storage = fs.path("storage")
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: false)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        let nodes = "nodes:\n  TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }"

        // 1. A study arrives and is acknowledged (no retention yet).
        let keep = try GatewayProcess(directory: dir, extraYAML: nodes, storagePath: storage)
        try keep.start()
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("study"), count: 12, studyUID: study, patientID: "RET1", rows: 64, columns: 64)
        let sender = try PeerProcess("storescu", ["-v", "-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(keep.port)"] + files,
                                     logDirectory: dir.path).start()
        _ = sender.wait(timeout: 60)
        #expect(acknowledgedFiles(storescuOutput: sender.output).count == files.count, "\(sender.output.suffix(2000))")
        #expect(keep.terminate() == 0)
        #expect(try instanceFiles(under: storage).count == files.count)

        // 2. A start with a 1 KB limit retires it (the pass at start), then the power goes.
        let retire = try GatewayProcess(directory: dir, extraYAML: nodes, storagePath: storage, storageYAML: ", retention: { max_size: 1KB }")
        try retire.start()
        let evicted = Arrivals.wait(in: storage, timeout: 30, poll: 0.1) { _ in
            ((try? WorklistPeers.rows(retire, "SELECT 1 FROM audit WHERE event = 'evict' AND studyUID = ?", [study])) ?? []).count == 1
                && ((try? instanceFiles(under: storage)) ?? [""]).isEmpty
        }
        #expect(evicted, "retention did not retire the study:\n\(retire.peer?.output.suffix(2000) ?? "")")
        fs.cutPower(killing: [retire.peer!])
        try fs.mount()

        // 3. After the cut, without retention: recovery finds neither the files nor the rows.
        let after = try GatewayProcess(directory: dir, extraYAML: nodes, storagePath: storage)
        try after.start()
        let left = try instanceFiles(under: storage)
        #expect(left.isEmpty, "the retired study's files came back after the power cut: \(left.prefix(3))")
        let rows = try WorklistPeers.rows(after, "SELECT COUNT(*) AS n FROM study WHERE studyUID = ?", [study])
        #expect(rows.first?["n"] as Int? == 0, "recovery indexed the retired study again")
        #expect(after.terminate() == 0)
    }

    /// The DICOM files in the cache (everything but the index, its WAL and the gateway's own files).
    private func instanceFiles(under root: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [String] = []
        while let name = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            // Prepared files not yet used are empty: they hold no instance.
            let size = (try? FileManager.default.attributesOfItem(atPath: root + "/" + name)[.size] as? NSNumber)?.int64Value ?? 0
            if name.hasSuffix(".dcm") && size > 0 { found.append(name) }
        }
        return found
    }
}
