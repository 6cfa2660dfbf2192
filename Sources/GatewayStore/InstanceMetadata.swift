import DicomCore
import Foundation

/// What the index records of one received instance: its attributes, file and origin.
public struct InstanceMetadata: Sendable {
    public var attributes: DicomAttributes
    public var sopClassUID: String
    public var transferSyntax: String
    /// Relative to the storage root.
    public var path: String
    public var sizeBytes: Int64
    public var sha256: String
    public var origin: Origin
    public var receivedAt: Date
    /// Deliveries queued in the same transaction as the instance rows.
    public var deliveries: [PendingDelivery] = []
    /// Identity mapping and timeline rows written in the same transaction.
    public var extras = IngestExtras()

    /// Where an instance came from.
    public struct Origin: Sendable, Equatable {
        public var callingAE: String
        public var peerHost: String
        /// The configured node whose AE title called, if any.
        public var node: String?
        public init(callingAE: String, peerHost: String, node: String?) {
            self.callingAE = callingAE
            self.peerHost = peerHost
            self.node = node
        }
    }

    public init(attributes: DicomAttributes, sopClassUID: String, transferSyntax: String, path: String, sizeBytes: Int64,
                sha256: String, origin: Origin, receivedAt: Date = Date()) {
        self.attributes = attributes
        self.sopClassUID = sopClassUID
        self.transferSyntax = transferSyntax
        self.path = path
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.origin = origin
        self.receivedAt = receivedAt
    }

    public var studyUID: String { attributes.string(.studyInstanceUID) ?? "" }
    public var seriesUID: String { attributes.string(.seriesInstanceUID) ?? "" }
    public var sopUID: String { attributes.string(.sopInstanceUID) ?? "" }
    func value(_ tag: DicomTag) -> String { attributes.string(tag) ?? "" }
}
