import Foundation

/// The `storage:` section: where the cache of DICOM files and its index live.
public struct StorageSettings: Sendable, Hashable {
    /// The cache root directory, absolute (`path`, default `./var/dicom-gateway`, resolved
    /// against the config file's directory).
    public var path: URL
    /// The index database file, absolute (`index`, default `index.sqlite`, resolved against `path`).
    public var indexPath: URL
    /// What to do with a second copy of a SOP instance whose bytes differ (`duplicates`, default keep).
    public var duplicates: DuplicatePolicy = .keep
    /// Below this much free space on the cache's file system, stores are refused with
    /// 0xA700 (out of resources) (`min_free_space`, default 1GB).
    public var minFreeSpace: ByteCount = .gigabytes(1)
    /// When cached studies are removed (`retention`, default: never).
    public var retention = RetentionPolicy()

    /// Storage at `path` with the index at `path/index.sqlite` and default policies.
    public init(path: URL) {
        self.path = path.standardizedFileURL
        self.indexPath = path.appendingPathComponent(Self.defaultIndex).standardizedFileURL
    }

    /// The embedded default: `./var/dicom-gateway` under `baseDirectory`.
    public static func defaults(relativeTo baseDirectory: URL) -> StorageSettings {
        StorageSettings(path: resolve(defaultPath, against: baseDirectory))
    }

    static let defaultPath = "./var/dicom-gateway"
    static let defaultIndex = "index.sqlite"
    static let keys = ["path", "index", "duplicates", "min_free_space", "retention"]

    /// `path` itself when absolute, otherwise `path` under `base`.
    static func resolve(_ path: String, against base: URL) -> URL {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.absoluteURL.appendingPathComponent(path)
        return url.standardizedFileURL
    }

    static func read(_ section: ConfigMapping, baseDirectory: URL) -> StorageSettings {
        let path = section.read("path", default: defaultPath) { $0.filePath() }
        var settings = StorageSettings(path: resolve(path, against: baseDirectory))
        if let index = section.optional("index", { $0.filePath() }) {
            settings.indexPath = resolve(index, against: settings.path)
        }
        settings.duplicates = section.read("duplicates", default: settings.duplicates) { $0.choice() }
        settings.minFreeSpace = section.read("min_free_space", default: settings.minFreeSpace) { $0.byteCount() }
        if let retention = section.optional("retention", { $0.mapping(keys: RetentionPolicy.keys) }) {
            settings.retention = RetentionPolicy.read(retention)
        }
        return settings
    }
}

/// What happens when an instance arrives whose SOP Instance UID is cached with different bytes.
/// Identical bytes are always accepted as a no-op.
public enum DuplicatePolicy: String, Sendable, CaseIterable, ConfigChoice {
    /// Keep the cached copy; acknowledge the new one without storing it.
    case keep
    /// Store the new copy in place of the old one (the old one is kept aside, not deleted silently).
    case replace
    /// Refuse the new copy with a failure status.
    case reject

    static let noun = "a duplicate policy"
}

/// When cached studies may be removed to free space or because they are old. Both limits are
/// optional; with neither, nothing is ever removed.
public struct RetentionPolicy: Sendable, Hashable {
    /// Remove the least recently used studies while the cache is larger than this (`max_size`).
    public var maxSize: ByteCount?
    /// Remove studies received more than this many days ago (`max_age_days`).
    public var maxAgeDays: Int?

    public init(maxSize: ByteCount? = nil, maxAgeDays: Int? = nil) {
        self.maxSize = maxSize
        self.maxAgeDays = maxAgeDays
    }

    /// True when at least one limit is set.
    public var isEnabled: Bool { maxSize != nil || maxAgeDays != nil }

    static let keys = ["max_size", "max_age_days"]

    static func read(_ section: ConfigMapping) -> RetentionPolicy {
        RetentionPolicy(
            maxSize: section.optional("max_size") { $0.byteCount(minimum: 1) },
            maxAgeDays: section.optional("max_age_days") { $0.int(in: 1...36_500, noun: "a number of days") })
    }
}

extension ConfigValue {
    /// A file system path: non-empty text without NUL.
    func filePath() -> String? {
        guard let raw = text("a path") else { return nil }
        guard !raw.isEmpty, !raw.contains("\0") else {
            error(.invalidValue, "the path is empty; write a directory such as ./var/dicom-gateway")
            return nil
        }
        return raw
    }

    /// A size such as `500GB`.
    func byteCount(minimum: Int64 = 0) -> ByteCount? {
        guard let raw = text("a size such as 500MB") else { return nil }
        guard let size = ByteCount(parsing: raw) else {
            error(.wrongType, "'\(raw.printable)' is not a size; write a number with B, KB, MB, GB or TB, e.g. 500GB")
            return nil
        }
        guard size.bytes >= minimum else {
            error(.invalidValue, "\(raw.printable) is too small; write at least \(ByteCount(bytes: minimum))")
            return nil
        }
        return size
    }
}
