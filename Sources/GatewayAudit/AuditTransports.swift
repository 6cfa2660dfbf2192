import CAuditTLS
import Foundation
import GatewayConfig

/// Where spooled syslog messages go: one collector, over UDP or TLS.
protocol SyslogTransportChannel: AnyObject {
    /// `udp` or `tls`, for metrics and logs.
    var name: String { get }
    /// Sends one RFC 5424 message (framing added here); throws when it could not be written.
    func send(_ message: Data) throws
    func close()
}

/// RFC 5426: one datagram per message. A collector that is down is noticed only when the kernel
/// has heard so (ICMP port unreachable, reported on the next send), so UDP can lose messages.
final class UDPSyslogChannel: SyslogTransportChannel {
    let name = "udp"
    let host: String
    let port: Int
    private var fd: Int32 = -1

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    func send(_ message: Data) throws {
        var error = [CChar](repeating: 0, count: 256)
        if fd < 0 {
            fd = cat_udp_connect(host, Int32(port), &error, error.count)
            guard fd >= 0 else { throw AuditTransportError("syslog \(host):\(port) (udp): " + String(cString: error)) }
        }
        let result = message.withUnsafeBytes { cat_udp_send(fd, $0.baseAddress, $0.count, &error, error.count) }
        guard result == 0 else {
            close()
            throw AuditTransportError("syslog \(host):\(port) (udp): " + String(cString: error))
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// RFC 5425: TLS with the collector's certificate verified against `trusted`, octet-counted
/// frames. Before each write the connection is checked; one the collector closed is reopened
/// first, so a collector that was restarted gets the message rather than a dead socket.
final class TLSSyslogChannel: SyslogTransportChannel {
    let name = "tls"
    let target: SyslogTarget
    let timeoutMilliseconds: Int32
    private var connection: OpaquePointer?

    init(target: SyslogTarget, timeoutMilliseconds: Int32 = 5000) {
        self.target = target
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    func send(_ message: Data) throws {
        var error = [CChar](repeating: 0, count: 512)
        if let open = connection, cat_alive(open) == 0 { close() }
        if connection == nil {
            connection = cat_connect(target.host, Int32(target.port), target.trusted?.path ?? "", target.certificate?.path,
                                     target.privateKey?.path, timeoutMilliseconds, &error, error.count)
            guard connection != nil else { throw AuditTransportError("syslog \(target.host):\(target.port) (tls): " + String(cString: error)) }
        }
        let framed = SyslogFormat.octetCounted(message)
        let result = framed.withUnsafeBytes { cat_write(connection, $0.baseAddress, $0.count, timeoutMilliseconds, &error, error.count) }
        guard result == 0 else {
            close()
            throw AuditTransportError("syslog \(target.host):\(target.port) (tls): " + String(cString: error))
        }
    }

    func close() {
        cat_close(connection)
        connection = nil
    }

    deinit { close() }
}

/// `audit.file`: one message per line, the XML alone (no syslog header), appended.
final class AuditFileSink {
    let url: URL
    private var fd: Int32 = -1

    init(url: URL) { self.url = url }

    func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        if fd < 0 {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw AuditTransportError("cannot open audit file \(url.path): \(errnoText())") }
        }
        var data = Data()
        for line in lines {
            data.append(contentsOf: Array(line.utf8))
            data.append(0x0A)
        }
        do {
            try AuditSpool.writeAll(fd, data, path: url.path)
            fsync(fd)
        } catch {
            close()
            throw error
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
