import Crypto
import DicomCore
import Foundation

/// Where an instance lives under the storage root. File names never come from the wire: a UID
/// is used as a path component only when it is a valid UID (digits and dots, so no `/`, `..` or
/// NUL can appear), otherwise its SHA-256 is used instead.
///
/// Layout: `ROOT/instances/<2 hex of study hash>/<study>/<series>/<sop>.dcm` for instances renamed
/// into place, and `ROOT/files/...` for those received into files prepared in advance
/// (`PreparedFiles`): the index row holds whichever path the instance has.
///
/// A node of a cluster (several gateways sharing the index and this storage) keeps what is its
/// own under `ROOT/nodes/<node>/` (incoming and outgoing temporary files, crash journal, clean-
/// shutdown marker) and names its runs of prepared files `files/<node>.<run>/`, so that one
/// node's start-up clean-up and recovery never touch another's work in progress.
public struct InstancePath: Sendable {
    public let root: String
    /// This node's own directory: the root itself for a gateway alone.
    public let local: String
    /// The cluster node these paths are for; nil for a gateway alone.
    public let node: String?

    public init(root: String, node: String? = nil) {
        self.root = root
        self.node = node
        local = node.map { root + "/nodes/" + $0 } ?? root
    }

    /// What this node's runs of prepared files are named with (`files/<node>.<run>`); empty when alone.
    public var preparedRunPrefix: String { node.map { $0 + "." } ?? "" }

    /// The relative path of an instance, for the index.
    public func relativePath(study: String, series: String, sopInstance: String) -> String {
        let bucket = String(Self.sha256Hex(study).prefix(2))
        return "instances/\(bucket)/\(Self.component(study))/\(Self.component(series))/\(Self.component(sopInstance)).dcm"
    }

    public func absolutePath(relative: String) -> String { root + "/" + relative }

    /// The index path of a prepared file (see `PreparedFiles`), or nil when `absolute` is not one.
    public func preparedRelative(_ absolute: String) -> String? {
        let prefix = root + "/" + PreparedFiles.directoryName + "/"
        guard absolute.hasPrefix(prefix), !absolute.contains("/../") else { return nil }
        return String(absolute.dropFirst(root.count + 1))
    }

    /// The temporary directory the DICOM server streams incoming data sets into (same file system).
    public var incomingDirectory: String { local + "/incoming" }

    /// Where temporary copies for sending (coerced files, DICOMweb renditions) are made.
    public var outgoingDirectory: String { local + "/outgoing" }

    static func component(_ uid: String) -> String {
        UID.isValid(uid) ? uid : "x" + sha256Hex(uid)
    }

    public static func sha256Hex(_ text: String) -> String {
        Hex.string(SHA256.hash(data: Data(text.utf8)))
    }
}
