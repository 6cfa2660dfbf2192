import ArgumentParser
import Foundation
import GatewayConfig
import GatewayStore

/// Which deliveries `queue list|replay|cancel` act on.
struct DeliveryFilter: ParsableArguments {
    @Option(name: .customLong("id"), help: "A delivery id (repeatable); overrides --state.") var ids: [Int64] = []
    @Option(help: "State: queued, failed, dead, quarantined, inflight, done or cancelled (repeatable; default dead).") var state: [String] = []
    @Option(help: "Only deliveries to this destination node.") var destination: String?
    @Option(help: "Only deliveries of this study (Study Instance UID).") var study: String?

    var selection: DeliverySelection {
        DeliverySelection(ids: ids, states: ids.isEmpty ? (state.isEmpty ? ["dead"] : state) : state,
                          destination: destination, studyUID: study)
    }

    func validate() throws {
        let known: Set = ["queued", "failed", "dead", "quarantined", "inflight", "done", "cancelled"]
        for s in state where !known.contains(s) {
            throw ValidationError("unknown state '\(s)'; use one of \(known.sorted().joined(separator: ", "))")
        }
    }
}

struct QueueList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List deliveries (dead ones unless --state or --id says otherwise), oldest first.")

    @OptionGroup var options: IndexOptions
    @OptionGroup var filter: DeliveryFilter
    @Option(help: "At most this many.") var limit = 200
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        let rows = try index.deliveries(filter.selection, limit: limit)
        let now = Date()
        if json {
            let objects = rows.map {
                ["id": $0.id, "destination": $0.destination, "route": $0.route, "class": PriorityClass.name(ofRank: $0.priorityRank),
                 "state": $0.state, "attempts": $0.attempts, "last_error": $0.lastError,
                 "age_seconds": Int(now.timeIntervalSince($0.createdAt)), "study_instance_uid": $0.studyUID,
                 "series_instance_uid": $0.seriesUID, "sop_instance_uid": $0.sopUID] as [String: Any]
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
            return
        }
        if rows.isEmpty {
            print("no matching deliveries")
            return
        }
        print(pad("ID", 8) + pad("DESTINATION", 16) + pad("CLASS", 9) + pad("STATE", 10) + pad("TRIES", 6) + pad("AGE", 8) + "SOP INSTANCE UID / LAST ERROR")
        for r in rows {
            print(pad("\(r.id)", 8) + pad(r.destination, 16) + pad(PriorityClass.name(ofRank: r.priorityRank), 9) + pad(r.state, 10)
                + pad("\(r.attempts)", 6) + pad("\(Int(now.timeIntervalSince(r.createdAt)))s", 8) + r.sopUID)
            if !r.lastError.isEmpty { print(String(repeating: " ", count: 57) + r.lastError) }
        }
    }
}

struct QueueReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Queue deliveries again with a fresh retry budget (dead ones unless --state or --id says otherwise).")

    @OptionGroup var options: IndexOptions
    @OptionGroup var filter: DeliveryFilter

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        let count = try index.replayDeliveries(filter.selection, actor: "cli:\(NSUserName())")
        print("replayed \(count) deliveries")
    }
}

struct QueueCancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel deliveries so they are never sent (dead ones unless --state or --id says otherwise).")

    @OptionGroup var options: IndexOptions
    @OptionGroup var filter: DeliveryFilter

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        let count = try index.cancelDeliveries(filter.selection, actor: "cli:\(NSUserName())")
        print("cancelled \(count) deliveries")
    }
}

struct QueueEscalate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "escalate",
        abstract: "Raise a study's waiting deliveries (queued, failed, dead) to a priority class; a running gateway sends them next.")

    @OptionGroup var options: IndexOptions
    @Option(help: "The Study Instance UID.") var study: String
    @Option(name: .customLong("class"), help: "stat, urgent, routine or bulk.") var priorityClass: PriorityClass = .stat

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        let count = try index.escalateStudy(study, to: priorityClass.rank, actor: "cli:\(NSUserName())")
        print("raised \(count) deliveries to \(priorityClass.rawValue)")
    }
}

extension PriorityClass: ExpressibleByArgument {}
