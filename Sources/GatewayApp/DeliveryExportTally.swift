import Foundation
import GatewayStore

/// What one delivery worker has sent on its association since the last audit entry, so that each
/// association (or each minute of a long one) gives one `delivered` entry, and with it one
/// PS3.15 DICOM Instances Transferred / Export (110106) message naming the studies and patients
/// that left for the destination, with instance counts per SOP class.
struct DeliveryExportTally {
    /// A long-lived association is audited at least this often.
    static let interval: TimeInterval = 60

    private var sent: [Int64: [String: Int]] = [:]  // series row id -> SOP Class UID -> instances
    private var count = 0
    private var since: Date?

    var isEmpty: Bool { count == 0 }

    mutating func add(_ work: DeliveryWork) {
        sent[work.seriesRef, default: [:]][work.sopClassUID, default: 0] += 1
        count += 1
        if since == nil { since = Date() }
    }

    /// Whether a flush is due although the association stays open.
    func isDue(now: Date = Date()) -> Bool {
        guard let since else { return false }
        return now.timeIntervalSince(since) >= Self.interval
    }

    /// Writes the audit entry for what was sent (nothing when nothing was), and starts again.
    mutating func flush(to index: CacheIndex, destination: String, aeTitle: String, host: String, callingAE: String) {
        guard count > 0 else { return }
        let studyOf = index.studyUIDs(seriesRefs: Array(sent.keys))
        var perStudy: [String: [String: Int]] = [:]
        for (series, classes) in sent {
            guard let study = studyOf[series] else { continue }  // retired meanwhile
            perStudy[study, default: [:]].merge(classes, uniquingKeysWith: +)
        }
        var context = index.auditContext(studyUIDs: perStudy.keys.sorted())
        for i in context.studies.indices { context.studies[i].sopClasses = perStudy[context.studies[i].uid] ?? [:] }
        context.destinationAE = aeTitle
        context.destinationHost = host
        index.audit(AuditRecord(event: "delivered", actor: callingAE, peer: host, studyUID: perStudy.count == 1 ? perStudy.keys.first : nil,
                                outcome: "sent", detail: "\(count) instance(s) of \(perStudy.count) stud(ies) to \(destination) (\(aeTitle))"),
                    context: context)
        sent = [:]
        count = 0
        since = nil
    }
}
