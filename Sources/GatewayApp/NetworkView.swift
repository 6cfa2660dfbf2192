import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayRouting
import GatewayStore
import Logging

/// Patients as one querying or retrieving node sees them: the patient's own trust (see
/// `NetworkIdentity.audience`) by the trust's own Patient ID, everyone else by the network
/// Patient ID, as on routed copies (`identity.patient_id`). The index keeps the trusts' IDs; this
/// translates on the way in (a query by a network ID finds the trust patients behind it) and on
/// the way out (answers and retrieved copies carry the ID the node knows). With `keep` it
/// changes nothing. One per request: it remembers what it looked up.
final class NetworkView {
    /// A query to run: the identifier, and the exact patient issuer it is limited to (nil: any).
    struct LocalQuery {
        var identifier: DicomAttributes
        var patientIssuer: String?
    }

    let index: CacheIndex
    let node: NodeConfig?
    let settings: IdentitySettings
    /// False with `identity.patient_id: keep`: nothing to translate.
    let isActive: Bool
    private let logger: Logger
    private var networkIDs: [String: String?] = [:]          // "issuer\0local" -> network ID
    private var studyOrigins: [String: String?] = [:]        // study UID -> origin node
    private var patientOrigins: [String: Set<String>] = [:]  // "issuer\0local" -> origin nodes

    init(index: CacheIndex, configuration: GatewayConfiguration, node: NodeConfig?, logger: Logger) {
        self.index = index
        self.node = node
        settings = configuration.identity
        isActive = configuration.identity.patientID != .keep
        self.logger = logger
    }

    /// The queries to run for `identifier`. A PatientID key holding a network Patient ID (single
    /// value, no wildcards) also runs as each trust patient behind it (that trust's ID, exactly
    /// that issuer); the identifier itself still runs, for records whose own ID it is.
    func localQueries(_ identifier: DicomAttributes) -> [LocalQuery] {
        let asIs = LocalQuery(identifier: identifier, patientIssuer: nil)
        guard isActive, let patientID = identifier.string(.patientID),
              !patientID.contains("*"), !patientID.contains("?"), !patientID.contains("\\") else { return [asIs] }
        // Asked with the NHS Number's own issuer, the person is meant, wherever they are held.
        var asked = identifier.string(.issuerOfPatientID)
        if settings.patientID == .nhsNumber, asked == settings.nhsNumberIssuer { asked = nil }
        let locals = index.localIdentities(networkPatientID: patientID).filter { asked == nil || asked == $0.issuer }
        return locals.map {
            var local = identifier
            local[.patientID] = $0.localPatientID
            if identifier[.issuerOfPatientID] != nil { local[.issuerOfPatientID] = "" }
            return LocalQuery(identifier: local, patientIssuer: $0.issuer)
        } + [asIs]
    }

    /// The C-FIND of this node over the cache, for C-FIND and QIDO-RS alike: each of
    /// ``localQueries(_:)`` runs (``CacheQuery``) until `limit` matches are collected, then each is
    /// translated by ``answer(_:asked:)`` (after the read: translating reads the index too).
    /// `identifier` carries its QueryRetrieveLevel, as a C-FIND identifier does.
    func find(_ identifier: DicomAttributes, level: QueryLevel, retrieveAETitle: String, limit: Int) throws -> [DicomAttributes] {
        var matches: [DicomAttributes] = []
        for local in localQueries(identifier) where matches.count < limit {
            let query = CacheQuery(level: level, identifier: queryIdentifier(local.identifier, level: level),
                                   retrieveAETitle: retrieveAETitle, patientIssuer: local.patientIssuer)
            try query.run(in: index) { match in
                matches.append(match)
                return matches.count < limit
            }
        }
        return matches.map { answer($0, asked: identifier) }
    }

