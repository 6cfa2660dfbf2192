import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import Testing

/// DCMTK's movescu and getscu against the gateway's C-MOVE and C-GET SCP; the C-MOVE destination
/// is a real storescp configured as a node.
@Suite(.serialized) struct CacheRetrieveTests {
    /// A storescp listening as VIEWER, and a gateway that knows it as a destination node.
    static func gatewayWithViewer(_ label: String) async throws -> (GatewayUnderTest, PeerProcess, received: String, viewerPort: Int) {
        let viewerPort = Net.freePort()
        let gw = try await CacheQR.boot(label) { c in
            c.nodes = [NodeConfig(name: "VIEWER", aeTitle: "VIEWER", host: "127.0.0.1", port: viewerPort, roles: [.destination])]
        }
        let received = gw.directory.sub("viewer")
        let scp = try PeerProcess("storescp", ["-aet", "VIEWER", "-od", received, "\(viewerPort)"], logDirectory: gw.directory.path).start()
        guard try await CacheQR.offPool({ Net.waitForListener(viewerPort) }) else { throw TestFailure("storescp did not listen on \(viewerPort)") }
        return (gw, scp, received, viewerPort)
    }

    /// A study of two series (3 + 2 instances), stored in the gateway.
    static func sendStudy(_ gw: GatewayUnderTest) async throws -> CacheQR.SentStudy {
        let uid = TestData.newUID()
        let study = CacheQR.SentStudy(uid: uid, series: [
            uid + ".1": try CacheQR.series(gw, study: uid, series: uid + ".1", count: 3, patientID: "PID-M", patientName: "Move^Me",
                                           modality: "CT", date: "20240110", time: "090000", accession: "ACC-M", description: "Move"),
            uid + ".2": try CacheQR.series(gw, study: uid, series: uid + ".2", count: 2, patientID: "PID-M", patientName: "Move^Me",
                                           modality: "CT", date: "20240110", time: "090000", accession: "ACC-M", description: "Move"),
        ])
        try await CacheQR.storescu(gw, study.files)
        return study
    }

    /// Each received file's dataset equals the one sent with the same SOP Instance UID.
    static func expectSameDatasets(received: [String: String], sent: CacheQR.SentStudy) throws {
        for (series, files) in sent.series {
            for (i, file) in files.enumerated() {
                let sop = "\(series).\(i + 1)"
                let path = try #require(received[sop], "instance \(sop) did not arrive")
                let got = try DicomFile.readAttributes(path).cacheWithoutFileMeta()
                let want = try DicomFile.readAttributes(file).cacheWithoutFileMeta()
                #expect(got == want, "dataset of \(sop) differs")
            }
        }
    }

    @Test func movescuDeliversAStudyToTheConfiguredDestination() async throws {
        let (gw, scp, received, _) = try await Self.gatewayWithViewer("move")
        defer { scp.stop() }
        let study = try await Self.sendStudy(gw)
        let (status, out) = try await CacheQR.dcmtk("movescu", [
            "-d", "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "VIEWER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study.uid)",
        ], in: gw.directory)
        #expect(status == 0, "\(out)")
        let files = try CacheQR.filesBySOP(in: received)
        #expect(Set(files.keys) == Set(study.sopUIDs), "\(out)\n\(scp.output)")
        try Self.expectSameDatasets(received: files, sent: study)

