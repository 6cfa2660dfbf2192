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
        let (depths, totals, free) = try await blocking { [index] in
            (try index.queueDepths(), try index.cacheTotals(), DurableFile.availableBytes(at: storage))
        }
        var text = MetricsText()
        let now = Date()
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
        text.body += metrics.emitToString()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text.body)))
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
        let number = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        body += "\(name)\(rendered) \(number)\n"
    }

    /// Label values escape backslash, double quote and line feed.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
