import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension CacheRecovery {
    /// Files written this long before the newest prepared file are taken as flushed: a crash can
    /// only have caught the last few in flight. Within it, each file's digest is checked.
    static let recentWindow: TimeInterval = 600

    /// After a crash, the prepared files (`files/`) against their rows: unindexed files are
    /// removed (never acknowledged); rows whose file is missing, of another size, or (when written
    /// recently) of other bytes are removed with their file (the flush had not finished, so never
    /// acknowledged either). Directories left empty are removed. Every removal is made durable.
    /// A cluster node looks at its own runs only (`files/<node>.<run>`): the others' files may be
    /// in use right now.
    func reconcilePreparedFiles(_ report: inout Report) throws {
        let runPrefix = paths.preparedRunPrefix
        let lower = PreparedFiles.directoryName + "/" + runPrefix
        // The first path after every one that starts with `lower` (paths are ASCII).
        let upper = String(lower.dropLast()) + String(UnicodeScalar(lower.unicodeScalars.last!.value + 1)!)
        let base = paths.root + "/" + PreparedFiles.directoryName
        guard FileManager.default.fileExists(atPath: base) else { return }
        struct Row { let size: Int64; let sha256: String }
        let rows = try index.read { db in
            var rows: [String: Row] = [:]
            // A prefix as a range (the same on both engines; LIKE ignores case on SQLite).
            try db.forEach("SELECT path, sizeBytes, sha256 FROM instance WHERE path >= ? AND path < ?", [lower, upper]) { row in
                rows[row["path"]] = Row(size: row["sizeBytes"], sha256: row["sha256"])
                return true
            }
            return rows
        }
        struct Found { let relative: String; let size: Int64; let modified: TimeInterval }
        var found: [Found] = []
        var directories = Set<String>()
        if let walker = FileManager.default.enumerator(atPath: base) {
            while let item = walker.nextObject() as? String {
                if !runPrefix.isEmpty, !item.hasPrefix(runPrefix) {
                    if !item.contains("/") { walker.skipDescendants() }
                    continue
                }
                let absolute = base + "/" + item
                var info = stat()
                guard stat(absolute, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    directories.insert(absolute)
                    continue
                }
                found.append(Found(relative: PreparedFiles.directoryName + "/" + item, size: Int64(info.st_size),
                                   modified: TimeInterval(info.st_mtim.tv_sec)))
            }
        }
        let newest = found.map(\.modified).max() ?? 0
        var touched = Set<String>()
        for file in found {
            let absolute = paths.absolutePath(relative: file.relative)
            guard let row = rows[file.relative] else {
                unlink(absolute)
                touched.insert((absolute as NSString).deletingLastPathComponent)
                if file.size > 0 { report.discardedFiles += 1 }
                continue
            }
            var complete = file.size == row.size
            if complete && file.modified >= newest - Self.recentWindow {
                complete = (try? DatasetDigest.sha256(ofFile: absolute).digest) == row.sha256
            }
            if complete { continue }
            report.incompleteFiles += 1
            logger.error("recovery: an indexed instance's file is incomplete (its flush had not finished); removing it",
                         metadata: ["path": "\(file.relative)"])
            try index.write { db in
                try Self.removeInstance(path: file.relative, db)
                var audit = AuditRecord(event: "repair", outcome: "row removed", detail: "file \(file.relative) incomplete")
                try audit.insert(db)
            }
            unlink(absolute)
            touched.insert((absolute as NSString).deletingLastPathComponent)
        }
        let onDisk = Set(found.map(\.relative))
        for relative in rows.keys where !onDisk.contains(relative) {
            report.missingFiles += 1
            logger.error("recovery: indexed instance has no file; removing it from the index", metadata: ["path": "\(relative)"])
            try index.write { db in
                try Self.removeInstance(path: relative, db)
                var audit = AuditRecord(event: "repair", outcome: "row removed", detail: "file \(relative) missing")
                try audit.insert(db)
            }
        }
        // Deepest first, so a run's directory goes once its numbered directories have.
        for directory in directories.sorted(by: { $0.count > $1.count }) where rmdir(directory) == 0 {
            touched.remove(directory)
            touched.insert((directory as NSString).deletingLastPathComponent)
        }
        for directory in touched where FileManager.default.fileExists(atPath: directory) {
            try? DurableFile.sync(directory: directory)
        }
    }
}
