import DicomCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// A routed delivery is on the audit trail: when the delivery association to storescp closes,
/// one DICOM Instances Transferred / Export message (110106) names the destination, the study
/// with the number of instances sent, and the patient.
@Suite(.serialized) struct AuditDeliveryExportTests {
    @Test func routedDeliveryIsAuditedAsOneExportPerAssociation() async throws {
        let dir = TestDirectory("audit-export")
        let hubPort = Net.freePort()
        let auditFile = dir.path + "/audit.log"
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination] }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            audit: { file: \(auditFile) }
            """)
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        try gateway.start()
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("in"), count: 3, studyUID: study, patientID: "EXPORT-PID",
                                       extra: [.patientName: "Export^Patient"])
        let (status, out) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files, in: dir)
        #expect(status == 0, "\(out)")

        // The worker releases the association after two idle seconds; the entry comes then.
        var export: XMLDocument?
        let deadline = Date().addingTimeInterval(60)
        while export == nil && Date() < deadline {
            let lines = ((try? String(contentsOfFile: auditFile, encoding: .utf8)) ?? "").split(separator: "\n")
            export = lines.compactMap { try? XMLDocument(xmlString: String($0)) }
                .first { (try? $0.nodes(forXPath: "/AuditMessage/EventIdentification/EventID/@csd-code"))?.first?.stringValue == "110106" }
            if export == nil { usleep(200_000) }
        }
        #expect(gateway.terminate() == 0)
        let doc = try #require(export, "no 110106 in \(auditFile):\n\((try? String(contentsOfFile: auditFile, encoding: .utf8)) ?? "")")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: received))?.count == files.count)
        #expect(try value(doc, "/AuditMessage/EventIdentification/@EventOutcomeIndicator") == "0")
        #expect(try value(doc, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110152']/@UserID") == "HUB_READ")
        #expect(try value(doc, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']/@AlternativeUserID") == "AETITLES=NETGW")
        let studyObject = "/AuditMessage/ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='110180']"
        #expect(try value(doc, studyObject + "/@ParticipantObjectID") == study)
        #expect(try value(doc, studyObject + "/ParticipantObjectDescription/SOPClass/@NumberOfInstances") == "3")
        let patientObject = "/AuditMessage/ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']"
        #expect(try value(doc, patientObject + "/@ParticipantObjectID").hasPrefix("EXPORT-PID"))
        #expect(try value(doc, patientObject + "/ParticipantObjectName") == "Export^Patient")
        // The index has the same entry, without patient data.
        let rows = try WorklistPeers.rows(gateway, "SELECT detail FROM audit WHERE event = 'delivered'")
        #expect(rows.count == 1)
        #expect((rows.first?["detail"] as String?)?.contains("3 instance(s)") == true)
    }

    func value(_ doc: XMLDocument, _ path: String) throws -> String {
        try #require(try doc.nodes(forXPath: path).first?.stringValue, "nothing at \(path)")
    }
}
