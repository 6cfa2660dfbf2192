import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import Logging

/// The one way in for an instance that arrives as a whole file rather than by a C-STORE the
/// DICOM server received (a C-GET sub-operation from a source, a STOW-RS part): the input limits
/// are checked by the scanner before anything parses it (as the DICOM server does while a
/// C-STORE arrives), then admission, then `store(_:association:)`, the C-STORE's own durable
/// ingest (identity, classification, routes and deliveries, worklist, duplicates, audit).
extension CacheServiceProvider {
    /// What became of a file handed to ``storeArrivedFile(_:from:priority:checkPermission:accept:)``.
    struct ArrivedFileOutcome {
        var result: DIMSEResult
        /// Its classes and UIDs, when the file could be read that far.
        var info: DicomFileInfo?
    }

    /// Files the Part 10 file at `path` as a C-STORE from `association` would be; the file is
    /// moved into the cache or removed. Blocks until the instance is durable or refused.
    /// - Parameters:
    ///   - checkPermission: the caller's `store` permission as a DICOM node (false when it was
    ///     checked otherwise, e.g. an HTTP token's role).
    ///   - accept: a last check of the file's UIDs before it is filed (nil to go on).
    func storeArrivedFile(_ path: String, from association: AssociationInfo, priority: DIMSEPriority = .medium,
                          checkPermission: Bool = true, accept: (DicomFileInfo) -> DIMSEResult? = { _ in nil }) -> ArrivedFileOutcome {
        defer { if FileManager.default.fileExists(atPath: path) { try? FileManager.default.removeItem(atPath: path) } }
        let verdict = DicomFile.checkLimits(path, Gateway.inputLimits(configuration.limits))
        guard verdict.isOK else {
            storeRefused(StoreRequest(sopClassUID: "", sopInstanceUID: "", transferSyntaxUID: "", filePath: path),
                         association: association, status: .cannotUnderstand, reason: verdict.text)
            return ArrivedFileOutcome(result: DIMSEResult(status: .cannotUnderstand, errorComment: "breaks the input limits: \(verdict.text)"))
        }
        guard let info = try? DicomFile.probe(path), !info.sopInstanceUID.isEmpty, !info.sopClassUID.isEmpty else {
            tally.add(association.id, stored: false)
            return ArrivedFileOutcome(result: DIMSEResult(status: .cannotUnderstand,
                                                          errorComment: "not a DICOM Part 10 file with SOP Class and Instance UIDs"))
        }
        if let refusal = accept(info) {
            tally.add(association.id, stored: false)
            return ArrivedFileOutcome(result: refusal, info: info)
        }
        let request = StoreRequest(sopClassUID: info.sopClassUID, sopInstanceUID: info.sopInstanceUID,
                                   transferSyntaxUID: info.transferSyntaxUID, priority: priority, filePath: path)
        let admitted = checkPermission ? admitStore(request, association: association) : admitSpace(association)
        guard admitted.isSuccess else { return ArrivedFileOutcome(result: DIMSEResult(status: admitted), info: info) }
        return ArrivedFileOutcome(result: store(request, association: association), info: info)
    }

    /// The audit entry and log line of instances stored off any association (one STOW-RS
    /// request): one DICOM Instances Transferred for what was stored, as a storing association's.
    func arrivedFilesEnded(_ association: AssociationInfo, how: String) {
        let counts = tally.finish(association.id)
        logger.info("\(how) ended", metadata: meta(association, ["stored": "\(counts.stored)", "refused": "\(counts.refused)"]))
        guard counts.stored + counts.refused > 0 else { return }
        index.audit(AuditRecord(event: "association", actor: association.callingAE, peer: association.peerHost,
                                outcome: "released", detail: "\(how): stored \(counts.stored), refused \(counts.refused)"),
                    context: counts.auditContext)
    }
}
