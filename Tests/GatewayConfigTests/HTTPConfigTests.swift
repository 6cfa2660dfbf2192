import Foundation
import GatewayConfig
import Testing

/// The `http:` section: loopback without a token by default; anything else needs a token file.
@Suite struct HTTPConfigTests {
    @Test func theDefaultIsLoopbackWithoutAToken() throws {
        let http = try parse("").http
        #expect(http.enabled)
        #expect(http.bind == "127.0.0.1")
        #expect(http.port == 8112)
        #expect(http.tokenFile == nil)
        #expect(http.patientData == false)
    }

    @Test func aTokenFileIsResolvedAgainstTheConfigDirectoryAndMustHoldAToken() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "a-long-random-token\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "\n\n".write(to: dir.appendingPathComponent("empty"), atomically: true, encoding: .utf8)
        let good = try GatewayConfiguration.parse(yaml: "http: { bind: 0.0.0.0, port: 9000, token_file: token }",
                                                  sourceName: "gw.yaml", baseDirectory: dir)
        #expect(good.http.tokenFile?.path == dir.appendingPathComponent("token").standardizedFileURL.path)
        #expect(good.http.port == 9000)
        #expect(HTTPSettings.token(from: Data("  a-long-random-token  \nsecond".utf8)) == "a-long-random-token")

        do {
            _ = try GatewayConfiguration.parse(yaml: "http:\n  token_file: empty\n", sourceName: "gw.yaml", baseDirectory: dir)
            Issue.record("an empty token file was accepted")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.description.contains("gw.yaml:2:15"), "\(error)")
            #expect(error.description.contains("is empty"), "\(error)")
        }
    }

    @Test func aNetworkBindWithoutATokenIsRefusedWhereItIsWritten() {
        let d = singleDiagnostic("""
            http:
              bind: 0.0.0.0
            """)
        #expect(d?.line == 2)
        #expect(d?.description.contains("not a loopback address") == true, "\(String(describing: d))")
        #expect(singleDiagnostic("http: { token_file: /nonexistent/token }")?.description.contains("cannot read the token file") == true)
        #expect(singleDiagnostic("http: { port: 0 }")?.path == "http.port")
        #expect(singleDiagnostic("http: { tokenfile: x }")?.description.contains("did you mean 'token_file'") == true)
        // Disabled, a network address needs no token; loopback never does.
        #expect((try? parse("http: { enabled: false, bind: 0.0.0.0 }")) != nil)
        #expect((try? parse("http: { bind: \"::1\" }")) != nil)
    }
}

/// `http.tokens` (roles, token files or SHA-256 digests) and `http.tls`.
@Suite struct HTTPAccessConfigTests {
    static let digest = String(repeating: "ab", count: 32)

    @Test func tokensWithRolesAndTLSAreRead() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["ops.token", "admin.token", "api.crt", "api.key"] {
            try "content-\(name)\n".write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let http = try GatewayConfiguration.parse(yaml: """
            http:
              bind: 0.0.0.0
              token_file: admin.token
              tokens:
                - { name: ops-desk, role: operate, file: ops.token }
                - { name: wall.screen, role: READ, sha256: "\(Array(repeating: "AB", count: 32).joined(separator: ":"))" }
              tls: { certificate: api.crt, private_key: api.key }
            """, sourceName: "gw.yaml", baseDirectory: dir).http
        #expect(http.tokens.map(\.name) == ["ops-desk", "wall.screen"])
        #expect(http.tokens.map(\.role) == [.operate, .read])
        #expect(http.tokens[0].secret == .file(dir.appendingPathComponent("ops.token").standardizedFileURL))
        #expect(http.tokens[1].secret == .sha256([UInt8](repeating: 0xAB, count: 32)))
        #expect(http.allTokens.map(\.name) == ["token_file", "ops-desk", "wall.screen"])
        #expect(http.allTokens.first?.role == .admin)
        #expect(http.tls?.certificate.lastPathComponent == "api.crt" && http.tls?.privateKey.lastPathComponent == "api.key")
        #expect(APIRole.read < .operate && APIRole.operate < .admin)
        // Tokens alone (no token_file) are enough for a network address.
        #expect((try? parse("http: { bind: 0.0.0.0, tokens: [{ name: a, role: read, sha256: \"\(Self.digest)\" }] }")) != nil)
    }

