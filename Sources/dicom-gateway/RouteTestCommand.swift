import ArgumentParser
import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayReporting
import GatewayRouting
import GatewayStore
import GatewayApp
import Logging

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
            let reporting = ReportingPlan(configuration: configuration)
            let loads = reporting.isEnabled ? siteLoads(configuration) : nil
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
                let decision = router.route(instance)
                print(report(file, instance: instance, decision: decision))
                if reporting.isEnabled {
                    print(worklistReport(instance, priority: decision.priority, plan: reporting, loads: loads, time: time))
                }
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

        /// The open effort of each site from the gateway's index, when there is one (nil: none, all sites idle).
        private func siteLoads(_ configuration: GatewayConfiguration) -> (loads: [String: Double], failing: Set<String>)? {
            let path = configuration.storage.indexPath.path
            guard configuration.index.postgres != nil || FileManager.default.fileExists(atPath: path) else { return nil }
            var logger = Logger(label: "dicom-gateway")
            logger.logLevel = .critical
            guard let index = try? Gateway.openIndex(configuration, logger: logger),
                  let rows = try? index.worklistSiteLoads() else { return nil }
            defer { index.close() }
            return (Dictionary(uniqueKeysWithValues: rows.map { ($0.site, $0.openEffort) }),
                    Set(rows.filter { $0.failingItems > 0 }.map(\.site)))
        }

        /// The worklist item the file's study would get, and where it would go now.
        private func worklistReport(_ instance: RoutedInstance, priority: PriorityClass, plan: ReportingPlan,
                                    loads: (loads: [String: Double], failing: Set<String>)?, time: TimeOfDay) -> String {
            if ReportObject.closesItem(sopClassUID: instance.sopClassUID) {
                return "  worklist:  a report: closes its study's item (or records an addendum)"
            }
            guard let placement = plan.placement(for: instance, priority: priority) else {
                return "  worklist:  no reporting rule matches: no item (an orphan if nothing reports the study within "
                    + "\(Self.duration(plan.settings.orphanAfter.seconds)))"
            }
            var lines = ["  worklist:  rule \(placement.rule): skill \(placement.skill), effort \(placement.effort), "
                + "class \(placement.priorityClass.rawValue), deadline \(Self.duration(placement.deadlineAfter)) after arrival"]
            let decision = Allocator(plan: plan).decide(.init(skill: placement.skill, effort: placement.effort, origin: instance.sendingNode),
                                                        loads: loads?.loads ?? [:], failing: loads?.failing ?? [], at: time)
            lines.append("  site now:  " + (decision.chosen ?? "none") + " (\(decision.reason))"
                + (loads == nil ? "; loads: no index found, every site taken as idle" : ""))
            for c in decision.candidates {
                lines.append("    \(c.site): " + (c.eligible ? String(format: "load %.2f after, ", c.loadAfter) : "") + c.note)
            }
            return lines.joined(separator: "\n")
        }

        static func duration(_ seconds: Double) -> String {
            let s = Int(seconds)
            if s % 86_400 == 0 { return "\(s / 86_400)d" }
            if s % 3600 == 0 { return "\(s / 3600)h" }
            if s % 60 == 0 { return "\(s / 60)m" }
            return "\(s)s"
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
