import CDcmtk
import Foundation

/// The crash journal: risky work (sending, retrieving or checking one instance) announces itself
/// in a small file mapped into memory, so that the start after a crash knows what the process was
/// doing and which operation's thread died of a fatal signal. See `CDcmtk_journal.h`.
///
/// ```swift
/// let previous = try CrashJournal.open(at: root + "/.crash-journal")
/// try CrashJournal.during(.delivery(id: 42, instanceID: 7, destination: "HUB")) { try link.store(...) }
/// ```
public enum CrashJournal {
    /// One announced activity. Its text carries ids and node names only, never patient data.
    public enum Activity: Sendable, Equatable, CustomStringConvertible {
        case delivery(id: Int64, instanceID: Int64, destination: String)
        case retrieve(instanceID: Int64, caller: String)
        case limitsCheck(instanceID: Int64)
        case recovery(path: String)
        /// Receiving and filing one instance on an association (`caller` is "AE@host").
        case ingest(association: UInt64, caller: String)
        case other(String)

        var encoded: String {
            switch self {
            case let .delivery(id, instanceID, destination): return "delivery\t\(id)\t\(instanceID)\t\(destination)"
            case let .retrieve(instanceID, caller): return "retrieve\t\(instanceID)\t\(caller)"
            case let .limitsCheck(instanceID): return "limits-check\t\(instanceID)"
            case let .recovery(path): return "recovery\t\(path)"
            case let .ingest(association, caller): return "ingest\t\(association)\t\(caller)"
            case let .other(text): return text.replacingOccurrences(of: "\t", with: " ")
            }
        }

        init(encoded: String) {
            let f = encoded.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch f.first {
            case "delivery" where f.count == 4:
                if let id = Int64(f[1]), let instance = Int64(f[2]) { self = .delivery(id: id, instanceID: instance, destination: f[3]); return }
            case "retrieve" where f.count == 3:
                if let instance = Int64(f[1]) { self = .retrieve(instanceID: instance, caller: f[2]); return }
            case "limits-check" where f.count == 2:
                if let instance = Int64(f[1]) { self = .limitsCheck(instanceID: instance); return }
            case "recovery" where f.count == 2:
                self = .recovery(path: f[1]); return
            case "ingest" where f.count == 3:
                if let association = UInt64(f[1]) { self = .ingest(association: association, caller: f[2]); return }
            default: break
            }
            self = .other(encoded)
        }

        public var description: String {
            switch self {
            case let .delivery(id, instanceID, destination): return "sending instance \(instanceID) to \(destination) (delivery \(id))"
            case let .retrieve(instanceID, caller): return "sending instance \(instanceID) to \(caller) for a retrieve"
            case let .limitsCheck(instanceID): return "checking the file of instance \(instanceID) against the input limits"
            case let .recovery(path): return "reading \(path) during recovery"
            case let .ingest(association, caller): return "ingest from \(caller) (association \(association))"
            case let .other(text): return text
            }
        }
    }

    /// What the run before this one left behind.
    public struct PreviousRun: Sendable {
        /// The earlier run did not close the journal: it crashed, was killed, or lost power.
        public var endedAbnormally: Bool
        /// The fatal signal caught (SIGSEGV = 11...), nil when none was (kill -9, OOM killer, power cut).
        public var signal: Int32?
        public var crashedAt: Date?
        /// The activity of the thread that crashed, when it had announced one.
        public var crashed: Activity?
        /// Every activity announced when the run ended (the crashed one included).
        public var inFlight: [Activity]

        /// E.g. "SIGSEGV": the signal's name.
        public var signalName: String {
            guard let signal else { return "none" }
            switch signal {
            case SIGSEGV: return "SIGSEGV"
            case SIGBUS: return "SIGBUS"
            case SIGILL: return "SIGILL"
            case SIGFPE: return "SIGFPE"
            case SIGABRT: return "SIGABRT"
            default: return "signal \(signal)"
            }
        }
    }

    /// Opens the journal (once per process), returning what the earlier run left. Installs the
    /// fatal-signal handlers that record which thread crashed.
    public static func open(at path: String) throws(DicomNetworkError) -> PreviousRun {
        var report = cdcm_journal_report()
        var error = [CChar](repeating: 0, count: 512)
        guard cdcm_journal_open(path, &report, &error, error.count) == 0 else {
            throw DicomNetworkError(code: .file, message: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        var inFlight: [Activity] = []
        var crashed: Activity?
        for slot in 0..<cdcm_journal_slot_count() {
            let text = String(cString: cdcm_journal_previous(slot))
            guard !text.isEmpty else { continue }
            let activity = Activity(encoded: text)
            inFlight.append(activity)
            if slot == report.crash_slot { crashed = activity }
        }
        return PreviousRun(
            endedAbnormally: report.had_journal != 0 && report.ended_abnormally != 0,
            signal: report.crash_signal != 0 ? report.crash_signal : nil,
            crashedAt: report.crash_time != 0 ? Date(timeIntervalSince1970: TimeInterval(report.crash_time)) : nil,
            crashed: report.crash_signal != 0 ? crashed : nil,
            inFlight: report.ended_abnormally != 0 ? inFlight : [])
    }

    /// Runs `body` with `activity` announced on this thread (a blocking thread of our own).
    public static func during<T, E: Error>(_ activity: Activity, _ body: () throws(E) -> T) throws(E) -> T {
        cdcm_journal_begin(activity.encoded)
        defer { cdcm_journal_end() }
        if let fault = Failpoint.crash, activity.encoded.hasPrefix(fault) { cdcm_journal_test_crash() }
        return try body()
    }

    /// A clean end: the next start reports no abnormal end.
    public static func close() { cdcm_journal_close() }

    /// Test-only: `DICOM_GATEWAY_FAILPOINT=crash:<activity prefix>` crashes the thread (SIGSEGV)
    /// that announces an activity starting with the prefix, e.g. `crash:delivery\t` + delivery id.
    enum Failpoint {
        static let crash: String? = {
            guard let value = ProcessInfo.processInfo.environment["DICOM_GATEWAY_FAILPOINT"], value.hasPrefix("crash:") else { return nil }
            return String(value.dropFirst("crash:".count)).replacingOccurrences(of: "\\t", with: "\t")
        }()
    }
}
