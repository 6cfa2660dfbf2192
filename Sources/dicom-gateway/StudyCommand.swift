import ArgumentParser
import Foundation
import GatewayStore

/// `dicom-gateway study UID`: one study's patient, origin, deliveries and timeline, from the index.
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "A cached study: patient, origin, deliveries per destination and state, timeline and turnaround.",
        discussion: """
            Reads the index directly (a running gateway may keep writing). The timeline has one \
            'received' (first instance cached), one 'delivered' per destination (all its instances \
            from the origin sent), 'reported' (first report from another node) and \
            'report_returned' (a report delivered to the origin).
            """)

    @Argument(help: "The Study Instance UID.") var studyUID: String
    @OptionGroup var options: IndexOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        let index = try options.openIndex()
        defer { index.close() }
        guard let summary = try index.studySummary(studyUID: studyUID) else {
            throw CommandFailure("study \(studyUID) is not in the cache")
        }
        let turnaround = Turnaround(summary.events)
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: Self.object(summary, turnaround),
                                                              options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
            return
        }
        let s = summary.study
        print("study      \(s.studyUID)")
        print("patient    \(summary.patient.patientID) (issuer \(summary.patient.issuer.isEmpty ? "none" : summary.patient.issuer)) \(summary.patient.patientName)")
        print("origin     \(summary.originNode ?? "unknown node") (AE \(s.originAE), \(s.originHost))")
        print("instances  \(s.instanceCount) in \(s.seriesCount) series, \(s.sizeBytes) bytes; \(s.studyDate) \(s.modalities) \(s.studyDescription)")
        if summary.deliveries.isEmpty {
            print("deliveries none")
        } else {
            print("deliveries")
            var byDestination: [(String, [String])] = []
            for d in summary.deliveries {
                if byDestination.last?.0 != d.destination { byDestination.append((d.destination, [])) }
                byDestination[byDestination.count - 1].1.append("\(d.state) \(d.count)")
            }
            for (destination, states) in byDestination { print("  \(destination): \(states.joined(separator: ", "))") }
        }
        print("timeline")
        for e in summary.events {
            let detail = e.detail.isEmpty ? "" : " (\(e.detail))"
            print("  \(Self.timestamp(e.time))  \(e.event.padding(toLength: 16, withPad: " ", startingAt: 0))\(e.node)\(detail)")
        }
        print("turnaround")
        for (destination, seconds) in turnaround.receivedToDelivered { print("  received -> delivered \(destination): \(Self.duration(seconds))") }
        if let t = turnaround.receivedToReported { print("  received -> reported: \(Self.duration(t))") }
        if let t = turnaround.reportedToReturned { print("  reported -> report returned: \(Self.duration(t))") }
    }

    /// Seconds between the steps of the timeline (first occurrence of each).
    struct Turnaround {
        var receivedToDelivered: [(String, Double)] = []
        var receivedToReported: Double?
        var reportedToReturned: Double?

        init(_ events: [StudyEvent]) {
            let received = events.first { $0.event == StudyEvent.received }?.time
            let reported = events.first { $0.event == StudyEvent.reported }?.time
            let returned = events.first { $0.event == StudyEvent.reportReturned }?.time
            if let received {
                receivedToDelivered = events.filter { $0.event == StudyEvent.delivered }.map { ($0.node, $0.time.timeIntervalSince(received)) }
                receivedToReported = reported.map { $0.timeIntervalSince(received) }
            }
            if let reported, let returned { reportedToReturned = returned.timeIntervalSince(reported) }
        }
    }

    static func object(_ summary: StudySummary, _ turnaround: Turnaround) -> [String: Any] {
        let s = summary.study
        var deliveries: [String: [String: Int]] = [:]
        for d in summary.deliveries { deliveries[d.destination, default: [:]][d.state] = d.count }
        var turn: [String: Any] = [
            "received_to_delivered_seconds": Dictionary(turnaround.receivedToDelivered, uniquingKeysWith: { a, _ in a }),
        ]
        if let t = turnaround.receivedToReported { turn["received_to_reported_seconds"] = t }
        if let t = turnaround.reportedToReturned { turn["reported_to_report_returned_seconds"] = t }
        return [
            "study_uid": s.studyUID,
            "patient": ["patient_id": summary.patient.patientID, "issuer": summary.patient.issuer, "name": summary.patient.patientName],
            "origin": ["node": summary.originNode.map { $0 as Any } ?? NSNull(), "ae_title": s.originAE, "host": s.originHost,
                       "patient_id": s.originPatientID, "issuer": s.originIssuer] as [String: Any],
            "instances": s.instanceCount,
            "series": s.seriesCount,
            "size_bytes": s.sizeBytes,
            "study_date": s.studyDate,
            "modalities": s.modalities,
            "description": s.studyDescription,
            "deliveries": deliveries,
            "timeline": summary.events.map {
                ["event": $0.event, "node": $0.node, "time": timestamp($0.time), "unix_time": $0.time.timeIntervalSince1970,
                 "detail": $0.detail] as [String: Any]
            },
            "turnaround": turn,
        ]
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }
}
