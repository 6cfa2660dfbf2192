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
public struct InstancePath: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

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
    public var incomingDirectory: String { root + "/incoming" }

    static func component(_ uid: String) -> String {
        UID.isValid(uid) ? uid : "x" + sha256Hex(uid)
    }

    public static func sha256Hex(_ text: String) -> String {
        Hex.string(SHA256.hash(data: Data(text.utf8)))
    }
}
