import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Our Q/R SCU (C-FIND, C-MOVE, C-GET, and the CLI on top) against DCMTK's dcmqrscp, with a
/// storescp as the C-MOVE destination.
@Suite(.serialized) struct QueryRetrieveSCUTests {
    /// dcmqrscp (fork mode) with one storage area QRSCP, a move destination DEST (a storescp),
    /// and two studies loaded: A (QRPAT1, 20240102, 3 instances) and B (QRPAT2, 20230615, 2 instances).
    final class Archive: @unchecked Sendable {
        // Safe: built in init, then only read; processes are stopped in deinit.
        let dir = TestDirectory("qr")
        let port = Net.freePort(), destPort = Net.freePort()
        let received: String
        let qr: PeerProcess, dest: PeerProcess
        let studyA = TestData.newUID(), studyB = TestData.newUID()
        let filesA: [String], filesB: [String]
        var node: DicomNode { DicomNode(aeTitle: "QRSCP", host: "127.0.0.1", port: port) }
        var seriesA: String { studyA + ".1" }

        init() throws {
            let db = dir.sub("db")
            received = dir.sub("dest")
            let config = """
                NetworkTCPPort  = \(port)
                MaxPDUSize      = 16384
                MaxAssociations = 16
                HostTable BEGIN
                dest    = (DEST, 127.0.0.1, \(destPort))
                gateway = (NETGW, 127.0.0.1, \(Net.freePort()))
                HostTable END
                VendorTable BEGIN
                VendorTable END
                AETable BEGIN
                QRSCP   \(db)   RW (200, 1024mb)   ANY
                AETable END
                """
            let configPath = dir.path + "/dcmqrscp.cfg"
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            dest = try PeerProcess("storescp", ["-aet", "DEST", "-od", received, "\(destPort)"], logDirectory: dir.path).start()
            qr = try PeerProcess("dcmqrscp", ["-c", configPath, "\(port)"], logDirectory: dir.path).start()
            guard Net.waitForListener(port), Net.waitForListener(destPort) else {
                throw TestFailure("dcmqrscp or storescp did not start:\n\(qr.output)\n\(dest.output)")
            }
            filesA = try TestData.study(in: dir.sub("inA"), count: 3, studyUID: studyA, patientID: "QRPAT1", studyDate: "20240102")
            filesB = try TestData.study(in: dir.sub("inB"), count: 2, studyUID: studyB, patientID: "QRPAT2", studyDate: "20230615")
            let (status, out) = try DCMTK.run("storescu", ["-aec", "QRSCP", "127.0.0.1", "\(port)"] + filesA + filesB, in: dir)
            guard status == 0 else { throw TestFailure("loading dcmqrscp failed:\n\(out)\n\(qr.output)") }
            try DicomRuntime.bootstrap()
        }

