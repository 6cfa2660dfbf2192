import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports and readiness.
public enum Net {
    private static let handedOut = HandedOutPorts()

    /// A port that was free a moment ago (bind to 0, read it back, close), never the same one
    /// twice in a test run: two peers of one test must not be given one port.
    public static func freePort() -> Int {
        while true {
            let port = unusedPort()
            if handedOut.insert(port) { return port }
        }
    }

    /// Ports handed out so far in this test process.
    private final class HandedOutPorts: @unchecked Sendable {
        // Safe: `ports` is only touched under `lock`.
        private let lock = NSLock()
        private var ports = Set<Int>()
        func insert(_ port: Int) -> Bool { lock.withLock { ports.insert(port).inserted } }
    }

    private static func unusedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Waits until something accepts TCP connections on host:port (an IPv4 address, 127.0.0.1 by default).
    public static func waitForListener(_ port: Int, host: String = "127.0.0.1", timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr(host)
            addr.sin_port = UInt16(port).bigEndian
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if rc == 0 { return true }
            usleep(50_000)
        }
        return false
    }
}