    @Test func badTokensAndTLSAreReportedWhereTheyAreWritten() {
        func one(_ entry: String, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let yaml = "http:\n  tokens:\n    - \(entry)\n"
            let d = singleDiagnostic(yaml, sourceLocation: sourceLocation)
            #expect(d?.line == 3, "\(String(describing: d))", sourceLocation: sourceLocation)
            #expect(d?.message.contains(words) == true, "\(String(describing: d))", sourceLocation: sourceLocation)
        }
        one("{ name: a, role: root, sha256: \"\(Self.digest)\" }", "is not a token role")
        one("{ name: a, role: read }", "missing required key 'file' (or sha256")
        one("{ name: a, role: read, sha256: \"\(Self.digest)\", file: /etc/hostname }", "either file or sha256")
        one("{ name: a, role: read, sha256: abc123 }", "is not a SHA-256 in hex")
        one("{ name: a, role: read, file: /nonexistent/token }", "cannot read the token file")
        one("{ name: \"a b\", role: read, sha256: \"\(Self.digest)\" }", "is not a token name")
        one("{ name: token_file, role: read, sha256: \"\(Self.digest)\" }", "the name of http.token_file")
        one("{ name: a, role: read, sha256: \"\(Self.digest)\", secret: x }", "unknown key 'secret'")
        let twice = """
            http:
              tokens:
                - { name: ops, role: read, sha256: "\(Self.digest)" }
                - { name: ops, role: admin, sha256: "\(Self.digest)" }
            """
        let d = singleDiagnostic(twice)
        #expect(d?.line == 4 && d?.message.contains("already used (line 3)") == true, "\(String(describing: d))")
        let both = diagnostics("http:\n  tls: { certificate: /nonexistent/api.crt }\n")
        #expect(both.count == 2 && both.contains { $0.message.contains("cannot read /nonexistent/api.crt") }
                && both.contains { $0.message.contains("missing required key 'private_key'") }, "\(both)")
        #expect(diagnostics("http: { tls: { cert: x } }").contains { $0.message.contains("did you mean 'certificate'") })
    }

    @Test func aTokenMayNameANodeThatMustExist() throws {
        let nodes = """
            nodes:
              reporter-b: { ae_title: REPB, host: 10.0.0.2, port: 104, roles: [reporter] }
              trust-a: { ae_title: TRUSTA, roles: [source] }
            """
        let http = try parse("""
            http:
              tokens:
                - { name: reporter-b-viewer, role: read, node: reporter-b, sha256: "\(Self.digest)" }
                - { name: ops, role: admin, sha256: "\(Self.digest)" }
            \(nodes)
            """).http
        #expect(http.tokens.map(\.node) == ["reporter-b", nil])
        // An unknown node is reported at the value, with the nearest name; the token section is read before nodes.
        let typo = singleDiagnostic("""
            http:
              tokens:
                - { name: ops, role: admin, sha256: "\(Self.digest)" }
                - name: viewer
                  role: read
                  node: reporter-c
                  sha256: "\(Self.digest)"
            \(nodes)
            """)
        #expect(typo?.line == 6 && typo?.column == 13, "\(String(describing: typo))")
        #expect(typo?.path == "http.tokens[1].node", "\(String(describing: typo))")
        #expect(typo?.message.contains("unknown node 'reporter-c'; did you mean 'reporter-b'?") == true, "\(String(describing: typo))")
        let none = singleDiagnostic("http: { tokens: [{ name: v, role: read, node: HUB, sha256: \"\(Self.digest)\" }] }")
        #expect(none?.message.contains("unknown node 'HUB'; declare it under nodes") == true, "\(String(describing: none))")
        #expect(singleDiagnostic("http: { tokens: [{ name: v, role: read, node: [a], sha256: \"\(Self.digest)\" }] }")?.path
                == "http.tokens[0].node")
    }
}
