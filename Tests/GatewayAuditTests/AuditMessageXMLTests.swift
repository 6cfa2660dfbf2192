import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GatewayAudit
import Testing

/// Each PS3.15 A.5.3 message the gateway writes is well-formed XML with the schema's required
/// elements and attributes (A.5.1), and hostile values cannot break it.
@Suite struct AuditMessageXMLTests {
    static let source = AuditSource(id: "gw1@NETGW", enterpriseSiteID: "RTH")
    static let gateway = AuditNode(userID: "4242", alternativeUserID: "AETITLES=NETGW", host: "10.0.0.5")
    static let trust = AuditNode.application(aeTitle: "TRUSTA_PACS", host: "10.1.2.3")
    static let study = AuditStudy(uid: "1.2.3.4", accessionNumbers: ["ACC1"],
                                  sopClasses: ["1.2.840.10008.5.1.4.1.1.2": 3, "1.2.840.10008.5.1.4.1.1.7": 1])
    static let patient = AuditPatient(id: "P123", issuer: "RTH", name: "Doe^Jane")

    @Test func applicationStartAndStopCarryTheirEventTypeAndTheApplicationParticipant() throws {
        for started in [true, false] {
            let doc = try parsed(.applicationActivity(started: started, gateway: Self.gateway, source: Self.source))
            try expectEvent(doc, id: "110100", action: "E", outcome: "0")
            #expect(try attribute(doc, "/AuditMessage/EventIdentification/EventTypeCode", "csd-code") == (started ? "110120" : "110121"))
            #expect(try attribute(doc, "/AuditMessage/ActiveParticipant/RoleIDCode", "csd-code") == "110150")
            #expect(try attribute(doc, "/AuditMessage/ActiveParticipant", "UserIsRequestor") == "false")
            #expect(try attribute(doc, "/AuditMessage/ActiveParticipant", "NetworkAccessPointTypeCode") == "2")
            try expectSource(doc)
        }
    }

    @Test func securityAlertNamesItsKindSubjectAndDescription() throws {
        let message = AuditMessage.securityAlert(kind: .nodeAuthentication, outcome: .minorFailure,
                                                 description: "certificate-mismatch: CN=trustb presented for TRUSTA_PACS",
                                                 reporter: Self.gateway, peer: Self.trust, subject: "CN=trustb,O=Other", source: Self.source)
        let doc = try parsed(message)
        try expectEvent(doc, id: "110113", action: "E", outcome: "4")
        #expect(try attribute(doc, "/AuditMessage/EventIdentification/EventTypeCode", "csd-code") == "110126")
        #expect(try text(doc, "/AuditMessage/EventIdentification/EventOutcomeDescription").hasPrefix("certificate-mismatch"))
        #expect(try attribute(doc, "/AuditMessage/ParticipantObjectIdentification", "ParticipantObjectID") == "CN=trustb,O=Other")
        let detail = try attribute(doc, "/AuditMessage/ParticipantObjectIdentification/ParticipantObjectDetail", "value")
        #expect(String(decoding: try #require(Data(base64Encoded: detail)), as: UTF8.self).contains("TRUSTA_PACS"))
        #expect(try doc.nodes(forXPath: "/AuditMessage/ActiveParticipant[@UserIsRequestor='true']").count == 1)
    }

    @Test func userAuthenticationFailureIsALoginWithMinorFailure() throws {
        let doc = try parsed(.userAuthentication(succeeded: false, user: AuditNode(userID: "http", host: "192.0.2.7"),
                                                 authenticator: Self.gateway, description: "bad token", source: Self.source))
        try expectEvent(doc, id: "110114", action: "E", outcome: "4")
        #expect(try attribute(doc, "/AuditMessage/EventIdentification/EventTypeCode", "csd-code") == "110122")
        #expect(try attribute(doc, "/AuditMessage/ActiveParticipant[@UserIsRequestor='true']", "NetworkAccessPointID") == "192.0.2.7")
    }

