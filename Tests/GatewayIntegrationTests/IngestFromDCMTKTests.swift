import DicomCore
import DicomNetwork
import Foundation
import Testing

/// DCMTK's own senders talking to the gateway's SCP over loopback.
@Suite(.serialized) struct IngestFromDCMTKTests {
    @Test func echoscuGetsSuccessFromGateway() async throws {
        let gw = try GatewayUnderTest()
        let (status, out) = try DCMTK.run("echoscu", ["-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status == 0, "\(out)")
        await gw.stop()
    }

    @Test func storescuStudyIsFiledAsIndexedWithIdenticalDatasets() async throws {
        let gw = try GatewayUnderTest()
        let files = try TestData.study(in: gw.directory.sub("in"), count: 20)
        let (status, out) = try DCMTK.run("storescu", ["-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: gw.directory)
        #expect(status == 0, "\(out)")
        let stored = gw.storedFiles()
        #expect(stored.count == 20)
        for file in files {
            let sop = try #require(try DCMTK.value("SOPInstanceUID", in: file, dir: gw.directory))
            let match = gw.storedFile(sop: sop).flatMap { file in stored.first { $0 == file } }
            let storedFile = try #require(match, "instance \(sop) not stored")
            // Received into a file prepared in advance (one flush per acknowledgement), not renamed.
            #expect(storedFile.hasPrefix(gw.storageRoot + "/files/"), "\(storedFile)")
            let storedAttributes = try DicomFile.readAttributes(storedFile).removingMetaGroup()
            let sentAttributes = try DicomFile.readAttributes(file).removingMetaGroup()
            #expect(storedAttributes == sentAttributes)
        }
        await gw.stop()
    }

    @Test func sixteenConcurrentAssociationsAllStore() async throws {
        let gw = try GatewayUnderTest()
        let input = gw.directory.sub("in")
        var peers: [PeerProcess] = []
        var expected = 0
        for i in 0..<16 {
            let files = try TestData.study(in: input, count: 5, patientID: "P\(i)")
            expected += files.count
            peers.append(try PeerProcess("storescu", ["-aet", "SENDER\(i)", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files,
                                         logDirectory: gw.directory.path).start())
        }
        for peer in peers { #expect(peer.wait(timeout: 120) == 0, "\(peer.output)") }
        #expect(gw.storedFiles().count == expected)
        await gw.stop()
    }

    @Test func dcmsendDirectoryArrives() async throws {
        let gw = try GatewayUnderTest()
        let input = gw.directory.sub("in")
        _ = try TestData.study(in: input, count: 10)
        try FileManager.default.removeItem(atPath: input + "/template.dump")
        for name in try FileManager.default.contentsOfDirectory(atPath: input) where name.hasSuffix(".raw") || name.hasPrefix("template") {
            try FileManager.default.removeItem(atPath: input + "/" + name)
        }
        let (status, out) = try DCMTK.run("dcmsend", ["-aec", "NETGW", "+sd", "127.0.0.1", "\(gw.port)", input], in: gw.directory)
        #expect(status == 0, "\(out)")
        #expect(gw.storedFiles().count == 10)
        await gw.stop()
    }
}

extension DicomAttributes {
    /// The dataset attributes only (a stored file may carry a different file meta header).
    func removingMetaGroup() -> DicomAttributes {
        DicomAttributes(storage.filter { $0.key.group != 0x0002 })
    }
}
