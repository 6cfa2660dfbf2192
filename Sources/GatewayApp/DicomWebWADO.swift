import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayDICOMweb
import GatewayStore
import Hummingbird
import Logging

/// WADO-RS (under `dicomweb.root`) and WADO-URI (`/wado`) on the HTTP API: the cache index as the
/// instance source, DCMTK (through DicomNetwork) for the file work, retrieves in the audit trail
/// (DICOM "retrieve", 110103) under the caller's token name. A token bound to a node needs that
/// node's `get` permission (``DicomWebNodeAccess``) and is served that node's view of each file.
enum DicomWebWADO {
    /// WADO-URI's path (PS3.18 9: a path of its own, beside the DICOMweb root).
    static let wadoURIPath = "/wado"

    /// Where series and study `/metadata` answers are kept (see `MetadataCache`).
    static func metadataDirectory(_ paths: InstancePath) -> String { paths.root + "/dicomweb/metadata" }

    static func mount(_ settings: DicomWebSettings, holder: ConfigurationHolder, index: CacheIndex, paths: InstancePath,
                      logger: Logger) -> HTTPMount {
        let root = settings.root
        let reader = DicomWebFileReader()
        let source = CacheWADOSource(index: index, paths: paths, configuration: { [holder] in holder.current }, logger: logger)
        let wado = WADORoutes(
            source: source, reader: reader,
            metadataCache: MetadataCache(directory: metadataDirectory(paths), reader: reader),
            base: settings.base, temporaryDirectory: paths.outgoingDirectory, logger: logger,
            onRetrieve: { caller, studies, what in
                for study in studies {
                    index.audit(AuditRecord(event: "retrieve", actor: caller.name, peer: caller.address, studyUID: study,
                                            outcome: "0000", detail: what),
                                context: AuditContext(studies: [.init(uid: study)]))
                }
            })
        let caller: @Sendable (Request, AdminRequestContext) -> WADOCaller = { _, context in DicomWebMount.webCaller(context) }
        return HTTPMount(addRoutes: { router in
            // As C-GET: a node-bound token needs `get`, and its files are the ones a C-GET to that node sends.
            func retrieves(_ path: String, _ service: String) -> RouterGroup<AdminRequestContext> {
                router.group(RouterPath(path)).nodeAccess(.get, service: service, holder: holder, index: index, logger: logger)
            }
            wado.add(to: retrieves(root, "WADO-RS"), caller: caller)
            wado.addWADOURI(to: retrieves("", "WADO-URI"), path: wadoURIPath, caller: caller)
        })
    }
}
