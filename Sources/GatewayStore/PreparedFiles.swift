import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Empty files created ahead of need, in directories whose entries are already durable, for
/// incoming instances to be received into. An instance received into one is durable after one
/// fdatasync of its own bytes: no rename and no directory flush stand between it and the
/// acknowledgement. The index holds the file's path; the file is never renamed.
///
/// Layout: `ROOT/files/<run>/<nnnn>/<nnnnn>.dcm`, one `<run>` directory per start of the gateway,
/// at most `perDirectory` files in each numbered directory. A batch of files is created and its
/// directory fsynced once, by a thread of its own, before any of them is handed out.
///
/// Files handed out and never indexed (a refused instance, or one in flight at a crash) are
/// removed by whoever refused it, or by `CacheRecovery` at the next start. Files never handed out
/// are removed by `close()` at a clean shutdown (or by recovery after a crash).
public final class PreparedFiles: @unchecked Sendable {
    // Safe: every mutable field is only touched under `condition`.
    private let condition = NSCondition()
    private var ready: [String] = []
    private var stopping = false
    private var running = false
    private var failing = false
    private var directoryNumber = 0
    private var fileNumber = 0

    public let root: String
    public let runDirectory: String
    let batch: Int
    let perDirectory: Int
    private let logger: Logger

    /// The directory under the storage root that holds prepared files, and the relative-path prefix
    /// of every instance filed there.
    public static let directoryName = "files"

    /// `runPrefix`: what this run's directory name starts with (a cluster node's `<node>.`).
    public init(root: String, runPrefix: String = "", batch: Int = 64, perDirectory: Int = 1000, logger: Logger) {
        self.root = root
        self.batch = batch
        self.perDirectory = perDirectory
        self.logger = logger
        let stamp = Self.runStamp.string(from: Date())
        runDirectory = "\(root)/\(Self.directoryName)/\(runPrefix)\(stamp)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Whether `relative` (a path in the index) names a prepared file.
    public static func isPrepared(relative: String) -> Bool { relative.hasPrefix(directoryName + "/") }

    /// Starts the thread that keeps a batch or two of files ready.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        let thread = Thread { [self] in refill() }
        thread.name = "prepared-files"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// An empty file whose directory entry is durable, or nil when none is ready (the caller then
    /// receives into a temporary file and renames it into place, as before).
    public func take() -> String? {
        condition.lock()
        defer { condition.unlock() }
        guard !ready.isEmpty else {
            condition.broadcast()
            return nil
        }
        let path = ready.removeLast()
        if ready.count < batch { condition.broadcast() }
        return path
    }

    /// Stops the thread and removes the files never handed out, durably: a clean shutdown leaves
    /// none behind for the next start to sweep.
    public func close() {
        condition.lock()
        if stopping && !running && ready.isEmpty {
            condition.unlock()
            return  // closed already
        }
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        let unused = ready
        ready = []
        condition.unlock()
        var directories = Set<String>()
        for path in unused where unlink(path) == 0 { directories.insert((path as NSString).deletingLastPathComponent) }
        for directory in directories {
            // A directory left empty goes too.
            if rmdir(directory) == 0 { directories.insert((directory as NSString).deletingLastPathComponent) }
        }
        if rmdir(runDirectory) == 0 { directories.insert((runDirectory as NSString).deletingLastPathComponent) }
        for directory in directories.sorted().reversed() { try? DurableFile.sync(directory: directory) }
    }

    private func refill() {
        while true {
            condition.lock()
            while !stopping && ready.count >= batch { condition.wait() }
            if stopping {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            do {
                let made = try makeBatch()
                condition.lock()
                ready.insert(contentsOf: made.reversed(), at: 0)  // handed out in creation order
                if failing { logger.notice("prepared files: creating files works again") }
                failing = false
                condition.broadcast()
                condition.unlock()
            } catch {
                condition.lock()
                if !failing {
                    logger.error("prepared files: cannot create files for incoming instances; receiving through temporary files",
                                 metadata: ["error": "\(error)"])
                }
                failing = true
                // Retry in a second (a full disk, say), unless asked to stop.
                _ = condition.wait(until: Date().addingTimeInterval(1))
                condition.unlock()
            }
        }
    }

    /// Creates `batch` files in the current numbered directory (a new one when it is full), then
    /// makes their entries durable with one directory fsync.
    private func makeBatch() throws(StoreError) -> [String] {
        if fileNumber >= perDirectory {
            directoryNumber += 1
            fileNumber = 0
        }
        let directory = runDirectory + "/" + Self.number(directoryNumber, width: 4)
        // Created durably (with its parents) the first time; a directory retention emptied and
        // removed is made again.
        try DurableFile.makeDirectories(directory)
        var made: [String] = []
        made.reserveCapacity(batch)
        let count = min(batch, perDirectory - fileNumber)
        for _ in 0..<count {
            let path = directory + "/" + Self.number(fileNumber, width: 5) + ".dcm"
            fileNumber += 1
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                let code = errno
                for created in made { unlink(created) }
                throw StoreError.io("cannot create \(path)", errno: code)
            }
            Glibc.close(fd)
            made.append(path)
        }
        try DurableFile.sync(directory: directory)
        return made
    }

    private static func number(_ n: Int, width: Int) -> String {
        let digits = String(n)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static let runStamp: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        return f
    }()
}
