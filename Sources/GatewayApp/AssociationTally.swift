import DicomCore
import Foundation
import GatewayStore

/// Per-association counts for the log line and audit entry written when it ends, and the
/// studies and patients it stored, with instances per SOP class: the audit trail's one DICOM
/// Instances Transferred message per association.
final class AssociationTally: @unchecked Sendable {
    // Safe: `counts` is only touched under `lock`.
    struct Counts {
        var stored = 0, refused = 0
        /// Rejected by the gateway's own decision (caller, certificate, called AE title), which
        /// wrote its audit entry (and Security Alert) already.
        var rejected = false
        var studies: [String: AuditContext.Study] = [:]
        var studyOrder: [String] = []
        var patients: [AuditContext.Patient] = []

        /// The stored studies and patients, for the audit entry; nil when nothing was stored.
        var auditContext: AuditContext? {
            studyOrder.isEmpty ? nil : AuditContext(studies: studyOrder.compactMap { studies[$0] }, patients: patients)
        }
    }

    private let lock = NSLock()
    private var counts: [UInt64: Counts] = [:]

    func add(_ id: UInt64, stored: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stored { counts[id, default: Counts()].stored += 1 } else { counts[id, default: Counts()].refused += 1 }
    }

    /// Notes a stored instance's study, patient and SOP class (attributes as indexed).
    func note(_ id: UInt64, _ attributes: DicomAttributes, sopClassUID: String) {
        guard let studyUID = attributes.string(.studyInstanceUID) else { return }
        let patient = AuditContext.Patient(id: attributes.string(.patientID) ?? "", issuer: attributes.string(.issuerOfPatientID) ?? "",
                                           name: attributes.string(.patientName) ?? "")
        let accession = attributes.string(.accessionNumber)
        lock.lock()
        defer { lock.unlock() }
        var c = counts[id, default: Counts()]
        if c.studies[studyUID] == nil {
            c.studyOrder.append(studyUID)
            c.studies[studyUID] = AuditContext.Study(uid: studyUID)
        }
        c.studies[studyUID]!.sopClasses[sopClassUID, default: 0] += 1
        if let accession, !c.studies[studyUID]!.accessionNumbers.contains(accession) {
            c.studies[studyUID]!.accessionNumbers.append(accession)
        }
        if !c.patients.contains(patient) { c.patients.append(patient) }
        counts[id] = c
    }

    func markRejected(_ id: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        counts[id, default: Counts()].rejected = true
    }

    func finish(_ id: UInt64) -> Counts {
        lock.lock()
        defer { lock.unlock() }
        return counts.removeValue(forKey: id) ?? Counts()
    }
}
