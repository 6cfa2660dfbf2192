import Foundation
import GatewayStore

/// A worklist item as a UPS workitem (PS3.4 Annex CC, PS3.18 §11) in the DICOM JSON model.
///
/// - SOP Instance UID: `2.25.<n>`, n a 128-bit number whose high 64 bits come from the
///   gateway's AE title and low 64 bits are the item's id, so the UID names the item again.
/// - Procedure Step State (0074,1000): scheduled and allocated are SCHEDULED, in_progress is
///   IN PROGRESS, reported and returned are COMPLETED, cancelled is CANCELED.
/// - Scheduled Station Name Code Sequence (0040,4025): the reporter site it is allocated to.
/// - Scheduled Workitem Code Sequence (0040,4018): the skill it needs.
/// - Referenced Request Sequence (0040,A370): its study (Study Instance UID, Accession Number).
/// - Scheduled Procedure Step Priority (0074,1200): stat STAT, urgent HIGH, routine MEDIUM, bulk LOW.
/// - Start (0040,4005): the study's arrival; Expected Completion (0040,4011): the deadline.
/// The Transaction UID is never shown (PS3.4 CC.2.5.1.3).
public enum UPSWorkitem {
    public static let sopClassUID = "1.2.840.10008.5.1.4.34.6.1"  // UPS Push SOP Class
    static let codingScheme = "99DCMGW"

    public enum State: String, Sendable, CaseIterable {
        case scheduled = "SCHEDULED", inProgress = "IN PROGRESS", completed = "COMPLETED", canceled = "CANCELED"

        public init(_ state: WorklistState) {
            switch state {
            case .scheduled, .allocated: self = .scheduled
            case .inProgress: self = .inProgress
            case .reported, .returned: self = .completed
            case .cancelled: self = .canceled
            }
        }

        /// The worklist states a UPS state stands for.
        public var worklistStates: [WorklistState] {
            switch self {
            case .scheduled: [.scheduled, .allocated]
            case .inProgress: [.inProgress]
            case .completed: [.reported, .returned]
            case .canceled: [.cancelled]
            }
        }
    }

    /// The UID of item `id` on the gateway `aeTitle`.
    public static func uid(itemID id: Int64, aeTitle: String) -> String {
        let value = (UInt128(prefix(aeTitle)) << 64) | UInt128(UInt64(bitPattern: id))
        return "2.25.\(value)"
    }

    /// The item id a workitem UID of this gateway names, or nil.
    public static func itemID(uid: String, aeTitle: String) -> Int64? {
        guard uid.hasPrefix("2.25."), let value = UInt128(uid.dropFirst(5)), String(value) == String(uid.dropFirst(5)),
              UInt64(truncatingIfNeeded: value >> 64) == prefix(aeTitle) else { return nil }
        let id = Int64(bitPattern: UInt64(truncatingIfNeeded: value))
        return id > 0 ? id : nil
    }

    /// FNV-1a of the AE title, top bit clear.
    static func prefix(_ aeTitle: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "dicom-gateway UPS \(aeTitle)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash & 0x7FFF_FFFF_FFFF_FFFF
    }

    static let priorities = [3: "STAT", 2: "HIGH", 1: "MEDIUM", 0: "LOW"]

    /// The workitem's attributes; the patient's only when `patientData` (`http.patient_data`).
    public static func json(_ listing: WorklistListing, aeTitle: String, patientData: Bool) -> [String: Any] {
        let item = listing.item
        var o: [String: Any] = [
            "00080016": element("UI", [sopClassUID]),
            "00080018": element("UI", [uid(itemID: item.id, aeTitle: aeTitle)]),
            "00741000": element("CS", [State(item.state).rawValue]),
            "00741200": element("CS", [priorities[item.priority] ?? "MEDIUM"]),
            "00741204": element("LO", ["Report \(item.skill)"]),
            "00404005": element("DT", [dateTime(item.arrivedAt)]),
            "00404011": element("DT", [dateTime(item.deadline)]),
            "00404010": element("DT", [dateTime(item.updatedAt)]),
            "00404018": sequence([code(item.skill)]),
        ]
        if let site = item.site { o["00404025"] = sequence([code(site)]) }
        var request: [String: Any] = ["0020000D": element("UI", [item.studyUID])]
        if let study = listing.study {
            if !study.accessionNumber.isEmpty { request["00080050"] = element("SH", [study.accessionNumber]) }
            if !study.studyDescription.isEmpty { request["00321060"] = element("LO", [study.studyDescription]) }
        }
        o["0040A370"] = sequence([request])
        if patientData {
            o["00100020"] = element("LO", [item.patientID])
            if !item.issuer.isEmpty { o["00100021"] = element("LO", [item.issuer]) }
        }
        return o
    }

    static func element(_ vr: String, _ values: [Any]) -> [String: Any] { ["vr": vr, "Value": values] }
    static func sequence(_ items: [[String: Any]]) -> [String: Any] { ["vr": "SQ", "Value": items] }
    static func code(_ value: String) -> [String: Any] {
        ["00080100": element("SH", [String(value.prefix(16))]), "00080102": element("SH", [codingScheme]),
         "00080104": element("LO", [value])]
    }

    /// DT in UTC, `YYYYMMDDHHMMSS+0000`.
    static func dateTime(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d%02d%02d%02d%02d%02d+0000", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
                      c.second ?? 0)
    }
}
