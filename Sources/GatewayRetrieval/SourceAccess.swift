import DicomCore
import GatewayConfig

/// Asks a source what it holds: a study-level C-FIND, blocking (call it off Swift's cooperative
/// pool). GatewayApp plugs in the DCMTK implementation; tests may plug in others.
public protocol SourceQuerier: Sendable {
    func findStudies(at node: NodeConfig, keys: DicomAttributes) throws -> [DicomAttributes]
}

/// Brings a whole study from a source into the cache (C-MOVE to the gateway's own AE title, or
/// C-GET), blocking until the source's final response; the instances arrive through the
/// gateway's normal ingest, so they are routed like stored ones.
public protocol SourceRetriever: Sendable {
    func retrieveStudy(_ studyUID: String, from node: NodeConfig, method: PullMethod, priority: PriorityClass,
                       progress: @escaping @Sendable (SubOperationCounts) -> Void) throws -> SourceRetrieval
}

/// The source's final answer to a retrieve.
public struct SourceRetrieval: Sendable, Equatable {
    public var status: DIMSEStatus
    public var counts: SubOperationCounts
    public var errorComment: String

    public init(status: DIMSEStatus, counts: SubOperationCounts, errorComment: String = "") {
        self.status = status
        self.counts = counts
        self.errorComment = errorComment
    }
}

/// The study-level keys asked of a source: everything the catalog keeps, plus `extra` matching keys.
public enum SourceQueryKeys {
    public static func study(_ extra: [DicomTag: String] = [:]) -> DicomAttributes {
        var keys = DicomAttributes()
        keys[.queryRetrieveLevel] = "STUDY"
        for tag in [DicomTag.studyInstanceUID, .patientID, .issuerOfPatientID, .patientName, .patientBirthDate, .patientSex,
                    .studyDate, .studyTime, .accessionNumber, .studyDescription, .modalitiesInStudy, .numberOfStudyRelatedInstances] {
            keys[tag] = ""
        }
        for (tag, value) in extra { keys[tag] = value }
        return keys
    }
}
