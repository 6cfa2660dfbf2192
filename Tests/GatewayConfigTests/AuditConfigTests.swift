import Foundation
import GatewayConfig
import Testing

/// The `audit:` section: a syslog collector (udp or tls, verified), a file, a bounded spool.
@Suite struct AuditConfigTests {
    @Test func absentSectionWritesNoMessages() throws {
        let audit = try parse("").audit
        #expect(!audit.isEnabled)
        #expect(audit.syslog == nil && audit.file == nil && audit.spool == nil)
        #expect(audit.spoolLimit == .megabytes(256))
    }

    @Test func everyKeyIsReadWithPathsResolvedAgainstTheConfigDirectory() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["ca.pem", "gw.pem", "gw.key"] { try "x".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let config = try GatewayConfiguration.parse(yaml: """
            audit:
              syslog: { address: "audit.example.org:6514", transport: tls, trusted: ca.pem, certificate: gw.pem, private_key: gw.key,
                        facility: local4 }
              file: log/audit.log
              spool: spool
              spool_limit: 1MB
              spool_max_messages: 500
              enterprise_site_id: RTH01
              source_id: gw1@NETGW
            """, sourceName: "gw.yaml", baseDirectory: dir)
        let audit = config.audit
        let syslog = try #require(audit.syslog)
        #expect(syslog.host == "audit.example.org" && syslog.port == 6514 && syslog.transport == .tls)
        #expect(syslog.trusted?.path == dir.appendingPathComponent("ca.pem").standardizedFileURL.path)
        #expect(syslog.certificate != nil && syslog.privateKey != nil)
        #expect(syslog.facility == 20)
        #expect(audit.file?.path == dir.appendingPathComponent("log/audit.log").standardizedFileURL.path)
        #expect(audit.spool?.lastPathComponent == "spool")
        #expect(audit.spoolLimit == .megabytes(1) && audit.spoolMaxMessages == 500)
        #expect(audit.enterpriseSiteID == "RTH01" && audit.sourceID == "gw1@NETGW")
        let udp = try parse("audit: { syslog: { address: \"[::1]:514\", transport: udp, facility: 13 } }").audit.syslog
        #expect(udp?.host == "::1" && udp?.port == 514 && udp?.transport == .udp && udp?.facility == 13)
    }

    @Test func mistakesAreReportedWhereTheyAreWritten() {
        let cases: [(String, String, String)] = [
            ("audit:\n  syslog: { transport: udp }\n", "test.yaml:2:", "missing required key 'address'"),
            ("audit:\n  syslog: { address: \"127.0.0.1\", transport: udp }\n", "test.yaml:2:22", "is not host:port"),
            ("audit:\n  syslog: { address: \"127.0.0.1:99999\", transport: udp }\n", "test.yaml:2:22", "is not a port"),
            ("audit:\n  syslog: { address: \"127.0.0.1:6514\" }\n", "test.yaml:2:", "missing required key 'trusted'"),
            ("audit:\n  syslog: { address: \"127.0.0.1:6514\", trusted: /nonexistent/ca.pem }\n", "test.yaml:2:", "cannot read audit.syslog.trusted"),
            ("audit:\n  syslog: { address: \"127.0.0.1:514\", transport: udp, trusted: x.pem }\n", "test.yaml:2:", "applies to transport: tls only"),
            ("audit:\n  syslog: { address: \"127.0.0.1:514\", transport: carrier-pigeon }\n", "test.yaml:2:", "carrier-pigeon"),
            ("audit:\n  syslog: { address: \"127.0.0.1:514\", transport: udp, facility: kernel-ish }\n", "test.yaml:2:", "not a syslog facility"),
            ("audit:\n  spool: /var/spool/x\n", "test.yaml:2:10", "audit.syslog, which is not set"),
            ("audit:\n  spool_limit: 10\n", "test.yaml:2:", "spool_limit"),
            ("audit:\n  sppol: x\n", "test.yaml:2:3", "did you mean 'spool'"),
        ]
        for (yaml, location, message) in cases {
            let text = ConfigError(diagnostics: diagnostics(yaml)).description
            #expect(text.contains(location) && text.contains(message), "\(yaml) -> \(text)")
        }
    }
}
