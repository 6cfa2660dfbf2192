import Foundation

/// Debian's rsyslogd as a real audit collector for one test: its own config, work directory and
/// pid file, listening on 127.0.0.1 for RFC 5426 (imudp) and RFC 5425 (imtcp with the gtls
/// driver, a server certificate from a CA made here with openssl), writing every message it
/// receives to a file the test reads. Never the system daemon.
final class RsyslogCollector: @unchecked Sendable {
    // Safe: configured in init; `process` is replaced only by the test's own thread.
    let directory: TestDirectory
    let udpPort = Net.freePort()
    let tlsPort = Net.freePort()
    let outputPath: String
    let caPath: String
    private var process: PeerProcess?

    /// One received message: PRI, APP-NAME, MSGID, the input (imudp or imtcp) and MSG (the XML).
    struct Received {
        var pri: Int
        var appName: String
        var messageID: String
        var procID: String
        var input: String
        var message: String
    }

    init() throws {
        directory = TestDirectory("rsyslog")
        let d = directory.path
        outputPath = d + "/received.log"
        caPath = d + "/ca.pem"
        try Self.makePKI(in: d)
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: d + "/ext.cnf", atomically: true, encoding: .utf8)
        let config = """
            global(workDirectory="\(directory.sub("work"))" maxMessageSize="64k"
                   defaultNetstreamDriverCAFile="\(d)/ca.pem" defaultNetstreamDriverCertFile="\(d)/server.pem"
                   defaultNetstreamDriverKeyFile="\(d)/server.key")
            module(load="imudp")
            module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
            input(type="imudp" address="127.0.0.1" port="\(udpPort)")
            input(type="imtcp" address="127.0.0.1" port="\(tlsPort)")
            template(name="audit" type="string" string="%pri%|%app-name%|%msgid%|%procid%|%inputname%|%msg%\\n")
            action(type="omfile" file="\(outputPath)" template="audit")

            """
        try config.write(toFile: d + "/rsyslog.conf", atomically: true, encoding: .utf8)
    }

    /// A CA and a server certificate for 127.0.0.1 (ECDSA P-256: quick to make).
    private static func makePKI(in d: String) throws {
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: d + "/ext.cnf", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/ca.key",
             "-out", d + "/ca.pem", "-days", "2", "-subj", "/CN=audit test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/server.key",
             "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial",
             "-out", d + "/server.pem", "-days", "2", "-extfile", d + "/ext.cnf"],
            // A CA the collector's certificate does not chain to, for the refusal test.
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/other.key",
             "-out", d + "/other-ca.pem", "-days", "2", "-subj", "/CN=another CA"],
        ]
        for step in steps {
            let (status, output) = try PeerProcess("/usr/bin/openssl", step, logDirectory: d).run(timeout: 30)
            guard status == 0 else { throw CollectorError("openssl \(step[0]) failed: \(output)") }
        }
    }

    /// Starts rsyslogd in the foreground and waits for its TLS listener.
    func start() throws {
        let peer = PeerProcess("/usr/sbin/rsyslogd", ["-n", "-f", directory.path + "/rsyslog.conf", "-i", directory.path + "/rsyslogd.pid"],
                               logDirectory: directory.path)
        try peer.start()
        process = peer
        guard Net.waitForListener(tlsPort, timeout: 20) else {
            throw CollectorError("rsyslogd did not listen on \(tlsPort): \(peer.output)")
        }
    }

    /// Stops rsyslogd (SIGTERM: it closes its connections) and waits for it to exit.
    func stop() {
        process?.stop()
        process = nil
    }

    /// Every message received so far, in arrival order.
    func received() -> [Received] {
        guard let text = try? String(contentsOfFile: outputPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "|", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, let pri = Int(parts[0]) else { return nil }
            var message = String(parts[5])
            while message.hasPrefix("\u{FEFF}") || message.hasPrefix(" ") { message.removeFirst() }
            return Received(pri: pri, appName: String(parts[1]), messageID: String(parts[2]), procID: String(parts[3]),
                            input: String(parts[4]), message: message)
        }
    }

    /// Waits until `predicate` holds for what was received (or `timeout` passes); returns it.
    @discardableResult
    func wait(timeout: Double = 20, until predicate: ([Received]) -> Bool) -> [Received] {
        let deadline = Date().addingTimeInterval(timeout)
        var all = received()
        while !predicate(all) && Date() < deadline {
            usleep(100_000)
            all = received()
        }
        return all
    }

    var log: String { process?.output ?? "" }

    deinit { stop() }
}

struct CollectorError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
