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
    /// Where instances retrieved by C-GET are ingested (the DICOM services, set once they exist).
    let sink: IngestSink

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
        let dimsePriority: DIMSEPriority = priority.rank >= 2 ? .high : (priority.rank == 0 ? .low : .medium)
        if method == .get {
            return try get(keys, from: node, address: address, priority: dimsePriority, progress: progress)
        }
        let association = try DicomAssociation.open(
            to: address, callingAE: callingAE, contexts: [PresentationContextProposal(QueryModel.studyRoot.moveSOPClass)],
            timeouts: timeouts)
        defer { association.release() }
        let outcome = try association.move(model: .studyRoot, keys: keys, destination: callingAE, priority: dimsePriority,
                                           onProgress: progress)
        return SourceRetrieval(status: outcome.status, counts: outcome.counts, errorComment: outcome.errorComment)
    }

    /// C-GET: each instance arrives on our association into a temporary file and is ingested
    /// (durably, routed) before its sub-operation is answered, exactly as a C-STORE would be.
    private func get(_ keys: DicomAttributes, from node: NodeConfig, address: DicomNode, priority: DIMSEPriority,
                     progress: @escaping @Sendable (SubOperationCounts) -> Void) throws -> SourceRetrieval {
        guard let provider = sink.provider else {
            throw DicomNetworkError(code: .invalidArgument, message: "the gateway's DICOM services are not ready")
        }
        let directory = holder.current.storage.path.path + "/incoming/get-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let association = try DicomAssociation.open(
            to: address, callingAE: callingAE,
            contexts: PresentationContextProposal.forGet(model: .studyRoot, storageSOPClasses: DicomFile.commonStorageSOPClasses),
            timeouts: timeouts)
        defer { association.release() }
        let from = AssociationInfo.offAssociation(callingAE: node.aeTitle.value, calledAE: callingAE.value, peerHost: address.host)
        let outcome = try association.get(model: .studyRoot, keys: keys, into: directory, priority: priority, onProgress: progress) { path, _ in
            // A pulled instance takes the way in of every file: input limits, admission, a C-STORE's ingest.
            provider.storeArrivedFile(path, from: from, priority: priority).result.status
        }
        return SourceRetrieval(status: outcome.status, counts: outcome.counts, errorComment: outcome.errorComment)
    }
}

/// The DICOM services, once built: C-GET pulls ingest through them (set after construction,
/// because the services themselves need the source access for pull-through).
final class IngestSink: @unchecked Sendable {
    // Safe: `value` is written once at start-up under `lock` and read under it.
    private let lock = NSLock()
    private var value: CacheServiceProvider?

    var provider: CacheServiceProvider? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
