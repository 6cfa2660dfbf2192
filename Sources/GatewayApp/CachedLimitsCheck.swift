import DicomNetwork
import Foundation
import GatewayStore
import Logging
import ServiceLifecycle

/// Files cached by a version without input limits are checked against them (by the scanner, not
/// DCMTK's parser) before they are parsed: those over the limits are quarantined. Instances with
/// deliveries still to send are checked at start, before any worker runs; the rest in the
/// background by this service, once.
struct CachedLimitsCheck: Service {
    let index: CacheIndex
    let paths: InstancePath
    let limits: InputLimits
    let logger: Logger

    /// Checks one batch at a time; returns how many files were checked and quarantined.
    @discardableResult
    func pass(outstandingOnly: Bool, shouldStop: () -> Bool = { false }) -> (checked: Int, quarantined: Int) {
        var checked = 0, quarantined = 0, last: Int64 = 0
        while !shouldStop() {
            guard let batch = try? index.instancesAwaitingLimitsCheck(after: last, limit: 500, outstandingOnly: outstandingOnly),
                  !batch.isEmpty else { break }
            var within: [Int64] = []
            for (id, path) in batch {
                last = id
                let verdict = CrashJournal.during(.limitsCheck(instanceID: id)) {
                    DicomFile.checkLimits(paths.absolutePath(relative: path), limits)
                }
                checked += 1
                if verdict.isOK || (verdict.kind == .io && !FileManager.default.fileExists(atPath: paths.absolutePath(relative: path))) {
                    // A missing file is recovery's business, not a quarantine.
                    within.append(id)
                    continue
                }
                if verdict.kind == .io { continue }  // unreadable now (out of memory, I/O error): checked again next start
                let reason = "cached before the input limits existed and breaks them: \(verdict.text)"
                do {
                    let deliveries = try index.quarantineInstance(id: id, reason: reason)
                    quarantined += 1
                    logger.error("instance \(id) quarantined: its cached file breaks the input limits", metadata: [
                        "reason": "\(verdict.text)", "deliveries": "\(deliveries)"])
                    index.audit(AuditRecord(event: "quarantine", actor: "gateway", outcome: "instance \(id)", detail: reason))
                } catch {
                    logger.error("could not quarantine instance \(id)", metadata: ["error": "\(error)"])
                }
            }
            try? index.markLimitsChecked(ids: within)
        }
        if checked > 0 {
            logger.notice("checked \(checked) cached file(s) from an earlier version against the input limits; \(quarantined) quarantined",
                          metadata: ["outstanding_only": "\(outstandingOnly)"])
        }
        return (checked, quarantined)
    }

    func run() async throws {
        let stop = StopFlag()
        try await withGracefulShutdownHandler {
            try await BlockingThread.run(name: "limits-check") { [self] in
                pass(outstandingOnly: false, shouldStop: { stop.isSet })
            }
        } onGracefulShutdown: {
            stop.set()
        }
        // Done before the gateway stops: stay until it does. A service that ends by itself while
        // the group shuts down another is taken for a failure ("finished unexpectedly"), and the
        // gateway would exit 1 after a clean stop.
        try? await gracefulShutdown()
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: @unchecked Sendable {
    // Safe: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
