import DicomNetwork
import Foundation
import GatewayStore
import Logging

/// At start: what the crash journal says about how the previous run ended. An abnormal end is
/// logged and audited with what the process was doing; the one operation whose thread died of a
/// fatal signal is quarantined, so a poison instance crashes the gateway once, not at every start.
enum AbnormalEnd {
    static func review(_ previous: CrashJournal.PreviousRun, index: CacheIndex, paths: InstancePath, logger: Logger) {
        guard previous.endedAbnormally else { return }
        let doing = previous.inFlight.map(\.description).joined(separator: "; ")
        let summary: String
        if previous.signal != nil {
            let at = previous.crashedAt.map { " at \(ISO8601DateFormatter().string(from: $0))" } ?? ""
            summary = "the previous run died of \(previous.signalName)\(at) while "
                + (previous.crashed.map(\.description) ?? "in a thread that had announced no activity")
        } else {
            summary = "the previous run ended without shutting down (killed, out of memory, or a power cut)"
        }
        logger.error("\(summary)", metadata: ["in_flight": "\(doing.isEmpty ? "nothing announced" : doing)"])
        index.audit(AuditRecord(event: "abnormal-end", actor: "gateway", outcome: previous.signalName,
                                detail: summary + (doing.isEmpty ? "" : "; in flight: " + doing)))
        guard let crashed = previous.crashed else { return }
        let reason = "the gateway died of \(previous.signalName) while \(crashed.description); quarantined, not retried automatically"
        do {
            switch crashed {
            case let .delivery(_, instanceID, _), let .retrieve(instanceID, _), let .limitsCheck(instanceID):
                let deliveries = try index.quarantineInstance(id: instanceID, reason: reason)
                logger.error("instance \(instanceID) quarantined with \(deliveries) deliver(ies): it crashed the gateway; see 'dicom-gateway queue list --state quarantined'")
                index.audit(AuditRecord(event: "quarantine", actor: "gateway", outcome: "instance \(instanceID)", detail: reason))
            case let .recovery(path):
                let moved = try quarantineFile(path.hasPrefix("/") ? path : paths.absolutePath(relative: path), paths: paths)
                logger.error("file \(path) moved to \(moved): reading it crashed the gateway during recovery")
                index.audit(AuditRecord(event: "quarantine", actor: "gateway", outcome: "file", detail: reason + " (moved to \(moved))"))
            case .ingest, .other:
                break
            }
        } catch {
            logger.error("could not quarantine what crashed the previous run", metadata: ["error": "\(error)"])
        }
    }

    /// Moves a cache file out of the way, into `quarantine/` under the storage root.
    static func quarantineFile(_ path: String, paths: InstancePath) throws -> String {
        let directory = paths.root + "/quarantine"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let target = directory + "/" + (path as NSString).lastPathComponent + "-" + String(UUID().uuidString.prefix(8))
        try FileManager.default.moveItem(atPath: path, toPath: target)
        return target
    }
}
