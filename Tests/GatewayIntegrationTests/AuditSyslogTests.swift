import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GatewayAudit
import GatewayConfig
import Logging
import Testing

/// The audit trail's transports against a real rsyslogd on loopback: RFC 5426 UDP and RFC 5425
/// TLS (certificate verified), the spool through a collector outage, and the spool's limit.
@Suite(.serialized) struct AuditSyslogTests {
    static let logger = Logger(label: "audit-test")
    static let peer = AuditNode.application(aeTitle: "TRUSTA_PACS", host: "127.0.0.1")

    func settings(_ collector: RsyslogCollector, _ transport: SyslogTransport, trusted: String? = nil, spool: String? = nil,
                  maxMessages: Int = 1_000_000) -> AuditSettings {
        var target = SyslogTarget(host: "127.0.0.1", port: transport == .udp ? collector.udpPort : collector.tlsPort, transport: transport)
        if transport == .tls { target.trusted = URL(fileURLWithPath: trusted ?? collector.caPath) }
        var s = AuditSettings()
        s.syslog = target
        s.spool = spool.map { URL(fileURLWithPath: $0) }
        s.spoolMaxMessages = maxMessages
        s.enterpriseSiteID = "TEST"
        return s
    }

    /// One of each message the gateway writes, marked so the receiving end can tell them apart.
    func everyKind(_ trail: AuditTrail, marker: String) -> [AuditMessage] {
        let study = AuditStudy(uid: "1.2.826.0.1.3680043.2.1125.1", accessionNumbers: ["A1"], sopClasses: ["1.2.840.10008.5.1.4.1.1.2": 2])
        let patient = AuditPatient(id: "PAT-\(marker)", issuer: "TRUSTA", name: "Test^Patient")
        let s = trail.source, g = trail.gateway
        return [
            .applicationActivity(started: true, gateway: g, source: s),
            .securityAlert(kind: .nodeAuthentication, outcome: .minorFailure, description: "tls-handshake-failed \(marker)",
                           reporter: g, peer: Self.peer, subject: "127.0.0.1", source: s),
            .userAuthentication(succeeded: false, user: AuditNode(userID: "http", host: "127.0.0.1"), authenticator: g,
                                description: "bad token \(marker)", source: s),
            .instancesTransferred(action: .create, outcome: .success, sender: Self.peer, receiver: g, senderIsRequestor: true,
                                  studies: [study], patients: [patient], source: s),
            .query(outcome: .success, requestor: Self.peer, responder: g, sopClassUID: "1.2.840.10008.5.1.4.1.2.2.1",
                   identifier: Data("query \(marker)".utf8), source: s),
            .instancesAccessed(action: .read, outcome: .success, accessor: Self.peer, holder: g, studies: [study], patients: [patient],
                               source: s),
            .export(outcome: .success, exporter: g, destination: Self.peer, requestor: nil, studies: [study], patients: [patient], source: s),
            .studyDeleted(outcome: .success, deleter: g, studies: [study], patients: [patient], source: s),
        ]
    }

    /// `prefix-N` as written in a message's outcome description.
    static func marker(_ prefix: String, in message: String) -> String? {
        message.range(of: prefix + "-[0-9]+", options: .regularExpression).map { String(message[$0]) }
    }

    @Test func udpAndTlsCollectorsReceiveEveryMessageAsSchemaXML() throws {
        let collector = try RsyslogCollector()
        try collector.start()
        for transport in [SyslogTransport.udp, .tls] {
            let trail = try AuditTrail(settings: settings(collector, transport), gatewayAETitle: "NETGW", hostname: "gw-test", logger: Self.logger)
            trail.start()
            let messages = everyKind(trail, marker: transport.rawValue)
            messages.forEach(trail.record)
            let input = transport == .udp ? "imudp" : "imtcp"
            let got = collector.wait { $0.filter { $0.input == input }.count >= messages.count }.filter { $0.input == input }
            trail.stopAndWait()
            #expect(got.count == messages.count, "\(transport): \(collector.log)")
            var ids: [String] = []
            for (received, sent) in zip(got, messages) {
                #expect(received.appName == "dicom-gateway")
                #expect(received.messageID == "DICOM+RFC3881")
                #expect(received.procID == String(ProcessInfo.processInfo.processIdentifier))
                #expect(received.pri == 10 * 8 + SyslogFormat.severity(sent.event.outcome))
                let doc = try XMLDocument(xmlString: received.message)
                let id = try #require(try doc.nodes(forXPath: "/AuditMessage/EventIdentification/EventID/@csd-code").first?.stringValue)
                ids.append(id)
                #expect(try doc.nodes(forXPath: "/AuditMessage/ActiveParticipant[@UserID]").count >= 1)
                #expect(try doc.nodes(forXPath: "/AuditMessage/AuditSourceIdentification[@AuditSourceID='gw-test@NETGW']").count == 1)
                #expect(received.message == sent.xml())
            }
            #expect(ids == ["110100", "110113", "110114", "110104", "110112", "110103", "110106", "110105"])
            let transferred = try XMLDocument(xmlString: got[3].message)
            #expect(try transferred.nodes(forXPath: "//ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='110180']").count == 1)
            #expect(try transferred.nodes(forXPath: "//ParticipantObjectIdentification[@ParticipantObjectID='PAT-\(transport.rawValue)^^^TRUSTA']").count == 1)
        }
    }

