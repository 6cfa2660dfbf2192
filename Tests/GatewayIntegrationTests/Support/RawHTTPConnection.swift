import Foundation

/// One HTTP/1.1 connection over a plain loopback socket, for requests URLSession will not send
/// as they are (oversized heads and bodies) and to see what the server does with the
/// connection afterwards: its status line, and whether it closed.
final class RawHTTPConnection {
    /// What came back: the status, the headers (names in lower case) and body, and whether the
    /// server ended the connection (end of stream or reset) within the wait.
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
        var closedByServer: Bool
        var raw: String
    }

    private(set) var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw TestFailure("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        // A blocked send gives up after 10 s instead of hanging the test.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends everything, or as much as the server takes before it stops reading or closes;
    /// false when it did not take it all (expected of a server that refuses early).
    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    func send(_ text: String) { send(Data(text.utf8)) }

    /// Reads until the server ends the connection or `timeout` seconds pass, and parses the
    /// first answer in what came.
    func readAnswer(timeout: Double = 10) throws -> Answer {
        var received = Data()
        var closed = false
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready == 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                received.append(contentsOf: buffer[0..<n])
            } else {
                closed = n == 0 || errno == ECONNRESET
                if closed || (errno != EINTR && errno != EAGAIN) { break }
            }
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else {
            throw TestFailure("no HTTP answer (server closed: \(closed)): \(text.prefix(300))")
        }
        var lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, headers: headers, body: String(text[headEnd.upperBound...]), closedByServer: closed, raw: text)
    }

    /// Closes this end; idempotent.
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// What the kernel says about a running process: open descriptors and resident memory.
enum ProcessFootprint {
    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Resident set size in kB (`VmRSS`), -1 when unknown.
    static func residentKilobytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
}
