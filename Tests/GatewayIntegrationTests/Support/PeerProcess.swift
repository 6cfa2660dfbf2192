import Foundation

/// A real peer (storescp, dcmqrscp, Orthanc, a Python script...) run as a child process for one
/// test. Output goes to a log file; the process is killed when the object goes away.
final class PeerProcess: @unchecked Sendable {
    // Safe: `process` is configured before start and only read afterwards.
    let process = Process()
    let logPath: String
    let name: String

    /// `nagle: true` leaves TCP_NODELAY unset, as a default Debian DCMTK peer would run.
    init(_ executable: String, _ arguments: [String], nagle: Bool = false, environment: [String: String] = [:],
         workingDirectory: String? = nil, logDirectory: String) {
        name = (executable as NSString).lastPathComponent
        process.executableURL = URL(fileURLWithPath: Self.resolve(executable))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        if nagle { env.removeValue(forKey: "TCP_NODELAY") } else { env["TCP_NODELAY"] = "1" }
        env.merge(environment) { $1 }
        process.environment = env
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        logPath = logDirectory + "/\(name)-\(UUID().uuidString.prefix(8)).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
    }

    /// DCMTK's command-line tools, always run from Debian's package (/usr/bin): a Python
    /// environment's `bin/` may hold pynetdicom's apps of the same names.
    static let dcmtkTools: Set<String> = [
        "storescu", "storescp", "findscu", "movescu", "getscu", "echoscu", "dcmqrscp", "dcmsend", "dcmrecv",
        "dump2dcm", "dcmdump", "dcmodify", "dcmconv", "img2dcm", "dcmcjpeg", "dcmdjpeg",
    ]

    /// An absolute path for `executable`: DCMTK's tools from /usr/bin only, anything else from the
    /// system's own directories. PATH is never searched, so what comes first on it does not matter.
    static func resolve(_ executable: String) -> String {
        if executable.hasPrefix("/") { return executable }
        if dcmtkTools.contains(executable) { return "/usr/bin/\(executable)" }
        for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(executable)") {
            return "\(dir)/\(executable)"
        }
        return executable
    }

    @discardableResult
    func start() throws -> Self {
        try process.run()
        return self
    }

    /// Waits for exit; kills the process if it outlives `timeout` seconds. Returns the exit status.
    @discardableResult
    func wait(timeout: Double = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    /// Runs to completion and returns (status, output).
    func run(timeout: Double = 60) throws -> (status: Int32, output: String) {
        try start()
        let status = wait(timeout: timeout)
        return (status, output)
    }

    func signal(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(1)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Loopback ports and readiness.
enum Net {
    private static let handedOut = HandedOutPorts()

    /// A port that was free a moment ago (bind to 0, read it back, close), never the same one
    /// twice in a test run: two peers of one test must not be given one port.
    static func freePort() -> Int {
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
    static func waitForListener(_ port: Int, host: String = "127.0.0.1", timeout: Double = 20) -> Bool {
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

/// A scratch directory removed at the end of the test.
final class TestDirectory: @unchecked Sendable {
    // Safe: immutable after init.
    let path: String
    init(_ label: String = "t") {
        path = NSTemporaryDirectory() + "dgw-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func sub(_ name: String) -> String {
        let p = path + "/" + name
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
