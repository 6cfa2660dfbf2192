import ArgumentParser
import DicomCore
import DicomNetwork
import Foundation

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send DICOM files or directories with C-STORE over one association.")

    @Argument(help: "The peer, AE@HOST:PORT.") var peer: String
    @Argument(help: "Files or directories (searched recursively).") var paths: [String]
    @Option(help: "DIMSE priority: high, medium or low.") var priority: DIMSEPriority = .medium
    @OptionGroup var scu: SCUOptions

    func run() async throws {
        let node = try scu.node(peer)
        let files = try collectFiles(paths)
        guard !files.isEmpty else { throw CommandFailure("no files found in \(paths.joined(separator: ", "))") }
        let client = try scu.client()
        let start = ContinuousClock.now
        let outcomes: [DicomClient.StoreOutcome]
        do {
            outcomes = try await client.store(files: files, to: node, priority: priority) { outcome in
                switch outcome.result {
                case .success(let r) where !(r.status.isSuccess):
                    print("\(outcome.path): \(r.status)\(r.errorComment.isEmpty ? "" : " - \(r.errorComment)")")
                case .failure(let e):
                    print("\(outcome.path): not sent: \(e)")
                default:
                    break
                }
            }
        } catch let error as DicomNetworkError {
            throw CommandFailure("sending to \(node) failed: \(error)")
        }
        let ok = outcomes.filter(\.succeeded).count
        let elapsed = ContinuousClock.now - start
        print("sent \(ok) of \(files.count) instance(s) to \(node) in \(elapsed)")
        if ok != files.count { throw ExitCode(1) }
    }
}

/// Expands directories recursively into regular files, sorted for a stable order.
func collectFiles(_ paths: [String]) throws -> [String] {
    var result: [String] = []
    for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandFailure("\(path): no such file or directory")
        }
        if isDirectory.boolValue {
            let base = URL(fileURLWithPath: path)
            let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey])
            var found: [String] = []
            while let url = enumerator?.nextObject() as? URL {
                if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { found.append(url.path) }
            }
            result.append(contentsOf: found.sorted())
        } else {
            result.append(path)
        }
    }
    return result
}
