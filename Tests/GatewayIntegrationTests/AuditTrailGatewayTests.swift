import DicomCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GatewayAudit
import GatewayConfig
import Testing

/// The running gateway's audit trail against a real rsyslogd: a C-STORE association, a C-FIND and
/// a C-MOVE from DCMTK's tools reach the collector as PS3.15 messages (110100, 110104 with the
/// study and patient, 110112 with the query, 110103), over UDP and over TLS, and the file.
@Suite(.serialized) struct AuditTrailGatewayTests {
    @Test(arguments: [SyslogTransport.udp, .tls])
    func storeFindAndMoveReachTheCollectorAsStandardMessages(transport: SyslogTransport) async throws {
        let collector = try RsyslogCollector()
        try collector.start()
        let viewerPort = Net.freePort()
        let auditFile = collector.directory.path + "/audit.log"
        let gw = try await CacheQR.boot("audit-trail") { c in
            c.nodes = [NodeConfig(name: "VIEWER", aeTitle: "VIEWER", host: "127.0.0.1", port: viewerPort, roles: [.destination])]
            var target = SyslogTarget(host: "127.0.0.1", port: transport == .udp ? collector.udpPort : collector.tlsPort, transport: transport)
            if transport == .tls { target.trusted = URL(fileURLWithPath: collector.caPath) }
            c.audit.syslog = target
            c.audit.file = URL(fileURLWithPath: auditFile)
            c.audit.spool = URL(fileURLWithPath: collector.directory.path + "/spool")
            c.audit.enterpriseSiteID = "RTH"
        }
        let trail = try #require(gw.gateway.auditTrail)
        trail.start()
        trail.recordApplicationActivity(started: true)
        let scp = try PeerProcess("storescp", ["-aet", "VIEWER", "-od", gw.directory.sub("viewer"), "\(viewerPort)"],
                                  logDirectory: gw.directory.path).start()
        defer { scp.stop() }
        #expect(try await CacheQR.offPool { Net.waitForListener(viewerPort) })

        let study = TestData.newUID()
        let files = try TestData.study(in: gw.directory.sub("in"), count: 2, studyUID: study, patientID: "AUDIT-PID-1",
                                       extra: [.patientName: "Audit^Patient", .accessionNumber: "ACC-77"])
        try await CacheQR.storescu(gw, files, callingAE: "MODALITY1")
        let find = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "StudyInstanceUID=\(study)"], callingAE: "REPORTER1")
        #expect(find.matches.count == 1, "\(find.output)")
        let (status, out) = try await CacheQR.dcmtk("movescu", [
            "-S", "-aet", "REPORTER1", "-aec", "NETGW", "-aem", "VIEWER", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
        ], in: gw.directory)
        #expect(status == 0, "\(out)")

        let wanted: Set = ["110100", "110104", "110112", "110103"]
        let received = try await CacheQR.offPool { collector.wait(timeout: 30) { Set(Self.byEvent($0).keys).isSuperset(of: wanted) } }
        trail.stopAndWait()
        await gw.stop()
        let docs = Self.byEvent(received)
        #expect(Set(docs.keys).isSuperset(of: wanted), "received: \(received.map(\.message))\n\(collector.log)")
        #expect(received.allSatisfy { $0.appName == "dicom-gateway" && $0.messageID == "DICOM+RFC3881" })
        #expect(received.allSatisfy { $0.input == (transport == .udp ? "imudp" : "imtcp") })

        let transferred = try #require(docs["110104"])
        #expect(try value(transferred, "/AuditMessage/EventIdentification/@EventActionCode") == "C")
        #expect(try value(transferred, "/AuditMessage/EventIdentification/@EventOutcomeIndicator") == "0")
        #expect(try value(transferred, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID") == "MODALITY1")
        #expect(try value(transferred, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']/@NetworkAccessPointID") == "127.0.0.1")
        #expect(try value(transferred, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110152']/@AlternativeUserID") == "AETITLES=NETGW")
        let studyObject = "/AuditMessage/ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='110180']"
        #expect(try value(transferred, studyObject + "/@ParticipantObjectID") == study)
        #expect(try value(transferred, studyObject + "/ParticipantObjectDescription/SOPClass/@NumberOfInstances") == "2")
        #expect(try value(transferred, studyObject + "/ParticipantObjectDescription/Accession/@Number") == "ACC-77")
        let patientObject = "/AuditMessage/ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']"
        #expect(try value(transferred, patientObject + "/@ParticipantObjectID").hasPrefix("AUDIT-PID-1"))
        #expect(try value(transferred, patientObject + "/ParticipantObjectName") == "Audit^Patient")
        #expect(try value(transferred, "/AuditMessage/AuditSourceIdentification/@AuditEnterpriseSiteID") == "RTH")

        let query = try #require(docs["110112"])
        #expect(try value(query, "/AuditMessage/ParticipantObjectIdentification/@ParticipantObjectID") == "1.2.840.10008.5.1.4.1.2.2.1")
        let identifier = try #require(Data(base64Encoded: try value(query, "//ParticipantObjectQuery")))
        #expect(String(decoding: identifier, as: UTF8.self).contains(study))
        #expect(try value(query, "/AuditMessage/ActiveParticipant[@UserIsRequestor='true']/@UserID") == "REPORTER1")

        let accessed = try #require(docs["110103"])
        #expect(try value(accessed, "/AuditMessage/EventIdentification/@EventActionCode") == "R")
        #expect(try value(accessed, "/AuditMessage/EventIdentification/@EventOutcomeIndicator") == "0")
        #expect(try value(accessed, studyObject + "/@ParticipantObjectID") == study)
        #expect(try value(accessed, patientObject + "/ParticipantObjectName") == "Audit^Patient")

        // The file has the same messages, one XML document a line.
        let lines = try String(contentsOfFile: auditFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= wanted.count)
        for line in lines { #expect((try? XMLDocument(xmlString: String(line))) != nil, "\(line)") }
    }

    static func byEvent(_ received: [RsyslogCollector.Received]) -> [String: XMLDocument] {
        var found: [String: XMLDocument] = [:]
        for r in received {
            guard let doc = try? XMLDocument(xmlString: r.message),
                  let id = (try? doc.nodes(forXPath: "/AuditMessage/EventIdentification/EventID/@csd-code"))?.first?.stringValue
            else { continue }
            found[id] = found[id] ?? doc
        }
        return found
    }

    func value(_ doc: XMLDocument, _ path: String) throws -> String {
        try #require(try doc.nodes(forXPath: path).first?.stringValue, "nothing at \(path)")
    }
}
