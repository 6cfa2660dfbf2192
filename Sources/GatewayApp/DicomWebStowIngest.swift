import DicomCore
import DicomNetwork
import Foundation
import GatewayDICOMweb

/// STOW-RS's way into the cache: each part is filed by ``CacheServiceProvider/storeArrivedFile``,
/// the way in of C-GET pulls, around the C-STORE's own ingest. The HTTP caller stands where a
/// calling AE title would (its token name is the instance's origin; a token named like a node's
/// AE title, or bound to a node, stores as that node); its permission is its token's role,
/// checked by the HTTP API, and for a node-bound token also the node's `store` (``DicomWebNodeAccess``).
struct DicomWebStowIngest: StowIngest {
    let provider: CacheServiceProvider

    var incomingDirectory: String { provider.paths.incomingDirectory }

    func storeInstance(at path: String, requiredStudyUID: String?, caller: StowCaller) -> StowInstanceOutcome {
        let from = association(caller)
        let outcome = provider.storeArrivedFile(path, from: from, checkPermission: false) { info in
            guard let required = requiredStudyUID, info.studyInstanceUID != required else { return nil }
            return DIMSEResult(status: .dataSetDoesNotMatchSOPClass, errorComment: "its Study Instance UID is not the request URL's")
        }
        let info = outcome.info
        return StowInstanceOutcome(
            sopClassUID: info?.sopClassUID, sopInstanceUID: info?.sopInstanceUID, studyUID: info?.studyInstanceUID,
            seriesUID: info?.seriesInstanceUID, failureReason: outcome.result.status.isSuccess ? nil : outcome.result.status.code,
            comment: outcome.result.errorComment)
    }

    func finished(_ caller: StowCaller, stored: Int, failed: Int) {
        provider.arrivedFilesEnded(association(caller), how: "STOW-RS request")
    }

    /// The association the request stands for: from the token's node's AE title when the token is
    /// bound to a node (the instances are that node's, as its C-STOREs are: its issuer, its routes,
    /// its worklist rules), else from the token's name.
    private func association(_ caller: StowCaller) -> AssociationInfo {
        let configuration = provider.configuration
        let callingAE = caller.node.flatMap { configuration.node(named: $0)?.aeTitle.value } ?? caller.name
        return .offAssociation(callingAE: callingAE, calledAE: configuration.gateway.aeTitle.value, peerHost: caller.peer, id: caller.id)
    }
}