    /// When the identifier's PatientID is a network ID this node does not hold as a trust: that
    /// ID and the trust IDs behind it by issuer (for asking the sources in a federated query).
    func networkPatient(_ identifier: DicomAttributes) -> (networkID: String, localIDsByIssuer: [String: String])? {
        guard isActive, let patientID = identifier.string(.patientID),
              !patientID.contains("*"), !patientID.contains("?"), !patientID.contains("\\") else { return nil }
        let locals = index.localIdentities(networkPatientID: patientID)
        guard !locals.isEmpty else { return nil }
        return (patientID, Dictionary(locals.map { ($0.issuer, $0.localPatientID) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The identifier a C-FIND runs with: IssuerOfPatientID (and, below PATIENT level, the Study
    /// Instance UID) are needed to translate answers, so they are asked for when PatientID is;
    /// `answer` removes what was not requested.
    func queryIdentifier(_ identifier: DicomAttributes, level: QueryLevel) -> DicomAttributes {
        guard isActive, identifier[.patientID] != nil else { return identifier }
        var extended = identifier
        if extended[.issuerOfPatientID] == nil { extended[.issuerOfPatientID] = "" }
        if level != .patient, extended[.studyInstanceUID] == nil { extended[.studyInstanceUID] = "" }
        return extended
    }

    /// A C-FIND answer as this node sees it; `asked` is the identifier as the caller sent it.
    func answer(_ match: DicomAttributes, asked: DicomAttributes) -> DicomAttributes {
        guard isActive else { return match }
        var answer = match
        if let local = match.string(.patientID) {
            let issuer = match.string(.issuerOfPatientID) ?? ""
            if let network = networkID(issuer: issuer, local: local) {
                let origins = match.string(.studyInstanceUID).map { study in Set([studyOrigin(study)].compactMap { $0 }) }
                    ?? patientOriginNodes(issuer: issuer, local: local)
                if audience(origins: origins, patientIssuer: issuer) == .network { answer[.patientID] = network }
            }
        }
        if asked[.issuerOfPatientID] == nil { answer[.issuerOfPatientID] = nil }
        if asked[.studyInstanceUID] == nil { answer[.studyInstanceUID] = nil }
        return answer
    }

    /// The file to send for `instance`: the cached one when it already carries the Patient ID
    /// this node knows, else a copy with it in `outgoing/` (the caller removes it after sending).
    func outgoingFile(for instance: InstanceRecord, paths: InstancePath) throws(DicomNetworkError) -> (path: String, isCopy: Bool) {
        let cached = paths.absolutePath(relative: instance.path)
        guard isActive, let id = instance.id, let study = index.studyIdentity(ofInstance: id),
              let network = networkID(issuer: study.issuer, local: study.patientID) else { return (cached, false) }
        let inFile = try DicomFile.readAttributes(cached)
        let filePatientID = inFile.string(.patientID) ?? ""
        // The file carries the trust's ID (as sent) or the network one (a reporter's report);
        // anything else means the index no longer describes it: send it as it is.
        guard filePatientID == study.patientID || filePatientID == network else {
            logger.warning("retrieve: the cached file's Patient ID is not the one indexed for its study; sent unchanged",
                           metadata: ["sop_instance_uid": "\(instance.sopUID)"])
            return (cached, false)
        }
        let identity = NetworkIdentity(issuer: study.issuer, localPatientID: study.patientID, networkPatientID: network)
        let edits = identity.edits(toward: audience(origins: Set([study.originNode].compactMap { $0 }), patientIssuer: study.issuer),
                                   from: inFile)
        if edits.isEmpty { return (cached, false) }
        let directory = paths.outgoingDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = directory + "/retrieve-\(UUID().uuidString).dcm"
        do {
            try DicomFile.write(from: cached, to: copy, setting: edits)
        } catch {
            try? FileManager.default.removeItem(atPath: copy)
            throw error
        }
        return (copy, true)
    }

    private func audience(origins: Set<String>, patientIssuer: String) -> NetworkIdentity.Audience {
        NetworkIdentity.audience(node: node?.name, nodeIssuer: node?.issuer, studyOrigins: origins, patientIssuer: patientIssuer)
    }

    private func networkID(issuer: String, local: String) -> String? {
        let key = issuer + "\0" + local
        if let known = networkIDs[key] { return known }
        let found = index.networkPatientID(issuer: issuer, localPatientID: local).flatMap { $0 == local ? nil : $0 }
        networkIDs[key] = found
        return found
    }

    private func studyOrigin(_ studyUID: String) -> String? {
        if let known = studyOrigins[studyUID] { return known }
        let found = index.studyIdentity(studyUID: studyUID)?.originNode
        studyOrigins[studyUID] = found
        return found
    }

    private func patientOriginNodes(issuer: String, local: String) -> Set<String> {
        let key = issuer + "\0" + local
        if let known = patientOrigins[key] { return known }
        let found = index.originNodes(issuer: issuer, patientID: local)
        patientOrigins[key] = found
        return found
    }
}
