import Foundation
import GatewayAdmin
import GatewayDICOMweb
import GatewayStore
import Hummingbird
import Logging

/// WADO-RS and WADO-URI on the HTTP API: the cache index as the instance source, DCMTK (through
/// DicomNetwork) for the file work, retrieves in the audit trail (DICOM "retrieve", 110103).
enum DicomWebWADO {
    /// The DICOMweb root the routes hang under, and WADO-URI's path beside it.
    static let root = "/dicom-web"
    static let wadoURIPath = "/wado"

    static func routes(holder: ConfigurationHolder, index: CacheIndex, paths: InstancePath, logger: Logger) -> WADORoutes {
        let reader = DicomWebFileReader()
        let source = CacheWADOSource(index: index, paths: paths, configuration: { [holder] in holder.current }, logger: logger)
        return WADORoutes(
            source: source, reader: reader,
            metadataCache: MetadataCache(directory: paths.root + "/dicomweb/metadata", reader: reader),
            base: root, temporaryDirectory: paths.root + "/outgoing", logger: logger,
            onRetrieve: { caller, studies, what in
                for study in studies {
                    index.audit(AuditRecord(event: "retrieve", actor: caller.name, peer: caller.address, studyUID: study,
                                            outcome: "0000", detail: what),
                                context: AuditContext(studies: [.init(uid: study)]))
                }
            })
    }

    /// Adds the routes to the HTTP API's router.
    static func mount(_ wado: WADORoutes, on router: Router<AdminRequestContext>) {
        let caller: @Sendable (Request, AdminRequestContext) -> WADOCaller = { _, context in
            WADOCaller(node: nil, name: "http", address: context.remoteAddress?.ipAddress ?? "")
        }
        wado.add(to: router.group(RouterPath(root)), caller: caller)
        wado.addWADOURI(to: router, path: wadoURIPath, caller: caller)
    }
}
