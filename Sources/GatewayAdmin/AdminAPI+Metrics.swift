import Foundation
import GatewayConfig
import GatewayStore
import Hummingbird
import NIOCore

/// `/metrics` in Prometheus' text format: the queue and cache as the index has them now, then
/// the counters and histograms the gateway keeps as it works (swift-metrics, exported by
/// swift-prometheus).
extension AdminAPI {
    func metricsPage() async throws -> Response {
        let storage = control.configuration.storage.path.path
        let now = Date()
        let (depths, totals, free) = try await blocking { [index] in
            (try index.queueDepths(), try index.cacheTotals(), DurableFile.availableBytes(at: storage))
        }
        let worklist = try await blocking { [index] in
            (counts: try index.worklistCounts(now: now), pending: try index.pendingWorklistNotifications(),
             turnaround: try index.worklistTurnaroundHistogram(bounds: Self.turnaroundBuckets))
        }
        var text = MetricsText()
        text.family("dicom_gateway_queue_deliveries", "gauge", "Deliveries not yet done, per destination, priority class and state.")
        for d in depths {
            text.sample("dicom_gateway_queue_deliveries", d.labels, Double(d.count))
        }
        text.family("dicom_gateway_queue_oldest_age_seconds", "gauge",
                    "Age of the oldest delivery not yet done, per destination, priority class and state.")
        for d in depths {
            text.sample("dicom_gateway_queue_oldest_age_seconds", d.labels, max(0, now.timeIntervalSince(d.oldest)))
        }
        text.family("dicom_gateway_cache_studies", "gauge", "Studies in the cache.")
        text.sample("dicom_gateway_cache_studies", [], Double(totals.studies))
        text.family("dicom_gateway_cache_instances", "gauge", "Instances in the cache.")
        text.sample("dicom_gateway_cache_instances", [], Double(totals.instances))
        text.family("dicom_gateway_cache_bytes", "gauge", "Bytes of instance files in the cache.")
        text.sample("dicom_gateway_cache_bytes", [], Double(totals.bytes))
        if let free {
            text.family("dicom_gateway_storage_free_bytes", "gauge", "Free bytes on the file system of the cache.")
            text.sample("dicom_gateway_storage_free_bytes", [], Double(free))
        }
        text.family("dicom_gateway_uptime_seconds", "gauge", "Seconds since the gateway started.")
        text.sample("dicom_gateway_uptime_seconds", [], now.timeIntervalSince(control.startedAt))
        if let reload = control.lastReload {
            text.family("dicom_gateway_config_last_reload_successful", "gauge", "1 when the last configuration reload was taken, 0 when refused.")
            text.sample("dicom_gateway_config_last_reload_successful", [], reload.succeeded ? 1 : 0)
        }
        text.worklist(worklist.counts, pending: worklist.pending, turnaround: worklist.turnaround)
        text.body += metrics.emitToString()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text.body)))
    }
}

extension AdminAPI {
    /// Upper bounds of `dicom_gateway_worklist_turnaround_seconds`: 5 min to 7 days.
    static let turnaroundBuckets: [Double] = [300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200, 604_800]
}

extension MetricsText {
    /// The reporting worklist as the index has it now: items per state, class and site, overdue
    /// and orphaned items, webhook notifications not yet accepted, and the turnaround (arrival to
    /// report) of every reported item as a histogram per class.
    mutating func worklist(_ counts: WorklistCounts, pending: Int, turnaround: [WorklistTurnaroundHistogram]) {
        family("dicom_gateway_worklist_items", "gauge", "Worklist items per state, priority class and site (empty: none).")
        for (key, n) in counts.items.sorted(by: { ($0.key.state, -$0.key.priority, $0.key.site) < ($1.key.state, -$1.key.priority, $1.key.site) }) {
            sample("dicom_gateway_worklist_items", [("state", key.state), ("class", CacheIndex.className(ofRank: key.priority)),
                                                    ("site", key.site)], Double(n))
        }
        family("dicom_gateway_worklist_overdue", "gauge", "Open worklist items past their deadline, per origin, site and priority class.")
        for (key, n) in counts.overdue.sorted(by: { ($0.key.origin, $0.key.site, -$0.key.priority) < ($1.key.origin, $1.key.site, -$1.key.priority) }) {
            sample("dicom_gateway_worklist_overdue", [("origin", key.origin), ("site", key.site),
                                                      ("class", CacheIndex.className(ofRank: key.priority))], Double(n))
        }
        family("dicom_gateway_worklist_orphans", "gauge", "Orphaned worklist items (no rule, or report not returned), per origin.")
        for (origin, n) in counts.orphans.sorted(by: { $0.key < $1.key }) {
            sample("dicom_gateway_worklist_orphans", [("origin", origin)], Double(n))
        }
        family("dicom_gateway_worklist_notifications_pending", "gauge", "Worklist webhook notifications not yet accepted.")
        sample("dicom_gateway_worklist_notifications_pending", [], Double(pending))
        family("dicom_gateway_worklist_turnaround_seconds", "histogram",
               "Seconds from a study's arrival to its report, per priority class, over every reported worklist item.")
        for h in turnaround {
            let name = CacheIndex.className(ofRank: h.priority)
            for (bound, n) in zip(h.bounds, h.counts) {
                sample("dicom_gateway_worklist_turnaround_seconds_bucket", [("class", name), ("le", Self.number(bound))], Double(n))
            }
            sample("dicom_gateway_worklist_turnaround_seconds_bucket", [("class", name), ("le", "+Inf")], Double(h.count))
            sample("dicom_gateway_worklist_turnaround_seconds_sum", [("class", name)], h.sum)
            sample("dicom_gateway_worklist_turnaround_seconds_count", [("class", name)], Double(h.count))
        }
    }
}

extension QueueDepth {
    fileprivate var labels: [(String, String)] {
        [("destination", destination), ("class", PriorityClass.name(ofRank: priorityRank)), ("state", state)]
    }
}

/// Prometheus text exposition format 0.0.4.
struct MetricsText {
    var body = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        body += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        let rendered = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        body += "\(name)\(rendered) \(Self.number(value))\n"
    }

    /// A whole number without a decimal point, anything else as Swift prints it.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Label values escape backslash, double quote and line feed.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
