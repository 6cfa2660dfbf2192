import Foundation

/// Runs a command to completion off the cooperative pool, keeping stdout and stderr apart
/// (for commands whose stdout is parsed, such as `dicom-gateway find --json`).
enum ProcessRun {
    struct Result: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
        var combined: String { stdout + stderr }
    }

    static func run(_ executable: String, _ arguments: [String], in dir: TestDirectory, timeout: Double = 60) async throws -> Result {
        let id = UUID().uuidString.prefix(8)
        let outPath = dir.path + "/run-\(id).out", errPath = dir.path + "/run-\(id).err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["TCP_NODELAY"] = "1"
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let status: Int32 = try await OffPool.run {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                return -1
            }
            return process.terminationStatus
        }
        let read = { (p: String) in (try? String(contentsOfFile: p, encoding: .utf8)) ?? "" }
        return Result(status: status, stdout: read(outPath), stderr: read(errPath))
    }
}
