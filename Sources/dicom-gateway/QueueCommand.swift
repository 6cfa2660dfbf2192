import ArgumentParser
import Foundation
import GatewayConfig
import GatewayStore

struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the delivery queue: depth and oldest age per destination, priority class and state.")

    @Option(help: "The YAML configuration file (its storage.index is read).") var config: String?
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try config.map { try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: $0)) } ?? .embeddedDefault
        } catch {
            print("\(error)")
            throw ExitCode(2)
        }
        let path = configuration.storage.indexPath.path
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("no index at \(path)") }
        let index = try CacheIndex(path: path)
        defer { index.close() }
        let depths = try index.queueDepths()
        let classes = [3: "stat", 2: "urgent", 1: "routine", 0: "bulk"]
        let now = Date()
        if json {
            let rows = depths.map {
                ["destination": $0.destination, "class": classes[$0.priorityRank] ?? "\($0.priorityRank)", "state": $0.state,
                 "count": $0.count, "oldest_age_seconds": Int(now.timeIntervalSince($0.oldest))] as [String: Any]
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
            return
        }
        if depths.isEmpty {
            print("queue empty")
            return
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        print(pad("DESTINATION", 18) + pad("CLASS", 9) + pad("STATE", 10) + pad("COUNT", 7) + "OLDEST")
        for d in depths {
            let age = Int(now.timeIntervalSince(d.oldest))
            print(pad(d.destination, 18) + pad(classes[d.priorityRank] ?? "?", 9) + pad(d.state, 10) + pad("\(d.count)", 7) + "\(age)s")
        }
    }
}
