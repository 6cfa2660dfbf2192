import DicomCore
import DicomNetwork
import Foundation
import Testing

/// The gateway's SCU against DCMTK's storescp.
@Suite(.serialized) struct SCUToDCMTKTests {
    @Test func storeManyFilesOverOneAssociationToStorescp() async throws {
        let dir = TestDirectory("scu")
        let port = Net.freePort()
        let out = dir.sub("received")
        let scp = try PeerProcess("storescp", ["-aet", "STORESCP", "-od", out, "\(port)"], logDirectory: dir.path).start()
        #expect(Net.waitForListener(port))
        let files = try TestData.study(in: dir.sub("in"), count: 30)
        try DicomRuntime.bootstrap()
        let client = DicomClient(callingAE: "NETGW")
        let outcomes = try await client.store(files: files, to: DicomNode(aeTitle: "STORESCP", host: "127.0.0.1", port: port), priority: .high)
        #expect(outcomes.count == 30)
        #expect(outcomes.filter { $0.succeeded }.count == 30)
        let received = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(received.count == 30)
        scp.stop()
    }

    @Test func echoToStorescpAndRejectionReasonIsReadable() async throws {
        let dir = TestDirectory("scu")
        let port = Net.freePort()
        let scp = try PeerProcess("storescp", ["-aet", "STORESCP", "--refuse", "\(port)"], logDirectory: dir.path).start()
        #expect(Net.waitForListener(port))
        try DicomRuntime.bootstrap()
        let client = DicomClient(callingAE: "NETGW")
        do {
            try await client.echo(DicomNode(aeTitle: "STORESCP", host: "127.0.0.1", port: port))
            Issue.record("a refusing storescp must reject")
        } catch let error as DicomNetworkError {
            #expect(error.code == .associationRejected)
            #expect(error.message.contains("association rejected by STORESCP@127.0.0.1:\(port)"))
        }
        scp.stop()
    }

    @Test func unreachablePeerIsANetworkErrorNamingThePeer() async throws {
        try DicomRuntime.bootstrap()
        let port = Net.freePort()
        let client = DicomClient(callingAE: "NETGW", timeouts: DicomTimeouts(connect: 2, acse: 5, dimse: 5))
        await #expect(throws: DicomNetworkError.self) {
            try await client.echo(DicomNode(aeTitle: "NOBODY", host: "127.0.0.1", port: port))
        }
    }
}
