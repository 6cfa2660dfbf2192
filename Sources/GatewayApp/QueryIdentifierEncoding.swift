import DicomCore
import Foundation
import GatewayStore

/// A query's identifier as a data set for the audit trail's ParticipantObjectQuery (PS3.15
/// A.5.3.10): Implicit VR Little Endian (1.2.840.10008.1.2), which needs no VRs; each value
/// padded to even length (UIDs with NUL, others with a space). Sequences are not kept.
enum QueryIdentifierEncoding {
    static let uidTags: Set<DicomTag> = [.studyInstanceUID, .seriesInstanceUID, .sopInstanceUID, .sopClassUID]

    static func implicitVRLittleEndian(_ identifier: DicomAttributes) -> Data {
        var data = Data()
        for (tag, value) in identifier {
            var bytes = Array(value.utf8)
            if bytes.count % 2 == 1 { bytes.append(uidTags.contains(tag) ? 0 : 0x20) }
            for half in [tag.group, tag.element] { data.append(contentsOf: [UInt8(half & 0xFF), UInt8(half >> 8)]) }
            let length = UInt32(bytes.count)
            data.append(contentsOf: (0..<4).map { UInt8((length >> (8 * $0)) & 0xFF) })
            data.append(contentsOf: bytes)
        }
        return data
    }
}

extension CacheServiceProvider {
    /// The studies a retrieve named (Study Instance UIDs in its identifier, a list allowed), with
    /// their patients and SOP classes as cached; nil when no audit trail listens.
    func retrieveAuditContext(_ identifier: DicomAttributes) -> AuditContext? {
        guard index.hasAuditObserver else { return nil }
        let uids = (identifier.string(.studyInstanceUID) ?? "").split(separator: "\\").map { String($0).trimmingDicomPadding() }
            .filter { !$0.isEmpty && !$0.contains("*") && !$0.contains("?") }
        return index.auditContext(studyUIDs: Array(uids.prefix(100)))
    }
}