        func receivedFiles() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: received)) ?? [] }

        deinit {
            qr.stop()
            dest.stop()
        }
    }

    static let client = DicomClient(callingAE: "NETGW", timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 30))

    static func keys(_ level: QueryLevel, _ values: [DicomTag: String]) -> DicomAttributes {
        var k = DicomAttributes(values)
        k[.queryRetrieveLevel] = level.rawValue
        return k
    }

    @Test func findAtEveryLevelReturnsWhatWasStored() async throws {
        let qr = try Archive()
        // Study level, Study Root: by Patient ID.
        let (byPatient, r1) = try await Self.client.find(qr.node, model: .studyRoot, keys: Self.keys(.study, [
            .patientID: "QRPAT1", .studyInstanceUID: "", .studyDate: ""]))
        #expect(r1.status.isSuccess, "\(r1.status)")
        #expect(byPatient.compactMap { $0.string(.studyInstanceUID) } == [qr.studyA])
        #expect(byPatient.first?.string(.studyDate) == "20240102")
        // Study level: by date range (only B is in 2023).
        let (byDate, r2) = try await Self.client.find(qr.node, model: .studyRoot, keys: Self.keys(.study, [
            .studyDate: "20230101-20231231", .studyInstanceUID: "", .patientID: ""]))
        #expect(r2.status.isSuccess)
        #expect(byDate.compactMap { $0.string(.studyInstanceUID) } == [qr.studyB])
        #expect(byDate.first?.string(.patientID) == "QRPAT2")
        // An open-ended range finds both.
        let (both, _) = try await Self.client.find(qr.node, model: .studyRoot, keys: Self.keys(.study, [
            .studyDate: "20230101-", .studyInstanceUID: ""]))
        #expect(Set(both.compactMap { $0.string(.studyInstanceUID) }) == [qr.studyA, qr.studyB])
        // Series level.
        let (series, r3) = try await Self.client.find(qr.node, model: .studyRoot, keys: Self.keys(.series, [
            .studyInstanceUID: qr.studyA, .seriesInstanceUID: "", .modality: ""]))
        #expect(r3.status.isSuccess)
        #expect(series.compactMap { $0.string(.seriesInstanceUID) } == [qr.seriesA])
        #expect(series.first?.string(.modality) == "CT")
        // Image level.
        let (images, r4) = try await Self.client.find(qr.node, model: .studyRoot, keys: Self.keys(.image, [
            .studyInstanceUID: qr.studyA, .seriesInstanceUID: qr.seriesA, .sopInstanceUID: ""]))
        #expect(r4.status.isSuccess)
        #expect(Set(images.compactMap { $0.string(.sopInstanceUID) }) == Set((1...3).map { "\(qr.seriesA).\($0)" }))
        // Patient level, Patient Root.
        let (patients, r5) = try await Self.client.find(qr.node, model: .patientRoot, keys: Self.keys(.patient, [
            .patientID: "QRPAT2", .patientName: ""]))
        #expect(r5.status.isSuccess)
        #expect(patients.compactMap { $0.string(.patientID) } == ["QRPAT2"])
        // No match: success with nothing.
        let (none, r6) = try await Self.client.find(qr.node, model: .studyRoot, keys: Self.keys(.study, [
            .patientID: "NOBODY", .studyInstanceUID: ""]))
        #expect(r6.status.isSuccess)
        #expect(none.isEmpty)
    }

    @Test func moveToKnownDestinationDeliversEveryInstance() async throws {
        let qr = try Archive()
        let outcome = try await Self.client.move(
            qr.node, model: .studyRoot, keys: Self.keys(.study, [.studyInstanceUID: qr.studyA]), destination: "DEST")
        #expect(outcome.status.isSuccess, "\(outcome.status) \(outcome.counts) \(outcome.errorComment)")
        #expect(outcome.isCompleteSuccess)
        #expect(outcome.counts.completed == 3, "\(outcome.counts)")
        #expect(outcome.counts.failed == 0)
        #expect(await OffPool.waitUntil(timeout: 10) { qr.receivedFiles().count == 3 }, "\(qr.receivedFiles())")
    }

    @Test func moveToUnknownDestinationIsAFailureNotASuccess() async throws {
        let qr = try Archive()
        let outcome = try await Self.client.move(
            qr.node, model: .studyRoot, keys: Self.keys(.study, [.studyInstanceUID: qr.studyA]), destination: "NOWHERE")
        #expect(outcome.status == .moveDestinationUnknown, "\(outcome.status)")
        #expect(outcome.status.isFailure)
        #expect(!outcome.isCompleteSuccess)
        #expect(qr.receivedFiles().isEmpty)
    }

    @Test func getBringsTheStudyBackOnTheSameAssociation() async throws {
        let qr = try Archive()
        let target = qr.dir.path + "/got"
        let outcome = try await Self.client.get(
            qr.node, model: .studyRoot, keys: Self.keys(.study, [.studyInstanceUID: qr.studyB]), into: target)
        #expect(outcome.isCompleteSuccess, "\(outcome.status) \(outcome.counts) \(outcome.errorComment)")
        #expect(outcome.counts.completed == 2, "\(outcome.counts)")
        let got = try FileManager.default.contentsOfDirectory(atPath: target).map { target + "/" + $0 }
        #expect(got.count == 2, "\(got)")
        let sops = Set(try got.map { try DicomFile.probe($0).sopInstanceUID })
        #expect(sops == Set((1...2).map { "\(qr.studyB).1.\($0)" }))
    }

    @Test func cliFindPrintsJSONAndCliRetrieveToUnknownDestinationFails() async throws {
        let qr = try Archive()
        let find = try await ProcessRun.run(GatewayProcess.binary, [
            "find", "QRSCP@127.0.0.1:\(qr.port)", "--level", "study", "-k", "PatientID=QRPAT1", "--json"], in: qr.dir)
        #expect(find.status == 0, "\(find.combined)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(find.stdout.utf8)) as? [[String: String]], "\(find.stdout)")
        #expect(rows.count == 1)
        #expect(rows.first?["StudyInstanceUID"] == qr.studyA, "\(rows)")
        #expect(rows.first?["PatientID"] == "QRPAT1")

        let retrieve = try await ProcessRun.run(GatewayProcess.binary, [
            "retrieve", "QRSCP@127.0.0.1:\(qr.port)", "--study", qr.studyA, "--move-to", "NOWHERE"], in: qr.dir)
        #expect(retrieve.status != 0, "\(retrieve.combined)")
        #expect(retrieve.combined.contains("0xA801"), "\(retrieve.combined)")
        #expect(qr.receivedFiles().isEmpty)
    }
}
