import DicomCore
import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayDICOMweb
import GatewayStore
import Hummingbird
import Logging

/// QIDO-RS over the cache: the C-FIND of `CacheServiceProvider.find` (same matching, same
/// identity view) without the DIMSE around it. HTTP callers are not tied to a node yet, so they
/// see patients as a node without a trust of its own does: by the network Patient ID when
/// `identity.patient_id` maps them.
struct CacheQIDOSource: QIDOSource {
    let index: CacheIndex
    let configuration: @Sendable () -> GatewayConfiguration
    let logger: Logger

    func search(_ query: QIDOQuery) throws -> [DicomAttributes] {
        let configuration = configuration()
        let view = NetworkView(index: index, configuration: configuration, node: nil, logger: logger)
        var identifier = query.identifier
        identifier[.queryRetrieveLevel] = query.level.rawValue
        let wanted = query.offset + query.limit
        var matches: [DicomAttributes] = []
        for local in view.localQueries(identifier) where matches.count < wanted {
            let search = CacheQuery(level: query.level, identifier: view.queryIdentifier(local.identifier, level: query.level),
                                    retrieveAETitle: configuration.gateway.aeTitle.value, patientIssuer: local.patientIssuer)
            try search.run(in: index) { match in
                matches.append(match)
                return matches.count < wanted
            }
        }
        return matches.map { match in
            var answer = view.answer(match, asked: identifier)
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
            qido.add(to: router.group(RouterPath(root))) { _, context in
                (name: context.tokenName ?? "http", address: context.remoteAddress?.ipAddress ?? "")
            }
        }, cors: cors)
    }
}
