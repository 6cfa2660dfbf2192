import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// A failed HTTP token authentication on the running gateway (the real binary, HTTP API on a
/// non-loopback bind, so tokens are required) reaches a real rsyslogd over RFC 5425 TLS as a
/// PS3.15 User Authentication message (110114, Login, outcome minor failure) naming the caller's
/// address and the path, and never the token that was tried.
@Suite(.serialized) struct AuditAuthenticationTests {
    @Test func aRefusedHTTPTokenReachesTheCollectorAsAUserAuthenticationFailure() async throws {
        let collector = try RsyslogCollector()
        try collector.start()
        defer { collector.stop() }
        let dir = TestDirectory("audit-http-401")
        let port = Net.freePort()
        let good = "reader-token-0123456789abcdef", wrong = "not-a-token-9876543210fedcba"
        try "\(good)\n".write(toFile: dir.path + "/read.token", atomically: true, encoding: .utf8)
        chmod(dir.path + "/read.token", 0o600)
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            http:
              port: \(port)
              bind: 0.0.0.0
              tokens:
                - { name: wall-screen, role: read, file: read.token }
            audit:
              syslog: { address: "127.0.0.1:\(collector.tlsPort)", transport: tls, trusted: \(collector.caPath) }
              enterprise_site_id: RTH
            """)
        try gateway.start()
        defer { _ = gateway.terminate() }
        #expect(Net.waitForListener(port))
        let base = "http://127.0.0.1:\(port)"

        let refused = try await AdminHTTPSecurityTests.curl(base + "/api/v1/nodes", ca: nil, token: wrong, in: dir)
        #expect(refused.status == 401, "\(refused)")
        let missing = try await AdminHTTPSecurityTests.curl(base + "/api/v1/audit", ca: nil, in: dir)
        #expect(missing.status == 401, "\(missing)")
        let allowed = try await AdminHTTPSecurityTests.curl(base + "/api/v1/nodes", ca: nil, token: good, in: dir)
        #expect(allowed.status == 200, "\(allowed)")

        let received = try await CacheQR.offPool { collector.wait(timeout: 30) { Self.logins($0).count >= 2 } }
        let messages = Self.logins(received)
        #expect(messages.count == 2, "two refusals, two messages (the allowed request is not one): \(received.map(\.message))\n\(collector.log)")
        #expect(received.allSatisfy { $0.appName == "dicom-gateway" && $0.messageID == "DICOM+RFC3881" && $0.input == "imtcp" })
        #expect(!received.contains { $0.message.contains(wrong) || $0.message.contains(good) }, "a token reached the audit trail")
        let descriptions = try messages.map { try Self.value($0, "/AuditMessage/EventIdentification/EventOutcomeDescription") }
        #expect(descriptions.contains { $0.contains("/api/v1/nodes") } && descriptions.contains { $0.contains("/api/v1/audit") }, "\(descriptions)")
        for message in messages {
            #expect(try Self.value(message, "/AuditMessage/EventIdentification/@EventActionCode") == "E")
            #expect(try Self.value(message, "/AuditMessage/EventIdentification/@EventOutcomeIndicator") == "4")
            #expect(try Self.value(message, "/AuditMessage/EventIdentification/EventTypeCode/@csd-code") == "110122")
            #expect(try Self.value(message, "/AuditMessage/ActiveParticipant[@UserIsRequestor='true']/@NetworkAccessPointID") == "127.0.0.1")
            #expect(try Self.value(message, "/AuditMessage/AuditSourceIdentification/@AuditEnterpriseSiteID") == "RTH")
        }
    }

    /// The User Authentication messages among those received.
    static func logins(_ received: [RsyslogCollector.Received]) -> [XMLDocument] {
        received.compactMap { try? XMLDocument(xmlString: $0.message) }
            .filter { (try? value($0, "/AuditMessage/EventIdentification/EventID/@csd-code")) == "110114" }
    }

    static func value(_ doc: XMLDocument, _ path: String) throws -> String {
        guard let found = try doc.nodes(forXPath: path).first?.stringValue else { throw TestFailure("nothing at \(path)") }
        return found
    }
}
