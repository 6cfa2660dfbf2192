import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Names from trusts that use ISO 8859-1 come back intact (as UTF-8, labelled ISO_IR 192).
@Suite(.serialized) struct CharacterSetTests {
    @Test func latin1PatientNameIsAnsweredAsUTF8() async throws {
        let gw = try GatewayUnderTest(label: "charset")
        let dir = gw.directory.sub("in")
        let template = try TestData.template(in: dir)
        let latin1 = dir + "/latin1.dcm"
        // Rebuild the file with dump2dcm, which writes the name's bytes as given: Latin-1 "Müller^Jürgen".
        try DicomFile.write(from: template, to: latin1, setting: [
            .specificCharacterSet: "ISO_IR 100", .patientID: "CHARSET1",
            .studyInstanceUID: "1.2.826.0.1.3680043.8.1055.7.1", .seriesInstanceUID: "1.2.826.0.1.3680043.8.1055.7.1.1",
            .sopInstanceUID: "1.2.826.0.1.3680043.8.1055.7.1.1.1",
        ])
        var bytes = Data("(0010,0010) PN [".utf8)
        bytes.append(contentsOf: [0x4D, 0xFC, 0x6C, 0x6C, 0x65, 0x72, 0x5E, 0x4A, 0xFC, 0x72, 0x67, 0x65, 0x6E])  // Müller^Jürgen in Latin-1
        bytes.append(Data("]\n".utf8))
        let full = dir + "/latin1-full.dump"
        let (status0, dumped) = try DCMTK.run("dcmdump", ["-q", "+E", "+L", latin1], in: gw.directory)
        #expect(status0 == 0)
        var lines = dumped.split(separator: "\n").filter { !$0.contains("(0010,0010)") && !$0.hasPrefix("#") && $0.contains("(") }
            .map { String($0) }
        lines = lines.filter { !$0.contains("(7fe0,0010)") && !$0.hasPrefix("(0002") }
        var text = Data(lines.joined(separator: "\n").utf8)
        text.append(Data("\n".utf8))
        text.append(bytes)
        try text.write(to: URL(fileURLWithPath: full))
        let file = dir + "/latin1-name.dcm"
        let (status1, out1) = try DCMTK.run("dump2dcm", ["+te", "+Ug", "+Uo", full, file], in: gw.directory)
        #expect(status1 == 0, "\(out1)")
        let (status2, out2) = try DCMTK.run("storescu", ["-aec", "NETGW", "127.0.0.1", "\(gw.port)", file], in: gw.directory)
        #expect(status2 == 0, "\(out2)")

        try DicomRuntime.bootstrap()
        var keys = DicomAttributes()
        keys[.queryRetrieveLevel] = "STUDY"
        keys[.patientID] = "CHARSET1"
        keys[.patientName] = ""
        let (matches, result) = try await DicomClient(callingAE: "READER").find(gw.node, model: .studyRoot, keys: keys)
        #expect(result.status.isSuccess)
        #expect(matches.count == 1)
        #expect(matches.first?.string(.patientName) == "Müller^Jürgen")
        #expect(matches.first?.string(.specificCharacterSet) == "ISO_IR 192")
        // And a query by the accented name finds it (wildcard, case-insensitive for ASCII letters).
        keys[.patientName] = "müller*"
        keys[.patientID] = ""
        let (byName, _) = try await DicomClient(callingAE: "READER").find(gw.node, model: .studyRoot, keys: keys)
        #expect(byName.count == 1)
        await gw.stop()
    }
}
