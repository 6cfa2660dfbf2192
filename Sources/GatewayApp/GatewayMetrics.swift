import DicomCore
import Foundation
import GatewayConfig
import Metrics

/// The counters and histograms the gateway keeps as it works, through swift-metrics: `serve`
/// exports them at `/metrics` (swift-prometheus); a gateway booted without a metrics backend
/// (tests) records nothing. Labels are node names and classes from the configuration, never
/// values from the wire, so their number stays bounded.
enum GatewayMetrics {
    /// The histogram buckets of `dicom_gateway_delivery_delay_seconds`: from a stat study's
    /// sub-second relay to a destination that was down for hours.
    static let delayBuckets: [Duration] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14_400].map { .milliseconds(Int64($0 * 1000)) }
    static let delayLabel = "dicom_gateway_delivery_delay_seconds"

    /// `dicom_gateway_worklist_allocation_seconds`: one allocation decision and its durable write.
    static let allocationLabel = "dicom_gateway_worklist_allocation_seconds"
    static let allocationBuckets: [Duration] = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25].map { .microseconds(Int64($0 * 1e6)) }

    /// A worklist item allocated (or reallocated, claimed, reassigned): how long it took.
    static func worklistAllocation(event: String, seconds: Double) {
        Timer(label: allocationLabel, dimensions: [("event", event)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// A C-STORE received: `stored` (including identical resends) or `refused`.
    static func store(node: String?, stored: Bool) {
        Counter(label: "dicom_gateway_stores_total", dimensions: [("node", node ?? "unknown"), ("outcome", stored ? "stored" : "refused")])
            .increment()
    }

    /// A delivery sent and acknowledged, with its time in the queue.
    static func delivered(destination: String, rank: Int, queuedAt: Date) {
        let priority = PriorityClass.name(ofRank: rank)
        Counter(label: "dicom_gateway_deliveries_total", dimensions: [("destination", destination), ("class", priority), ("outcome", "sent")])
            .increment()
        Timer(label: delayLabel, dimensions: [("destination", destination), ("class", priority)], preferredDisplayUnit: .seconds)
            .recordInterval(since: queuedAt)
    }

    /// A delivery refused or failed: `retry` when it will be tried again, `dead` when not.
    static func deliveryFailed(destination: String, rank: Int, dead: Bool) {
        Counter(label: "dicom_gateway_deliveries_total",
                dimensions: [("destination", destination), ("class", PriorityClass.name(ofRank: rank)), ("outcome", dead ? "dead" : "retry")])
            .increment()
    }

    /// An inbound association: `accepted`, or rejected with the reason (`called_ae`, `calling_ae`).
    static func association(_ outcome: String) {
        Counter(label: "dicom_gateway_associations_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// An association or operation refused by the permissions (unknown-caller, host-not-allowed,
    /// permission-denied, move-destination-denied).
    static func refusal(_ reason: String) {
        Counter(label: "dicom_gateway_access_refusals_total", dimensions: [("reason", reason)]).increment()
    }

    /// A C-FIND answered, by query level.
    static func query(level: String) {
        Counter(label: "dicom_gateway_queries_total", dimensions: [("level", level)]).increment()
    }

    /// A C-MOVE or C-GET finished: `success`, `warning` (some sub-operations failed) or `failure`.
    static func retrieve(_ kind: String, status: DIMSEStatus) {
        let outcome = status.isSuccess ? "success" : status.category == .warning ? "warning" : "failure"
        Counter(label: "dicom_gateway_retrieves_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
    }

    /// A destination could not be reached (association refused or no answer).
    static func unreachable(destination: String) {
        Counter(label: "dicom_gateway_destination_unreachable_total", dimensions: [("destination", destination)]).increment()
    }
}

extension Timer {
    /// Records the time from `start` until now.
    func recordInterval(since start: Date) {
        recordNanoseconds(Int64(max(0, Date().timeIntervalSince(start)) * 1_000_000_000))
    }
}

extension Gateway {
    /// The delivery delay histogram's name and buckets, for the metrics backend `serve` sets up.
    public static var deliveryDelayMetric: String { GatewayMetrics.delayLabel }
    public static var deliveryDelayBuckets: [Duration] { GatewayMetrics.delayBuckets }
    /// The worklist allocation histogram's name and buckets.
    public static var allocationMetric: String { GatewayMetrics.allocationLabel }
    public static var allocationBuckets: [Duration] { GatewayMetrics.allocationBuckets }
}