    @Test func instancesTransferredCarriesSourceDestinationStudyAndPatient() throws {
        let doc = try parsed(.instancesTransferred(action: .create, outcome: .success, sender: Self.trust, receiver: Self.gateway,
                                                   senderIsRequestor: true, studies: [Self.study], patients: [Self.patient],
                                                   source: Self.source))
        try expectEvent(doc, id: "110104", action: "C", outcome: "0")
        #expect(try attribute(doc, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']", "UserID") == "TRUSTA_PACS")
        #expect(try attribute(doc, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']", "UserIsRequestor") == "true")
        #expect(try attribute(doc, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110152']", "AlternativeUserID") == "AETITLES=NETGW")
        try expectStudyAndPatient(doc)
        let classes = try doc.nodes(forXPath: "//ParticipantObjectDescription/SOPClass") as! [XMLElement]
        #expect(classes.map { $0.attribute(forName: "NumberOfInstances")?.stringValue } == ["3", "1"])
        #expect(try attribute(doc, "//ParticipantObjectDescription/Accession", "Number") == "ACC1")
    }

    @Test func queryCarriesTheSOPClassAndTheIdentifierBase64() throws {
        let identifier = Data([0x08, 0x00, 0x52, 0x00, 0x06, 0x00, 0x00, 0x00] + Array("STUDY ".utf8))
        let doc = try parsed(.query(outcome: .success, requestor: Self.trust, responder: Self.gateway,
                                    sopClassUID: "1.2.840.10008.5.1.4.1.2.2.1", identifier: identifier,
                                    transferSyntaxUID: "1.2.840.10008.1.2.1", source: Self.source))
        try expectEvent(doc, id: "110112", action: "E", outcome: "0")
        let object = "/AuditMessage/ParticipantObjectIdentification"
        #expect(try attribute(doc, object, "ParticipantObjectID") == "1.2.840.10008.5.1.4.1.2.2.1")
        #expect(try attribute(doc, object, "ParticipantObjectTypeCodeRole") == "24")
        #expect(try attribute(doc, object + "/ParticipantObjectIDTypeCode", "csd-code") == "110181")
        #expect(Data(base64Encoded: try text(doc, object + "/ParticipantObjectQuery")) == identifier)
        #expect(try attribute(doc, object + "/ParticipantObjectDetail", "type") == "TransferSyntax")
    }

    @Test func accessedExportAndDeletedCarryStudyAndPatient() throws {
        let accessed = try parsed(.instancesAccessed(action: .read, outcome: .success, accessor: Self.trust, holder: Self.gateway,
                                                     studies: [Self.study], patients: [Self.patient], source: Self.source))
        try expectEvent(accessed, id: "110103", action: "R", outcome: "0")
        try expectStudyAndPatient(accessed)
        let export = try parsed(.export(outcome: .seriousFailure, exporter: Self.gateway, destination: Self.trust, requestor: nil,
                                        studies: [Self.study], patients: [Self.patient], source: Self.source))
        try expectEvent(export, id: "110106", action: "R", outcome: "8")
        #expect(try attribute(export, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110152']", "UserID") == "TRUSTA_PACS")
        try expectStudyAndPatient(export)
        let deleted = try parsed(.studyDeleted(outcome: .success, deleter: Self.gateway, studies: [Self.study], patients: [Self.patient],
                                               source: Self.source))
        try expectEvent(deleted, id: "110105", action: "D", outcome: "0")
        try expectStudyAndPatient(deleted)
    }

