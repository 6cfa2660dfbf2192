import DicomCore
import DicomNetwork
import Foundation
import GRDB
import Testing

/// `identity: { patient_id: nhs_number }`: the NHS Number comes from OtherPatientIDsSequence
/// (read through DCMTK), the prefix stands in where there is none, and a report carrying the NHS
/// Number goes home with the trust's own Patient ID.
@Suite(.serialized) struct NHSNumberIdentityTests {
    /// A CT instance (no pixel data) made by dump2dcm, optionally with OtherPatientIDsSequence items.
    static func instance(in dir: String, name: String, sopClass: String = "CTImageStorage", studyUID: String, sopUID: String,
                         patientID: String, otherIDs: [(id: String, issuer: String)] = []) throws -> String {
        var lines = [
            "(0008,0016) UI =\(sopClass)", "(0008,0018) UI [\(sopUID)]", "(0008,0020) DA [20240102]",
            "(0008,0060) CS [\(sopClass == "CTImageStorage" ? "CT" : "SR")]", "(0008,1030) LO [CT head]",
            "(0010,0010) PN [Doe^Jane]", "(0010,0020) LO [\(patientID)]",
        ]
        if !otherIDs.isEmpty {
            lines.append("(0010,1002) SQ (Sequence with undefined length #=\(otherIDs.count))")
            for other in otherIDs {
                lines += ["  (fffe,e000) na (Item with undefined length #=2)", "    (0010,0020) LO [\(other.id)]",
                          "    (0010,0021) LO [\(other.issuer)]", "  (fffe,e00d) na (ItemDelimitationItem)"]
            }
            lines.append("(fffe,e0dd) na (SequenceDelimitationItem)")
        }
        lines += ["(0020,000d) UI [\(studyUID)]", "(0020,000e) UI [\(sopUID).0]", "(0020,0011) IS [1]", "(0020,0013) IS [1]"]
        let dumpPath = dir + "/\(name).dump", path = dir + "/\(name).dcm"
        try lines.joined(separator: "\n").write(toFile: dumpPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dump2dcm")
        p.arguments = ["+te", dumpPath, path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("dump2dcm failed for \(path)") }
        return path
    }

    @Test func readAttributesReturnsTheKeysOfEachSequenceItem() throws {
        let dir = TestDirectory("otherids")
        let file = try Self.instance(in: dir.path, name: "a", studyUID: "1.2.3.9", sopUID: "1.2.3.9.1", patientID: "12345",
                                     otherIDs: [("H998877", "RTH-HOSP"), ("9434765919", "NHS")])
        let (attributes, items) = try DicomFile.readAttributes(file, itemsOf: .otherPatientIDsSequence, keys: [.patientID, .issuerOfPatientID])
        #expect(attributes.string(.patientID) == "12345")
        #expect(attributes[.otherPatientIDsSequence] == nil)
        #expect(items == [DicomAttributes([.patientID: "H998877", .issuerOfPatientID: "RTH-HOSP"]),
                          DicomAttributes([.patientID: "9434765919", .issuerOfPatientID: "NHS"])])
        let plain = try Self.instance(in: dir.path, name: "b", studyUID: "1.2.3.9", sopUID: "1.2.3.9.2", patientID: "12345")
        #expect(try DicomFile.readAttributes(plain, itemsOf: .otherPatientIDsSequence, keys: [.patientID]).items.isEmpty)
        // Asking for a top-level string attribute as a sequence gives no items.
        #expect(try DicomFile.readAttributes(plain, itemsOf: .patientID, keys: [.patientID]).items.isEmpty)
    }

    @Test func hubSeesTheNHSNumberAndTheReportGoesHomeWithTheLocalID() async throws {
        let dir = TestDirectory("nhs")
        let (trustPort, hubPort) = (Net.freePort(), Net.freePort())
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            identity: { patient_id: nhs_number, nhs_number_issuer: NHS }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(trustPort), issuer: RTH, roles: [source, destination] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination, reporter] }
            routes:
              - { name: images-to-hub, from: [TRUST_A], when: { category: image }, to: [HUB] }
              - { name: reports-home, from: [HUB], when: { category: report }, to: [origin] }
            """)
        let (hubDir, trustDir, input) = (dir.sub("hub"), dir.sub("trust"), dir.sub("in"))
        let hub = try PeerProcess("/usr/bin/storescp", ["-aet", "HUB_READ", "-od", hubDir, "\(hubPort)"], logDirectory: dir.path).start()
        let trust = try PeerProcess("/usr/bin/storescp", ["-aet", "TRUSTA_PACS", "-od", trustDir, "\(trustPort)"], logDirectory: dir.path).start()
        defer { hub.stop(); trust.stop() }
        _ = try await OffPool.run { try gw.start() }
        let withNHS = try Self.instance(in: input, name: "jane", studyUID: "1.2.826.0.1.3680043.8.1055.9.71", sopUID: "1.2.826.0.1.3680043.8.1055.9.71.1",
                                        patientID: "12345", otherIDs: [("H998877", "RTH-HOSP"), ("9434765919", "NHS")])
        let without = try Self.instance(in: input, name: "richard", studyUID: "1.2.826.0.1.3680043.8.1055.9.72",
                                        sopUID: "1.2.826.0.1.3680043.8.1055.9.72.1", patientID: "67890")
        let (s1, o1) = try DCMTK.run("/usr/bin/storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gw.port)", withNHS, without], in: dir)
        #expect(s1 == 0, "\(o1)")
        let arrived = await OffPool.waitUntil(timeout: 30) { ((try? FileManager.default.contentsOfDirectory(atPath: hubDir)) ?? []).count >= 2 }
        #expect(arrived, "\(gw.peer?.output.suffix(3000) ?? "")")
        var atHub: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: hubDir) {
            let path = hubDir + "/" + name
            atHub[try DCMTK.value("StudyInstanceUID", in: path, dir: dir) ?? "?"] =
                "\(try DCMTK.value("PatientID", in: path, dir: dir) ?? "-")|\(try DCMTK.value("IssuerOfPatientID", in: path, dir: dir) ?? "-")"
        }
        #expect(atHub == ["1.2.826.0.1.3680043.8.1055.9.71": "9434765919|RTH", "1.2.826.0.1.3680043.8.1055.9.72": "RTH-67890|RTH"])

        // The reporter answers with the NHS Number as Patient ID.
        let report = try Self.instance(in: input, name: "report", sopClass: "BasicTextSRStorage", studyUID: "1.2.826.0.1.3680043.8.1055.9.71",
                                       sopUID: "1.2.826.0.1.3680043.8.1055.9.71.9", patientID: "9434765919")
        let (s2, o2) = try DCMTK.run("/usr/bin/storescu", ["-aet", "HUB_READ", "-aec", "NETGW", "127.0.0.1", "\(gw.port)", report], in: dir)
        #expect(s2 == 0, "\(o2)")
        let home = await OffPool.waitUntil(timeout: 30) { ((try? FileManager.default.contentsOfDirectory(atPath: trustDir)) ?? []).count >= 1 }
        #expect(home, "\(gw.peer?.output.suffix(3000) ?? "")")
        let returned = try FileManager.default.contentsOfDirectory(atPath: trustDir).map { trustDir + "/" + $0 }
        #expect(returned.count == 1)
        if let file = returned.first {
            #expect(try DCMTK.value("SOPInstanceUID", in: file, dir: dir) == "1.2.826.0.1.3680043.8.1055.9.71.9")
            #expect(try DCMTK.value("PatientID", in: file, dir: dir) == "12345")
            #expect(try DCMTK.value("IssuerOfPatientID", in: file, dir: dir) == "RTH")
        }
        let mappings = try Self.strings(gw, "SELECT issuer || '|' || localPatientID || '|' || networkPatientID FROM patient_identity ORDER BY localPatientID")
        #expect(mappings == ["RTH|12345|9434765919", "RTH|67890|RTH-67890"])
        let patients = try Self.strings(gw, "SELECT issuer || '|' || patientID FROM patient ORDER BY patientID")
        #expect(patients == ["RTH|12345", "RTH|67890"])
        #expect(gw.terminate() == 0)
    }

    static func strings(_ gw: GatewayProcess, _ sql: String) throws -> [String] {
        try gw.indexRows(sql).map { $0[0] as String }
    }
}
