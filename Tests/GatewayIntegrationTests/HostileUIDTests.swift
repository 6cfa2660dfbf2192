import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import Testing

/// UIDs come from the wire: instances whose Study/Series/SOP Instance UIDs are path fragments
/// ("../../x", "a/b", "..") are filed under `storage/instances/` by hashed names (or in prepared
/// files under `storage/files/`, named by a counter), and nothing is
/// written anywhere else.
@Suite(.serialized) struct HostileUIDTests {
    struct Hostile {
        let study: String, series: String, sop: String
    }

    /// Three instances with path-like UIDs, each aiming at a marker file outside the test directory.
    static func cases(marker: String) -> [Hostile] {
        [
            Hostile(study: "../../x", series: "a/b", sop: "../../../../../../../../../tmp/\(marker)"),
            Hostile(study: "1.2.826.0.1.3680043.8.1055.9.77", series: "..", sop: "a/b/\(marker)"),
            Hostile(study: String(repeating: "../", count: 60) + "tmp", series: "/tmp/\(marker)", sop: ".."),
        ]
    }

    static func writeFiles(_ cases: [Hostile], in dir: String) throws -> [String] {
        let template = try TestData.template(in: dir)
        return try cases.enumerated().map { i, c in
            let path = dir + "/hostile-\(i).dcm"
            try DicomFile.write(from: template, to: path, setting: [
                .studyInstanceUID: c.study, .seriesInstanceUID: c.series, .sopInstanceUID: c.sop,
            ])
            return path
        }
    }

    /// Everything the test directory holds outside `storage/`, minus peer logs.
    static func filesOutsideStorage(_ gw: GatewayUnderTest) -> Set<String> {
        let root = Storage.canonical(gw.directory.path)
        let storage = Storage.canonical(gw.storageRoot) + "/"
        return Set(Storage.regularFiles(under: root).filter { !$0.hasPrefix(storage) && !$0.hasSuffix(".log") })
    }

    /// The checks after a send: confinement, no stray files, the gateway alive.
    static func expectConfined(_ gw: GatewayUnderTest, cases: [Hostile], marker: String, before: Set<String>,
                               sourceLocation: SourceLocation = #_sourceLocation) async {
        // Instances live under instances/ (names from hashed UIDs) or files/ (prepared files, names
        // from a counter): never anywhere a UID could steer them.
        let homes = ["instances/", "files/"].map { Storage.canonical(gw.storageRoot) + "/" + $0 }
        for file in gw.storedFiles() {
            #expect(homes.contains { Storage.canonical(file).hasPrefix($0) }, "stored outside instances/ and files/: \(file)",
                    sourceLocation: sourceLocation)
        }
        for file in Storage.regularFiles(under: Storage.canonical(gw.storageRoot)) where file.hasSuffix(".dcm") {
            #expect(homes.contains { file.hasPrefix($0) }, "instance file outside instances/ and files/: \(file)",
                    sourceLocation: sourceLocation)
        }
        #expect(filesOutsideStorage(gw) == before, "files appeared in the test directory outside storage/",
                sourceLocation: sourceLocation)
        // Where a naive join of the UIDs would have written: nothing there.
        for c in cases {
            let naive = URL(fileURLWithPath: gw.storageRoot + "/instances/00/\(c.study)/\(c.series)/\(c.sop).dcm").standardizedFileURL.path
            #expect(!FileManager.default.fileExists(atPath: naive), "\(naive) exists", sourceLocation: sourceLocation)
        }
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        #expect(!tmp.contains { $0.contains(marker) }, "a marker file reached /tmp", sourceLocation: sourceLocation)
        #expect(gw.partialFiles().isEmpty, "\(gw.partialFiles())", sourceLocation: sourceLocation)
        #expect(await gw.answersEcho(), "the gateway must still answer C-ECHO", sourceLocation: sourceLocation)
    }

    @Test func pathLikeUIDsSentByOurClientAreStoredUnderHashedNamesOnly() async throws {
        let gw = try GatewayUnderTest(label: "hostile")
        let marker = "dgw-evil-\(UUID().uuidString.prefix(8))"
        let cases = Self.cases(marker: marker)
        let files = try Self.writeFiles(cases, in: gw.directory.sub("in"))
        let before = Self.filesOutsideStorage(gw)
        let outcomes = try await DicomClient(callingAE: "HOSTILE").store(files: files, to: gw.node)
        #expect(outcomes.count == files.count)
        for o in outcomes { #expect(o.succeeded, "\(o.path): \(o.result)") }
        let stored = gw.storedFiles()
        #expect(stored.count == files.count, "\(stored)")
        gw.gateway.index.flush()
        for c in cases {
            // Found through the index by its SOP Instance UID, in a file whose name no UID chose: a
            // prepared file's counter under files/, or the hash of the UID under instances/.
            let match = try #require(storedPath(gw.storageRoot, sop: c.sop), "no file indexed for \(c.sop)")
            let name = (match as NSString).lastPathComponent
            #expect(name == "x" + InstancePath.sha256Hex(c.sop) + ".dcm"
                        || (name.count == 9 && name.hasSuffix(".dcm") && name.prefix(5).allSatisfy(\.isNumber)), "\(match)")
            #expect(stored.contains(match))
            #expect(try DicomFile.readAttributes(match).string(.sopInstanceUID) == c.sop)
        }
        await Self.expectConfined(gw, cases: cases, marker: marker, before: before)
        await gw.stop()
    }

    @Test func pathLikeUIDsSentByStorescuStayConfined() async throws {
        let gw = try GatewayUnderTest(label: "hostile")
        let marker = "dgw-evil-\(UUID().uuidString.prefix(8))"
        let cases = Self.cases(marker: marker)
        let files = try Self.writeFiles(cases, in: gw.directory.sub("in"))
        let before = Self.filesOutsideStorage(gw)
        let (status, out) = try await DCMTK.runOffPool(
            "storescu", ["-v", "-nh", "-aet", "HOSTILE", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: gw.directory)
        // DCMTK 3.6.7's storescu does not check UIDs: it sends all three, and the gateway files them.
        let acknowledged = out.components(separatedBy: "Received Store Response (Success)").count - 1
        #expect(status == 0, "\(out)")
        #expect(acknowledged == files.count, "\(out)")
        #expect(gw.storedFiles().count == acknowledged, "\(out)")
        await Self.expectConfined(gw, cases: cases, marker: marker, before: before)
        await gw.stop()
    }
}