        // Pending responses with counts, then a final success with every sub-operation completed.
        #expect(out.contains("Received Move Response"), "\(out)")
        #expect(out.contains("0xff00"), "pending (0xFF00) responses expected:\n\(out)")
        #expect(out.contains("Remaining Suboperations       : 1"), "\(out)")
        #expect(out.contains("Received Final Move Response"), "\(out)")
        #expect(out.contains("Completed Suboperations       : 5"), "\(out)")
        #expect(out.contains("Failed Suboperations          : 0"), "\(out)")
        #expect(out.contains("DIMSE Status                  : 0x0000"), "\(out)")
        await gw.stop()
    }

    @Test func movescuAtSeriesLevelDeliversOnlyThatSeries() async throws {
        let (gw, scp, received, _) = try await Self.gatewayWithViewer("move")
        defer { scp.stop() }
        let study = try await Self.sendStudy(gw)
        let (status, out) = try await CacheQR.dcmtk("movescu", [
            "-d", "-P", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "VIEWER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=SERIES", "-k", "PatientID=PID-M", "-k", "StudyInstanceUID=\(study.uid)",
            "-k", "SeriesInstanceUID=\(study.uid).2",
        ], in: gw.directory)
        #expect(status == 0, "\(out)")
        #expect(Set(try CacheQR.filesBySOP(in: received).keys) == [study.uid + ".2.1", study.uid + ".2.2"], "\(out)")
        #expect(out.contains("Completed Suboperations       : 2"), "\(out)")
        await gw.stop()
    }

    @Test func movescuToAnUnknownDestinationIsRefusedWithA801() async throws {
        let (gw, scp, received, _) = try await Self.gatewayWithViewer("move")
        defer { scp.stop() }
        let study = try await Self.sendStudy(gw)
        let (_, out) = try await CacheQR.dcmtk("movescu", [
            "-d", "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "STRANGER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study.uid)",
        ], in: gw.directory)
        #expect(out.lowercased().contains("0xa801"), "\(out)")
        #expect(out.contains("MoveDestinationUnknown") || out.contains("Move Destination unknown"), "\(out)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: received).isEmpty)
        #expect(await gw.answersEcho())
        await gw.stop()
    }

    @Test func movescuToADestinationThatIsDownListsEveryFailedInstance() async throws {
        let viewerPort = Net.freePort()  // nothing listens there
        let gw = try await CacheQR.boot("move-down") { c in
            c.nodes = [NodeConfig(name: "VIEWER", aeTitle: "VIEWER", host: "127.0.0.1", port: viewerPort, roles: [.destination])]
        }
        let study = try await Self.sendStudy(gw)
        let (_, out) = try await CacheQR.dcmtk("movescu", [
            "-d", "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "VIEWER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study.uid)",
        ], in: gw.directory)
        // 0xA702: no sub-operation succeeded; the final response's identifier names each failed instance.
        #expect(out.lowercased().contains("0xa702"), "\(out)")
        #expect(out.contains("Failed Suboperations          : 5"), "\(out)")
        #expect(out.contains("(0008,0058)"), "Failed SOP Instance UID List expected in the final response:\n\(out)")
        for sop in study.sopUIDs { #expect(out.contains(sop), "\(sop) not listed as failed:\n\(out)") }
        #expect(await gw.answersEcho())
        await gw.stop()
    }

    @Test func getscuRetrievesEveryInstanceWithIdenticalDatasets() async throws {
        let gw = try await CacheQR.boot("get")
        let study = try await Self.sendStudy(gw)
        let out = gw.directory.sub("got")
        let (status, log) = try await CacheQR.dcmtk("getscu", [
            "-v", "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-od", out, "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study.uid)",
        ], in: gw.directory)
        #expect(status == 0, "\(log)")
        let files = try CacheQR.filesBySOP(in: out)
        #expect(Set(files.keys) == Set(study.sopUIDs), "\(log)")
        try Self.expectSameDatasets(received: files, sent: study)
        #expect(log.contains("Number of Completed Suboperations : 5"), "\(log)")
        #expect(log.contains("Number of Failed Suboperations    : 0"), "\(log)")
        await gw.stop()
    }

    @Test func getscuAtImageLevelRetrievesExactlyTheListedInstances() async throws {
        let gw = try await CacheQR.boot("get")
        let study = try await Self.sendStudy(gw)
        let out = gw.directory.sub("got")
        let wanted = [study.uid + ".1.2", study.uid + ".2.1"]
        let (status, log) = try await CacheQR.dcmtk("getscu", [
            "-v", "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-od", out, "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=IMAGE", "-k", "StudyInstanceUID=\(study.uid)",
            "-k", "SOPInstanceUID=\(wanted.joined(separator: "\\"))",
        ], in: gw.directory)
        #expect(status == 0, "\(log)")
        #expect(Set(try CacheQR.filesBySOP(in: out).keys) == Set(wanted), "\(log)")
        await gw.stop()
    }
}
