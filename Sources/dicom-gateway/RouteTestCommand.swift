import ArgumentParser
import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayRouting

/// `route test`: shows what the routing rules would do with some files, sending nothing.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "Work with routing rules.", subcommands: [Test.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the matched rules, priority, destinations and coerced tags for DICOM files, sending nothing.")

        @Option(help: "The YAML configuration file.") var config: String
        @Option(help: "The sending node (a name under nodes:); default: the node of --calling-ae.") var from: String?
        @Option(name: .customLong("calling-ae"), help: "The calling AE title; default: the AE title of --from.")
        var callingAE: String?
        @Option(help: "DIMSE priority of the incoming C-STORE: high, medium or low.") var priority: DIMSEPriority = .medium
        @Option(help: "Arrival time of day, HH:MM (default: now).") var at: String?
        @Argument(help: "DICOM files.") var files: [String]

        func run() throws {
            let configuration: GatewayConfiguration
            do {
                configuration = try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: config))
            } catch {
                print(error.description)
                throw ExitCode(1)
            }
            let (node, ae) = try sender(in: configuration)
            let time = try timeOfDay()
            let router = Router(plan: RoutingPlan(configuration: configuration))
            print("sender: \(node ?? "(unknown node)"), calling AE \(ae ?? "-"), DIMSE priority \(priority.rawValue), at \(time)")
            var failed = false
            for file in files {
                let attributes: DicomAttributes
                do {
                    attributes = try DicomFile.readAttributes(file)
                } catch {
                    print("\(file): cannot read: \(error)")
                    failed = true
                    continue
                }
                let instance = RoutedInstance(attributes: attributes, sendingNode: node, callingAE: ae,
                                              dimsePriority: priority, timeOfDay: time)
                print(report(file, instance: instance, decision: router.route(instance)))
            }
            if failed { throw ExitCode(1) }
        }

        private func sender(in configuration: GatewayConfiguration) throws -> (node: String?, ae: String?) {
            if let from {
                guard let node = configuration.node(named: from) else {
                    let names = configuration.nodes.map(\.name).joined(separator: ", ")
                    throw ValidationError("--from \(from): no such node in \(config) (nodes: \(names))")
                }
                return (from, callingAE ?? node.aeTitle.value)
            }
            guard let callingAE else { return (nil, nil) }
            return (configuration.node(forCallingAE: callingAE)?.name, callingAE)
        }

        private func timeOfDay() throws -> TimeOfDay {
            guard let at else {
                let parts = Calendar.current.dateComponents([.hour, .minute], from: Date())
                return TimeOfDay(hour: parts.hour ?? 0, minute: parts.minute ?? 0)
            }
            guard let time = TimeOfDay(parsing: at) else { throw ValidationError("--at \(at): expected HH:MM, e.g. 14:30") }
            return time
        }

        private func report(_ file: String, instance: RoutedInstance, decision: RoutingDecision) -> String {
            var lines = ["\(file):"]
            lines.append("  category:  \(instance.category.rawValue) (SOP class \(instance.sopClassUID.isEmpty ? "unknown" : instance.sopClassUID))")
            lines.append("  priority:  \(decision.priority.rawValue)" + (decision.priorityRule.map { " (rule \($0))" } ?? " (no rule matched)"))
            lines.append("  routes:    " + (decision.matchedRoutes.isEmpty ? "none matched" : decision.matchedRoutes.joined(separator: ", ")))
            switch decision.disposition {
            case let .drop(reason, route): lines.append("  DROP:      \(reason) (route \(route))")
            case let .quarantine(reason, route): lines.append("  QUARANTINE: \(reason) (route \(route))")
            case .forward:
                if decision.deliveries.isEmpty { lines.append("  destinations: none") }
                for delivery in decision.deliveries {
                    lines.append("  -> \(delivery.destination) [\(delivery.priority.rawValue)] by route \(delivery.route)")
                    let coerced = instance.attributes.applying(delivery.edits)
                    for tag in delivery.edits.keys.sorted() {
                        let name = tag.keyword.map { "\($0) \(tag)" } ?? tag.description
                        let before = instance.attributes.string(tag).map { "\"\($0)\"" } ?? "(absent)"
                        let after = coerced[tag].map { "\"\($0)\"" } ?? "(removed)"
                        lines.append("       \(name): \(before) -> \(after)")
                    }
                }
            }
            lines += decision.notes.map { "  note: \($0)" }
            return lines.joined(separator: "\n")
        }
    }
}
