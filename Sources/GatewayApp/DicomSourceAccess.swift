import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayRetrieval

/// The DCMTK side of pulling from sources: study-level C-FIND, and C-MOVE of a study to the
/// gateway's own AE title (the instances arrive through the DICOM server and are ingested and
/// routed like any C-STORE). Blocking; callers run it on threads of their own.
struct DicomSourceAccess: SourceQuerier, SourceRetriever {
    let holder: ConfigurationHolder

    private var callingAE: AETitle { holder.current.gateway.aeTitle }
    private var timeouts: DicomTimeouts {
        var t = DicomTimeouts.default
        t.dimse = Int(holder.current.gateway.dimseTimeout.components.seconds)
        return t
    }

    func findStudies(at node: NodeConfig, keys: DicomAttributes) throws -> [DicomAttributes] {
        guard let address = node.address else { throw DicomNetworkError(code: .invalidArgument, message: "\(node.name) has no address") }
        let association = try DicomAssociation.open(
            to: address, callingAE: callingAE, contexts: [PresentationContextProposal(QueryModel.studyRoot.findSOPClass)],
            timeouts: timeouts)
        defer { association.release() }
        var matches: [DicomAttributes] = []
        let result = try association.find(model: .studyRoot, keys: keys) { matches.append($0); return true }
        guard result.status.isSuccess else {
            throw DicomNetworkError(code: .protocolError, message: "\(node.name) answered C-FIND with \(result.status) \(result.errorComment)")
        }
        return matches
    }

    func retrieveStudy(_ studyUID: String, from node: NodeConfig, method: PullMethod, priority: PriorityClass,
                       progress: @escaping @Sendable (SubOperationCounts) -> Void) throws -> SourceRetrieval {
        guard let address = node.address else { throw DicomNetworkError(code: .invalidArgument, message: "\(node.name) has no address") }
        var keys = DicomAttributes()
        keys[.queryRetrieveLevel] = "STUDY"
        keys[.studyInstanceUID] = studyUID
        let association = try DicomAssociation.open(
            to: address, callingAE: callingAE, contexts: [PresentationContextProposal(QueryModel.studyRoot.moveSOPClass)],
            timeouts: timeouts)
        defer { association.release() }
        let outcome = try association.move(model: .studyRoot, keys: keys, destination: callingAE,
                                           priority: priority.rank >= 2 ? .high : (priority.rank == 0 ? .low : .medium),
                                           onProgress: progress)
        return SourceRetrieval(status: outcome.status, counts: outcome.counts, errorComment: outcome.errorComment)
    }
}
