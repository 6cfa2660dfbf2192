import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// fsync-based durability primitives: a file is durable once its bytes and its directory entry are.
public enum DurableFile {
    /// fsyncs the file at `path`.
    public static func sync(file path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StoreError.io("cannot open \(path) to sync it", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.io("fsync of \(path) failed", errno: errno) }
    }

    /// fsyncs the directory at `path`, making renames and creations inside it durable.
    public static func sync(directory path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw StoreError.io("cannot open directory \(path) to sync it", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.io("fsync of directory \(path) failed", errno: errno) }
    }

    /// Creates `path` and any missing parents, fsyncing each parent whose entry changed.
    public static func makeDirectories(_ path: String) throws(StoreError) {
        // One lock: a directory another thread created but has not yet made durable must not be
        // taken as durable here.
        directoryLock.lock()
        defer { directoryLock.unlock() }
        var missing: [String] = []
        var current = path
        while !FileManager.default.fileExists(atPath: current) {
            missing.append(current)
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { break }
            current = parent
        }
        for dir in missing.reversed() {
            if mkdir(dir, 0o750) != 0 && errno != EEXIST {
                throw StoreError.io("cannot create directory \(dir)", errno: errno)
            }
            try sync(directory: (dir as NSString).deletingLastPathComponent)
        }
    }

    /// Moves `source` to `destination` atomically (same file system), after syncing the file
    /// (or waiting for `flushed`, a flush of it already under way), then syncs the destination
    /// directory. Missing directories are created durably.
    public static func install(_ source: String, at destination: String, flushed: PendingFlush? = nil) throws(StoreError) {
        let directory = (destination as NSString).deletingLastPathComponent
        try makeDirectories(directory)  // while the file's flush may still be under way
        if let flushed { try flushed.wait() } else { try sync(file: source) }
        guard rename(source, destination) == 0 else {
            throw StoreError.io("cannot move \(source) to \(destination)", errno: errno)
        }
        try sync(directory: directory)
    }

    private static let directoryLock = NSLock()

    /// Free bytes available to this process on the file system holding `path`.
    public static func availableBytes(at path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}

/// A failure of the cache: what failed, on which file, and the system's reason.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func io(_ what: String, errno code: Int32) -> StoreError {
        StoreError("\(what): \(String(cString: strerror(code)))")
    }
}
