import DicomCore
import DicomNetwork
import Foundation

/// Checks shared by the robustness tests: is the gateway still answering, and did anything land
/// outside the places it may write to.
extension GatewayUnderTest {
    /// True when a C-ECHO from our own client succeeds within `timeout` seconds (retried, so a
    /// just-released association slot has time to free up).
    func answersEcho(callingAE: AETitle = "ECHOCHECK", timeout: Double = 5) async -> Bool {
        let client = DicomClient(callingAE: callingAE, timeouts: DicomTimeouts(connect: 2, acse: 5, dimse: 5))
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if (try? await client.echo(node)) != nil { return true }
            try? await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        return false
    }

    /// `.part` files left in the incoming directory.
    func partialFiles() -> [String] {
        Storage.partialFiles(in: storageRoot)
    }
}

enum Storage {
    /// Every regular file under `root`, as paths with symlinks resolved.
    static func regularFiles(under root: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
        var result: [String] = []
        while let name = e.nextObject() as? String {
            let path = root + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result.append(URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path)
            }
        }
        return result.sorted()
    }

    /// Every instance file in the cache: those renamed into `instances/`, and the prepared files
    /// of `files/` that hold an instance (the empty ones are still waiting for one).
    static func instanceFiles(in storageRoot: String) -> [String] {
        var result: [String] = []
        for directory in ["instances", "files"] {
            let root = storageRoot + "/" + directory
            guard let e = FileManager.default.enumerator(atPath: root) else { continue }
            while let name = e.nextObject() as? String {
                guard name.hasSuffix(".dcm") else { continue }
                let path = root + "/" + name
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
                if size > 0 { result.append(path) }
            }
        }
        return result.sorted()
    }

    static func partialFiles(in storageRoot: String) -> [String] {
        let incoming = storageRoot + "/incoming"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: incoming)) ?? []
        return names.filter { $0.hasSuffix(".part") }.map { incoming + "/" + $0 }
    }

    /// `path` with symlinks resolved, for prefix comparisons.
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }
}
