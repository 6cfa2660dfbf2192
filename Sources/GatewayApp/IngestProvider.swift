import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging

/// The gateway's DICOM services: decides on associations, files incoming instances durably
/// under the storage root, answers C-ECHO (in CDcmtk). Q/R services come with the index.
public final class IngestProvider: DicomServiceProvider {
    let configuration: GatewayConfiguration
    let paths: InstancePath
    let logger: Logger

    public init(configuration: GatewayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.paths = InstancePath(root: configuration.storage.path.path)
        self.logger = logger
    }

    public func associationRequested(_ association: AssociationInfo) -> AssociationDecision {
        if association.calledAE.trimmingDicomPadding() != configuration.gateway.aeTitle.value {
            logger.warning("association rejected: called AE title is not ours", metadata: meta(association, ["expected": "\(configuration.gateway.aeTitle)"]))
            return .rejectCalledAETitle
        }
        if !configuration.acceptsCaller(association.callingAE) {
            logger.warning("association rejected: calling AE title is not a configured node", metadata: meta(association))
            return .rejectCallingAETitle
        }
        logger.info("association accepted", metadata: meta(association))
        return .accept
    }

    public func associationEnded(_ association: AssociationInfo, how: AssociationEnd, detail: String) {
        let level: Logger.Level = how == .released ? .info : .warning
        logger.log(level: level, "association ended: \(how)", metadata: meta(association, detail.isEmpty ? [:] : ["detail": "\(detail)"]))
    }

    public func admitStore(_ request: StoreRequest, association: AssociationInfo) -> DIMSEStatus {
        let minimum = configuration.storage.minFreeSpace.bytes
        if let free = DurableFile.availableBytes(at: paths.root), free < minimum {
            logger.error("C-STORE refused: out of disk space", metadata: meta(association, ["free_bytes": "\(free)", "min_free_space": "\(minimum)"]))
            return .outOfResources
        }
        return .success
    }

    public func store(_ request: StoreRequest, association: AssociationInfo) -> DIMSEResult {
        let temp = request.filePath
        let outcome = file(request, temp: temp, association: association)
        if !outcome.status.isSuccess { try? FileManager.default.removeItem(atPath: temp) }
        return outcome
    }

    private func file(_ request: StoreRequest, temp: String, association: AssociationInfo) -> DIMSEResult {
        let attributes: DicomAttributes
        do {
            attributes = try DicomFile.readAttributes(temp)
        } catch {
            logger.warning("C-STORE refused: data set cannot be parsed", metadata: meta(association, ["error": "\(error)"]))
            return DIMSEResult(status: .cannotUnderstand, errorComment: "data set cannot be parsed")
        }
        guard let sop = attributes.string(.sopInstanceUID), sop == request.sopInstanceUID.trimmingDicomPadding() else {
            return DIMSEResult(status: .dataSetDoesNotMatchSOPClass, errorComment: "SOP Instance UID differs from the request")
        }
        guard let study = attributes.string(.studyInstanceUID), let series = attributes.string(.seriesInstanceUID) else {
            return DIMSEResult(status: .dataSetDoesNotMatchSOPClass, errorComment: "Study or Series Instance UID missing")
        }
        let relative = paths.relativePath(study: study, series: series, sopInstance: sop)
        let destination = paths.absolutePath(relative: relative)
        if FileManager.default.fileExists(atPath: destination) {
            if FileManager.default.contentsEqual(atPath: destination, andPath: temp) {
                try? FileManager.default.removeItem(atPath: temp)
                return DIMSEResult(status: .success)
            }
            logger.warning("duplicate SOP instance with different bytes: kept the cached copy", metadata: meta(association, ["sop_instance_uid": "\(sop)"]))
            try? FileManager.default.removeItem(atPath: temp)
            return DIMSEResult(status: .success)
        }
        do {
            try DurableFile.install(temp, at: destination)
        } catch {
            logger.error("C-STORE failed: cannot file the instance", metadata: meta(association, ["error": "\(error)"]))
            return DIMSEResult(status: .outOfResources, errorComment: "cannot write to the cache")
        }
        logger.debug("stored", metadata: meta(association, ["study_uid": "\(study)", "sop_instance_uid": "\(sop)"]))
        return DIMSEResult(status: .success)
    }

    private func meta(_ a: AssociationInfo, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var m: Logger.Metadata = ["calling_ae": "\(a.callingAE)", "called_ae": "\(a.calledAE)", "peer": "\(a.peerHost)", "association": "\(a.id)"]
        m.merge(extra) { $1 }
        return m
    }
}
