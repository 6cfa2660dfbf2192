import Foundation

/// The one Python interpreter every Python peer of the tests runs with: the virtual environment
/// that `scripts/setup` made in `.build-python/` (from Debian's /usr/bin/python3, with pynetdicom
/// and pydicom), or `DICOM_GATEWAY_PYTHON` when set (scripts/test exports it). Never a bare
/// `python3` from PATH, which may be another interpreter without these packages.
enum PythonPeer {
    /// The repository root, from this file's place in it (Tests/GatewayIntegrationTests/Support/).
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let interpreter: String = {
        if let configured = ProcessInfo.processInfo.environment["DICOM_GATEWAY_PYTHON"], !configured.isEmpty {
            return configured
        }
        return repositoryRoot + "/.build-python/bin/python"
    }()

    /// Why the interpreter cannot run the peers, or nil when it can (it imports pynetdicom and pydicom).
    static let problem: String? = {
        guard FileManager.default.isExecutableFile(atPath: interpreter) else {
            return "no Python peer interpreter at \(interpreter): run scripts/setup"
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: interpreter)
        p.arguments = ["-c", "import pynetdicom, pydicom"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "cannot start \(interpreter)" }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? nil : "\(interpreter) cannot import pynetdicom and pydicom: run scripts/setup"
    }()

    /// A peer process running `script` with the peer interpreter. Fails the calling test (by
    /// throwing) when the interpreter is missing, instead of skipping it silently.
    static func process(_ script: String, _ arguments: [String], logDirectory: String) throws -> PeerProcess {
        if let problem { throw PythonPeerUnavailable(description: problem) }
        return PeerProcess(interpreter, [script] + arguments, logDirectory: logDirectory)
    }
}

struct PythonPeerUnavailable: Error, CustomStringConvertible {
    let description: String
}
