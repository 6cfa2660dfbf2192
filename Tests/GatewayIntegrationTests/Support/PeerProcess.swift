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

    /// Everything the process printed; bytes that are not UTF-8 (a fuzzer's inputs) become U+FFFD
    /// rather than losing the whole text.
    var output: String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

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

