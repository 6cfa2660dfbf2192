import ArgumentParser
import Foundation
import GatewayConfig
import GatewayStore
import GatewayApp
import Logging

struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The delivery queue: depth per destination and class, dead deliveries, replay and cancel.",
        discussion: """
            Reads and changes the index directly; a running gateway picks replayed work up within a second.
            """,
        subcommands: [QueueShow.self, QueueList.self, QueueReplay.self, QueueCancel.self, QueueEscalate.self],
        defaultSubcommand: QueueShow.self)
}

/// `--config`, shared by the queue subcommands: which index to open.
struct IndexOptions: ParsableArguments {
    @Option(help: "The YAML configuration file (its storage.index is read).") var config: String?

    func openIndex() throws -> CacheIndex {
        let configuration = try Self.loadConfiguration(config)
        // PostgreSQL (index.url): the cluster's shared index; else the SQLite file, which must exist.
        if configuration.index.postgres == nil {
            let path = configuration.storage.indexPath.path
            guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("no index at \(path)") }
        }
        var logger = Logger(label: "dicom-gateway")
        logger.logLevel = .warning
        return try Gateway.openIndex(configuration, logger: logger)
    }

    /// The configuration at `path` (the embedded default without one); a broken file is printed
    /// with its file:line errors and ends the command with status 2.
    static func loadConfiguration(_ path: String?) throws -> GatewayConfiguration {
        do {
            return try path.map { try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: $0)) } ?? .embeddedDefault
        } catch {
            print("\(error)")
            throw ExitCode(2)
        }
    }
}

/// `text` padded with spaces to `width` columns (at least one space), for the queue tables.
func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }

struct QueueShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Depth and oldest age per destination, priority class and state (the default).")

    @OptionGroup var options: IndexOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        let depths = try index.queueDepths()
        let now = Date()
        if json {
            let rows = depths.map {
                ["destination": $0.destination, "class": PriorityClass.name(ofRank: $0.priorityRank), "state": $0.state,
                 "count": $0.count, "oldest_age_seconds": Int(now.timeIntervalSince($0.oldest))] as [String: Any]
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
            return
        }
        if depths.isEmpty {
            print("queue empty")
            return
        }
        print(pad("DESTINATION", 18) + pad("CLASS", 9) + pad("STATE", 10) + pad("COUNT", 7) + "OLDEST")
        for d in depths {
            let age = Int(now.timeIntervalSince(d.oldest))
            print(pad(d.destination, 18) + pad(PriorityClass.name(ofRank: d.priorityRank), 9) + pad(d.state, 10) + pad("\(d.count)", 7) + "\(age)s")
        }
    }
}
