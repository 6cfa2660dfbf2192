import Foundation
import Testing

/// The HTTP API over HTTPS (a certificate made by openssl for the test) with tokens of each role,
/// driven by curl: read cannot POST, operate can but cannot reload, admin (sha256) and the old
/// token_file (admin) reload; failures are 401/403, audited with the address and path, and no
/// token appears in the audit trail or the log.
@Suite(.serialized) struct AdminHTTPSecurityTests {
    static let tokens = ["read": "read-token-0123456789abcdef", "operate": "operate-token-0123456789abcdef",
                         "admin": "admin-token-0123456789abcdef", "file": "legacy-token-file-0123456789"]

    /// A self-signed certificate for 127.0.0.1 (also the CA curl trusts).
    static func certificate(in dir: TestDirectory) async throws -> (cert: String, key: String) {
        let (cert, key) = (dir.path + "/api.crt", dir.path + "/api.key")
        let made = try await ProcessRun.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], in: dir)
        guard made.status == 0 else { throw TestFailure("openssl req failed: \(made.combined)") }
        return (cert, key)
    }

    struct Answer {
        let status: Int
        let body: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    }

    /// curl against the gateway; `token` goes in the Authorization header; `body` makes it a POST.
    static func curl(_ url: String, ca: String?, token: String? = nil, body: String? = nil, in dir: TestDirectory,
                     extra: [String] = []) async throws -> Answer {
        let out = dir.path + "/curl-\(UUID().uuidString.prefix(8)).body"
        var args = ["-s", "-o", out, "-w", "%{http_code}", "--max-time", "20"] + extra
        if let ca { args += ["--cacert", ca] }
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if let body { args += ["-X", "POST", "-H", "Content-Type: application/json", "-d", body] }
        let run = try await ProcessRun.run("/usr/bin/curl", args + [url], in: dir)
        return Answer(status: Int(run.stdout) ?? 0, body: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    @Test func httpsWithRolesRefusesAndAuditsWhatATokenMayNotDo() async throws {
        let dir = TestDirectory("admin-https")
        let (cert, key) = try await Self.certificate(in: dir)
        for (name, token) in Self.tokens where name != "admin" {
            try "\(token)\n".write(toFile: dir.path + "/\(name).token", atomically: true, encoding: .utf8)
        }
        let adminDigest = Self.sha256Hex(Self.tokens["admin"]!)
        let port = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            http:
              port: \(port)
              bind: 0.0.0.0
              token_file: file.token
              tls: { certificate: \(cert), private_key: \(key) }
              tokens:
                - { name: wall-screen, role: read, file: read.token }
                - { name: ops-desk, role: operate, file: operate.token }
                - { name: network-admin, role: admin, sha256: "\(adminDigest.uppercased())" }
            nodes:
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination] }
            """)
        let process = try gateway.start()
        #expect(Net.waitForListener(port))
        let base = "https://127.0.0.1:\(port)"
        func call(_ path: String, _ token: String?, body: String? = nil) async throws -> Answer {
            try await Self.curl(base + path, ca: cert, token: token, body: body, in: dir)
        }

        // HTTPS with the configured certificate; plain HTTP on the port gets no answer.
        #expect(try await call("/health", nil).status == 200)
        let plain = try await Self.curl("http://127.0.0.1:\(port)/health", ca: nil, in: dir)
        #expect(plain.status != 200, "plain HTTP must not be served: \(plain)")
        let untrusted = try await Self.curl(base + "/health", ca: nil, in: dir)
        #expect(untrusted.status == 0, "curl must refuse a certificate it does not trust: \(untrusted)")
        let tls11 = try await ProcessRun.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_1",
                                                                  "-cipher", "DEFAULT@SECLEVEL=0"], in: dir, timeout: 20)
        #expect(tls11.status != 0, "TLS 1.1 must be refused by the server:\n\(tls11.combined.suffix(800))")
        #expect(try await call("/", nil).status == 200, "the dashboard page loads without a token")

        // The roles matrix.
        let (read, operate, admin, legacy) = (Self.tokens["read"]!, Self.tokens["operate"]!, Self.tokens["admin"]!, Self.tokens["file"]!)
        #expect(try await call("/api/v1/queues", nil).status == 401)
        #expect(try await call("/api/v1/queues", "not-a-token").status == 401)
        for token in [read, operate, admin, legacy] {
            #expect(try await call("/api/v1/queues", token).status == 200)
            #expect(try await call("/metrics", token).status == 200)
        }
        let replay = #"{"destination": "HUB"}"#
        let readPost = try await call("/api/v1/deliveries/replay", read, body: replay)
        #expect(readPost.status == 403 && readPost.body.contains("wall-screen") && readPost.body.contains("operate"), "\(readPost)")
        #expect(try await call("/api/v1/studies/1.2.3/escalate", read, body: #"{"class": "stat"}"#).status == 403)
        #expect(try await call("/api/v1/deliveries/replay", operate, body: replay).status == 200)
        #expect(try await call("/api/v1/config/reload", operate, body: "").status == 403)
        #expect(try await call("/api/v1/config/reload", read, body: "").status == 403)
        let reloaded = try await call("/api/v1/config/reload", admin, body: "")
        #expect(reloaded.status == 200, "\(reloaded)")
        #expect(try await call("/api/v1/config/reload", legacy, body: "").status == 200, "token_file keeps working, as admin")

        // Every failure is audited: 2 x 401 above, 4 x 403; the address and the path, never a token.
        // (Audit rows are committed with the index's next group transaction: wait for them.)
        var audit = Answer(status: 0, body: "")
        var entries: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(15)
        repeat {
            audit = try await call("/api/v1/audit?event=authentication&limit=50", read)
            entries = audit.json as? [[String: Any]] ?? []
            if entries.count >= 6 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        #expect(entries.count == 6, "\(audit.body)")
        #expect(entries.allSatisfy { $0["outcome"] as? String == "failure" && $0["peer"] as? String == "127.0.0.1" }, "\(audit.body)")
        #expect(entries.contains { ($0["detail"] as? String ?? "").contains("no token: GET /api/v1/queues from 127.0.0.1") }, "\(audit.body)")
        #expect(entries.contains { ($0["detail"] as? String ?? "").contains("token ops-desk has role operate, admin needed: POST /api/v1/config/reload") },
                "\(audit.body)")
        #expect(entries.contains { $0["actor"] as? String == "wall-screen" }, "\(audit.body)")
        let config = try await call("/api/v1/config", read)
        #expect(config.body.contains("network-admin: admin") && config.body.contains("token_file: admin"), "\(config.body)")
        #expect(gateway.terminate() == 0)
        for token in Self.tokens.values {
            #expect(!audit.body.contains(token) && !config.body.contains(token))
            #expect(!process.output.contains(token), "a token appeared in the gateway's log")
        }
        #expect(process.output.contains("HTTP authentication failed"), "\(process.output.suffix(2000))")
    }

    static func sha256Hex(_ text: String) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try? p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        p.waitUntilExit()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return String(out.prefix(64))
    }
}