    @Test func hostileValuesAreEscapedAndTheMessageStaysOneLine() throws {
        let hostile = "A\"B'<C>&D\u{0}E\nF\r\u{1B}]G</AuditMessage><x y=\""
        let patient = AuditPatient(id: hostile, issuer: "I&<", name: "O'Brien^\"Bobby\"<script>\n")
        let message = AuditMessage.instancesTransferred(action: .create, outcome: .success,
                                                        sender: .application(aeTitle: hostile, host: "h<>"), receiver: Self.gateway,
                                                        senderIsRequestor: true, studies: [AuditStudy(uid: hostile)], patients: [patient],
                                                        description: hostile, source: AuditSource(id: hostile))
        let xml = message.xml()
        #expect(!xml.contains("\n") && !xml.contains("\r") && !xml.contains("\u{0}") && !xml.contains("\u{1B}"))
        let doc = try XMLDocument(xmlString: xml)
        #expect(try attribute(doc, "/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']", "UserID")
            == "A\"B'<C>&D\u{FFFD}E\nF\r\u{FFFD}]G</AuditMessage><x y=\"")
        #expect(try text(doc, "//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']/ParticipantObjectName")
            == "O'Brien^\"Bobby\"<script>\n")
        #expect(try doc.nodes(forXPath: "//x").isEmpty)
        #expect(try doc.nodes(forXPath: "/AuditMessage/ParticipantObjectIdentification").count == 2)
    }

    // MARK: helpers

    func parsed(_ message: AuditMessage) throws -> XMLDocument {
        let xml = message.xml()
        #expect(!xml.contains("\n"))
        return try XMLDocument(xmlString: xml)
    }

    func expectEvent(_ doc: XMLDocument, id: String, action: String, outcome: String) throws {
        let event = "/AuditMessage/EventIdentification"
        #expect(try attribute(doc, event, "EventActionCode") == action)
        #expect(try attribute(doc, event, "EventOutcomeIndicator") == outcome)
        let time = try attribute(doc, event, "EventDateTime")
        #expect(try Date(time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)).timeIntervalSinceNow.magnitude < 3600)
        #expect(try attribute(doc, event + "/EventID", "csd-code") == id)
        #expect(try attribute(doc, event + "/EventID", "codeSystemName") == "DCM")
        #expect(try !attribute(doc, event + "/EventID", "originalText").isEmpty)
        let participants = try doc.nodes(forXPath: "/AuditMessage/ActiveParticipant") as! [XMLElement]
        #expect(!participants.isEmpty)
        for p in participants {
            #expect(p.attribute(forName: "UserID")?.stringValue?.isEmpty == false)
            #expect(["true", "false"].contains(p.attribute(forName: "UserIsRequestor")?.stringValue))
        }
        let order = (try doc.nodes(forXPath: "/AuditMessage/*")).compactMap(\.name)
        #expect(order.first == "EventIdentification")
        #expect(order.firstIndex(of: "AuditSourceIdentification")! > order.lastIndex(of: "ActiveParticipant")!)
    }

    func expectSource(_ doc: XMLDocument) throws {
        #expect(try attribute(doc, "/AuditMessage/AuditSourceIdentification", "AuditSourceID") == "gw1@NETGW")
        #expect(try attribute(doc, "/AuditMessage/AuditSourceIdentification", "AuditEnterpriseSiteID") == "RTH")
        #expect(try attribute(doc, "/AuditMessage/AuditSourceIdentification/AuditSourceTypeCode", "csd-code") == "4")
    }

    func expectStudyAndPatient(_ doc: XMLDocument) throws {
        try expectSource(doc)
        let study = "/AuditMessage/ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='110180']"
        #expect(try attribute(doc, study, "ParticipantObjectID") == "1.2.3.4")
        #expect(try attribute(doc, study, "ParticipantObjectTypeCode") == "2")
        #expect(try attribute(doc, study + "/ParticipantObjectDescription/SOPClass", "UID") == "1.2.840.10008.5.1.4.1.1.2")
        let patient = "/AuditMessage/ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='2']"
        #expect(try attribute(doc, patient, "ParticipantObjectID") == "P123^^^RTH")
        #expect(try attribute(doc, patient, "ParticipantObjectTypeCode") == "1")
        #expect(try attribute(doc, patient, "ParticipantObjectTypeCodeRole") == "1")
        #expect(try attribute(doc, patient + "/ParticipantObjectIDTypeCode", "codeSystemName") == "RFC-3881")
        #expect(try text(doc, patient + "/ParticipantObjectName") == "Doe^Jane")
    }
}

/// The one value at `path` (an attribute of the first element matching), or a failing test.
func attribute(_ doc: XMLDocument, _ path: String, _ name: String) throws -> String {
    let element = try #require(try doc.nodes(forXPath: path).first as? XMLElement, "no element at \(path)")
    return try #require(element.attribute(forName: name)?.stringValue, "no \(name) on \(path)")
}

func text(_ doc: XMLDocument, _ path: String) throws -> String {
    try #require(try doc.nodes(forXPath: path).first?.stringValue, "no element at \(path)")
}
