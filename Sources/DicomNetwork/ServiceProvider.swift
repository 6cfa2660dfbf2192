import DicomCore

/// Who is on the other end of an inbound association.
public struct AssociationInfo: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt64
    public let callingAE: String
    public let calledAE: String
    public let peerHost: String
    /// True when the association came over DICOM TLS (the TLS port).
    public var overTLS = false
    /// Over TLS: the certificate the caller presented (verified against the trusted CA), if any.
    public var peerCertificate: CertificateIdentity? = nil
    public var description: String { "\(callingAE)@\(peerHost) -> \(calledAE) #\(id)\(overTLS ? " (TLS)" : "")" }
}

/// A DICOM TLS connection that closed before association: its handshake failed or did not finish
/// in time. `badCertificate`: the caller's certificate was missing, untrusted, expired or revoked.
public struct TLSHandshakeFailure: Sendable, Hashable {
    public let peerHost: String
    public let reason: String
    /// The subject of the certificate the caller sent, or "".
    public let certificateSubject: String
    public let badCertificate: Bool
}

extension AssociationInfo {
    /// For instances that arrive other than on an inbound association (e.g. by a C-GET the
    /// gateway sends): who they come from.
    /// `id`: 0, or a number of the caller's that no association of the DICOM server has (a
    /// STOW-RS request's), to count what it stores apart.
    public static func offAssociation(callingAE: String, calledAE: String, peerHost: String, id: UInt64 = 0) -> AssociationInfo {
        AssociationInfo(id: id, callingAE: callingAE, calledAE: calledAE, peerHost: peerHost)
    }
}

/// The answer to an association request.
public enum AssociationDecision: Sendable, Equatable {
    case accept
    case rejectCallingAETitle      // permanent: calling AE title not recognised
    case rejectCalledAETitle       // permanent: called AE title not recognised
    case rejectNoReason            // permanent: no reason given
    case rejectBusy                // transient: local limit exceeded
}

/// How an inbound association ended.
public enum AssociationEnd: Int32, Sendable {
    case released = 0, aborted = 1, error = 2, stopped = 3
}

/// An incoming C-STORE. `filePath` holds the complete Part 10 file in the server's temporary
/// directory; from `store(_:association:)` on, the provider owns it (move it or delete it).
public struct StoreRequest: Sendable {
    public let sopClassUID: String
    public let sopInstanceUID: String
    public let transferSyntaxUID: String
    public let priority: DIMSEPriority
    public let messageID: UInt16
    public let moveOriginatorAE: String?
    public let moveOriginatorMessageID: UInt16
    public let filePath: String
    /// SHA-256 (lower-case hex) of the data set, the file after its meta header, computed while
    /// the bytes arrived; nil when the file came by other means.
    public var datasetSHA256: String? = nil
    /// Bytes of the whole file, when `datasetSHA256` is known.
    public var fileSize: Int64 = 0
}

extension StoreRequest {
    /// A store of a file that arrived by other means (e.g. a C-GET sub-operation the gateway asked for).
    public init(sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, priority: DIMSEPriority = .medium,
                filePath: String) {
        self.init(sopClassUID: sopClassUID, sopInstanceUID: sopInstanceUID, transferSyntaxUID: transferSyntaxUID, priority: priority,
                  messageID: 0, moveOriginatorAE: nil, moveOriginatorMessageID: 0, filePath: filePath)
    }
}

/// An incoming C-FIND, C-MOVE or C-GET.
public struct QueryRequest: Sendable {
    public let sopClassUID: String
    public let model: QueryModel?
    public let priority: DIMSEPriority
    public let messageID: UInt16
    /// The C-MOVE destination AE title, exactly as sent (validate before use).
    public let moveDestination: String?
}

/// The final answer of a C-MOVE or C-GET handler.
public struct RetrieveReply: Sendable {
    public var status: DIMSEStatus
    public var counts: SubOperationCounts
    public var errorComment: String
    /// The instances whose sub-operations failed: the final response lists them (0008,0058).
    public var failedSOPInstanceUIDs: [String]
    public init(status: DIMSEStatus, counts: SubOperationCounts = SubOperationCounts(), errorComment: String = "",
                failedSOPInstanceUIDs: [String] = []) {
        self.status = status
        self.counts = counts
        self.errorComment = errorComment
        self.failedSOPInstanceUIDs = failedSOPInstanceUIDs
    }
}

/// What the DICOM server asks of the application. Every method is called synchronously on the
/// association's own thread (never Swift's cooperative pool), so it may block; it must return a
/// DIMSE status rather than throw. Unimplemented services answer "SOP class not supported".
public protocol DicomServiceProvider: Sendable {
    func associationRequested(_ association: AssociationInfo) -> AssociationDecision
    func associationEnded(_ association: AssociationInfo, how: AssociationEnd, detail: String)
    /// C-ECHO: the status to answer (success, or e.g. 0x0124 when the caller may not echo).
    func echo(association: AssociationInfo) -> DIMSEStatus
    /// A TLS connection failed its handshake (called on the acceptor's thread: be quick).
    func tlsHandshakeFailed(_ failure: TLSHandshakeFailure)
    /// Before the data set is read: a non-success status refuses it (e.g. 0xA700 when the disk is full).
    func admitStore(_ request: StoreRequest, association: AssociationInfo) -> DIMSEStatus
    /// After admission: an empty file prepared in advance (its directory entry already durable)
    /// to receive the instance into, or nil for a temporary file in the server's directory.
    func preparedStoreFile() -> String?
    func store(_ request: StoreRequest, association: AssociationInfo) -> DIMSEResult
    /// An instance refused after it arrived and before anything parsed it (the input limits):
    /// the answer is already decided; this is for the log and the audit trail.
    func storeRefused(_ request: StoreRequest, association: AssociationInfo, status: DIMSEStatus, reason: String)
    func find(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: FindResponder) -> DIMSEResult
    /// A C-FIND/C-MOVE/C-GET refused before it reached the provider (its keys ask for matching
    /// the gateway does not do): for the log and the audit trail.
    func queryRefused(_ request: QueryRequest, association: AssociationInfo, status: DIMSEStatus, reason: String)
    func move(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder) -> RetrieveReply
    func get(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder) -> RetrieveReply
}

extension DicomServiceProvider {
    public func associationRequested(_ association: AssociationInfo) -> AssociationDecision { .accept }
    public func associationEnded(_ association: AssociationInfo, how: AssociationEnd, detail: String) {}
    public func tlsHandshakeFailed(_ failure: TLSHandshakeFailure) {}
    public func admitStore(_ request: StoreRequest, association: AssociationInfo) -> DIMSEStatus { .success }
    public func preparedStoreFile() -> String? { nil }
    public func echo(association: AssociationInfo) -> DIMSEStatus { .success }
    public func storeRefused(_ request: StoreRequest, association: AssociationInfo, status: DIMSEStatus, reason: String) {}
    public func queryRefused(_ request: QueryRequest, association: AssociationInfo, status: DIMSEStatus, reason: String) {}
    public func find(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: FindResponder) -> DIMSEResult {
        DIMSEResult(status: .sopClassNotSupported)
    }
    public func move(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder) -> RetrieveReply {
        RetrieveReply(status: .sopClassNotSupported)
    }
    public func get(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder) -> RetrieveReply {
        RetrieveReply(status: .sopClassNotSupported)
    }
}