    @Test func tenSecondCollectorOutageOverTlsLosesNoMessage() throws {
        let collector = try RsyslogCollector()
        try collector.start()
        let spool = collector.directory.sub("spool")
        let trail = try AuditTrail(settings: settings(collector, .tls, spool: spool), gatewayAETitle: "NETGW", logger: Self.logger)
        trail.start()
        defer { trail.stopAndWait() }
        func alert(_ n: Int) -> AuditMessage {
            .securityAlert(kind: .useOfRestrictedFunction, outcome: .minorFailure, description: "outage-\(n)", reporter: trail.gateway,
                           peer: Self.peer, subject: "TRUSTA_PACS", source: trail.source)
        }
        for n in 0..<10 { trail.record(alert(n)) }
        collector.wait { $0.count >= 10 }
        collector.stop()
        let outageStart = Date()
        for n in 10..<40 {
            trail.record(alert(n))
            usleep(300_000)
        }
        while Date().timeIntervalSince(outageStart) < 10 { usleep(100_000) }
        let spooledDuringOutage = trail.spooledCount
        try collector.start()
        let got = collector.wait(timeout: 30) { Set($0.map(\.message)).count >= 40 }
        let markers = Set(got.compactMap { Self.marker("outage", in: $0.message) })
        #expect(spooledDuringOutage >= 29, "messages kept in the spool while the collector was down")
        #expect(markers == Set((0..<40).map { "outage-\($0)" }), "missing: \(Set((0..<40).map { "outage-\($0)" }).subtracting(markers).sorted())")
        #expect(trail.droppedCount == 0)
        #expect(trail.spooledCount == 0)
    }

    @Test func fullSpoolDropsTheOldestCountsThemAndKeepsTheRestAcrossARestart() throws {
        let collector = try RsyslogCollector()
        let spool = collector.directory.sub("spool")
        let limited = settings(collector, .tls, spool: spool, maxMessages: 5)
        // The collector is not running yet: everything waits in the spool.
        let first = try AuditTrail(settings: limited, gatewayAETitle: "NETGW", drainTimeout: 0.5, logger: Self.logger)
        first.start()
        for n in 0..<12 {
            first.record(.securityAlert(kind: .softwareConfiguration, outcome: .success, description: "spool-\(n)", reporter: first.gateway,
                                        peer: nil, subject: "gateway.yaml", source: first.source))
        }
        first.stopAndWait()
        #expect(first.droppedCount == 7)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".syslog") }.count == 5)

        // A collector whose certificate is not from the trusted CA gets nothing.
        try collector.start()
        let wrongCA = try AuditTrail(settings: settings(collector, .tls, trusted: collector.directory.path + "/other-ca.pem", spool: spool,
                                                        maxMessages: 5), gatewayAETitle: "NETGW", drainTimeout: 1, logger: Self.logger)
        wrongCA.start()
        usleep(1_500_000)
        wrongCA.stopAndWait()
        #expect(collector.received().isEmpty)
        #expect(wrongCA.spooledCount == 5)

        // After a restart with the right CA, the five newest arrive, in order.
        let second = try AuditTrail(settings: limited, gatewayAETitle: "NETGW", logger: Self.logger)
        second.start()
        let got = collector.wait { $0.count >= 5 }
        second.stopAndWait()
        let markers = got.compactMap { Self.marker("spool", in: $0.message) }
        #expect(markers == (7..<12).map { "spool-\($0)" })
    }
}
