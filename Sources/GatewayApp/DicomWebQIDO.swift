import DicomCore
import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayDICOMweb
import GatewayStore
import Hummingbird
import Logging

/// QIDO-RS over the cache: the C-FIND of `CacheServiceProvider.find` without the DIMSE around
/// it, the same code (``NetworkView/find(_:level:retrieveAETitle:limit:)``). A caller whose token
/// acts for a node sees patients as that node's C-FIND does (a trust its own Patient IDs, a
/// reporter the network's); a token without a node sees them as a node without a trust of its own
/// does: by the network Patient ID when `identity.patient_id` maps them.
struct CacheQIDOSource: QIDOSource {
    let index: CacheIndex
    let configuration: @Sendable () -> GatewayConfiguration
    let logger: Logger

    func search(_ query: QIDOQuery, caller: WADOCaller) throws -> [DicomAttributes] {
        let configuration = configuration()
        let node = caller.node.flatMap { configuration.node(named: $0) }
        let view = NetworkView(index: index, configuration: configuration, node: node, logger: logger)
        var identifier = query.identifier
        identifier[.queryRetrieveLevel] = query.level.rawValue
        return try view.find(identifier, level: query.level, retrieveAETitle: configuration.gateway.aeTitle.value,
                             limit: query.offset + query.limit).map { match in
            var answer = match
            answer[.queryRetrieveLevel] = nil
            return answer
        }
    }
}

/// The QIDO-RS routes under `dicomweb.root`, each search audited as a query (DICOM Query, 110112).
enum DicomWebQIDO {
    static func mount(_ settings: DicomWebSettings, holder: ConfigurationHolder, index: CacheIndex, logger: Logger) -> HTTPMount {
        let root = settings.root
        let qido = QIDORoutes(
            source: CacheQIDOSource(index: index, configuration: { [holder] in holder.current }, logger: logger), logger: logger,
            onSearch: { caller, address, query, count in
                index.audit(AuditRecord(event: "query", actor: caller, peer: address, outcome: "\(count) match(es)",
                                        detail: "QIDO-RS level \(query.level.rawValue)"),
                            context: AuditContext(sopClassUID: "1.2.840.10008.5.1.4.1.2.2.1",
                                                  queryIdentifier: QueryIdentifierEncoding.implicitVRLittleEndian(query.identifier)))
            })
        // Cross-origin access (a viewer served from another site) covers all of DICOMweb and WADO-URI.
        let cors = settings.corsOrigins.isEmpty ? nil : CORSPolicy(origins: settings.corsOrigins, pathPrefixes: [root, DicomWebWADO.wadoURIPath])
        return HTTPMount(addRoutes: { router in
            let searches = router.group(RouterPath(root)).nodeAccess(.find, service: "QIDO-RS", holder: holder, index: index, logger: logger)
            qido.add(to: searches) { _, context in DicomWebMount.webCaller(context) }
        }, cors: cors)
    }
}
