/// What STOW-RS needs from the gateway to file an instance: the same durable ingest as a C-STORE
/// (input limits, identity coercion, classification, routes and deliveries, the reporting
/// worklist, the duplicate policy, the audit trail). GatewayApp implements it over its DICOM
/// services; GatewayDICOMweb never sees DCMTK.
public protocol StowIngest: Sendable {
    /// Where received parts are written before they are filed (the storage's incoming directory,
    /// on the cache's file system; `*.part` files there are removed at start).
    var incomingDirectory: String { get }

    /// Files the Part 10 file at `path` (a complete part of the request) durably, routed and
    /// placed on the worklist as a C-STORE from `caller` would be; returns only once the instance
    /// is durable or refused. The file is moved into the cache or removed. Blocks: call it off
    /// Swift's cooperative pool.
    /// - Parameter requiredStudyUID: the `{study}` of `POST /studies/{study}`: an instance of
    ///   another study is refused (0xA900) and not filed.
    func storeInstance(at path: String, requiredStudyUID: String?, caller: StowCaller) -> StowInstanceOutcome

    /// After the last part of a request: its audit entry (DICOM Instances Transferred, as a
    /// storing association's), and its log line.
    func finished(_ caller: StowCaller, stored: Int, failed: Int)
}

/// Who sends a STOW-RS request: the HTTP caller's token name (the `origin` of what it stores,
/// as a calling AE title is for a C-STORE; a token named like a node's AE title stores as that
/// node), the node its token is bound to (`http.tokens[].node`: it stores as that node, whatever
/// its name) and its address. `id` tells concurrent requests apart.
public struct StowCaller: Sendable, Hashable {
    public let id: UInt64
    public let name: String
    public let peer: String
    public let node: String?

    public init(id: UInt64, name: String, peer: String, node: String? = nil) {
        self.id = id
        self.name = name
        self.peer = peer
        self.node = node
    }
}

/// What became of one instance of a STOW-RS request.
public struct StowInstanceOutcome: Sendable, Equatable {
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    public var studyUID: String?
    public var seriesUID: String?
    /// Nil: stored (or an identical copy was cached already). Otherwise the PS3.18 Failure
    /// Reason, a DIMSE status such as 0xA700 (out of resources), 0xA900 (does not match the
    /// study of the URL, or its SOP class), 0xC000 (cannot be understood), 0x0111 (a different
    /// instance with this UID is cached).
    public var failureReason: UInt16?
    /// Why, for the log (no patient data).
    public var comment: String

    public init(sopClassUID: String? = nil, sopInstanceUID: String? = nil, studyUID: String? = nil, seriesUID: String? = nil,
                failureReason: UInt16? = nil, comment: String = "") {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.studyUID = studyUID
        self.seriesUID = seriesUID
        self.failureReason = failureReason
        self.comment = comment
    }

    public var isStored: Bool { failureReason == nil }

    /// PS3.18 failure reasons used by STOW-RS.
    public enum Reason {
        public static let outOfResources: UInt16 = 0xA700
        public static let doesNotMatch: UInt16 = 0xA900
        public static let cannotUnderstand: UInt16 = 0xC000
        public static let processingFailure: UInt16 = 0x0110
    }
}
