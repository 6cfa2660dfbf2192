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
