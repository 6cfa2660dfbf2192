import DicomCore
import Foundation
import Logging

/// Start-up recovery. After a clean shutdown there is nothing to do. After a crash:
/// - a file under `instances/` without an index row (renamed into place, row not yet committed,
///   never acknowledged) is re-indexed;
/// - a prepared file under `files/` without a row (never used, or received and never
///   acknowledged) is removed: its sender was not told "success" and sends it again;
/// - a row whose file is missing, or whose prepared file is shorter or longer than the row says
///   or (for files written in the last minutes before the crash) holds other bytes, was never
///   acknowledged either (the file's flush had not finished): it is reported, removed from the
///   index with its file, and audited.
public struct CacheRecovery: Sendable {
    public struct Report: Sendable, Equatable {
        public var reindexed = 0
        public var missingFiles = 0
        /// Rows whose prepared file did not hold what the row says (flush unfinished at the crash).
        public var incompleteFiles = 0
        /// Prepared files never indexed, removed.
        public var discardedFiles = 0
        public var unreadable = 0
        public var skipped = false
    }

    let index: CacheIndex
    let paths: InstancePath
    let logger: Logger

    public init(index: CacheIndex, paths: InstancePath, logger: Logger) {
        self.index = index
        self.paths = paths
        self.logger = logger
    }

    /// This node's own marker (a cluster node's is under `nodes/<node>/`).
    var markerPath: String { paths.local + "/.clean-shutdown" }

    /// Marks a clean shutdown (call after every service has stopped).
    public func markCleanShutdown() {
        if index.needsReconciliation { return }
        FileManager.default.createFile(atPath: markerPath, contents: Data("\(Date())\n".utf8))
        try? DurableFile.sync(directory: paths.local)
    }

    /// Reconciles files and index unless the last run shut down cleanly. `readAttributes` parses
    /// a DICOM file (injected: this module does not parse DICOM itself).
    public func run(force: Bool = false, readAttributes: (String) throws -> (DicomAttributes, sopClass: String, transferSyntax: String))
        throws -> Report
    {
        var report = Report()
        let clean = FileManager.default.fileExists(atPath: markerPath)
        try? FileManager.default.removeItem(atPath: markerPath)
        try? DurableFile.sync(directory: paths.local)
        let firstStart = !FileManager.default.fileExists(atPath: paths.root + "/instances")
            && !FileManager.default.fileExists(atPath: paths.root + "/" + PreparedFiles.directoryName)
        if (clean || firstStart) && !force {
            report.skipped = true
            return report
        }
        logger.notice("recovery: the last run did not shut down cleanly; reconciling files and index")
        let indexed = try index.read { db in try Set(db.fetchValues(String.self, "SELECT path FROM instance")) }
        var onDisk = Set<String>()
        let base = paths.root + "/instances"
        if let walker = FileManager.default.enumerator(atPath: base) {
            while let item = walker.nextObject() as? String {
                guard item.hasSuffix(".dcm") else { continue }
                onDisk.insert("instances/" + item)
            }
        }
        for relative in onDisk.subtracting(indexed) {
            let absolute = paths.absolutePath(relative: relative)
            do {
                let (attributes, sopClass, ts) = try readAttributes(absolute)
                let (digest, size) = try DatasetDigest.sha256(ofFile: absolute)
                let metadata = InstanceMetadata(
                    attributes: attributes, sopClassUID: sopClass, transferSyntax: ts, path: relative, sizeBytes: size, sha256: digest,
                    origin: .init(callingAE: "", peerHost: "", node: nil))
                try index.write { db in
                    if try !db.exists("SELECT 1 FROM instance WHERE sopUID = ?", [metadata.sopUID]) {
                        try CacheIndex.insert(metadata, into: db)
                    }
                }
                report.reindexed += 1
            } catch {
                report.unreadable += 1
                logger.error("recovery: cannot re-index \(relative): \(error)")
            }
        }
        try reconcilePreparedFiles(&report)
        for relative in indexed.subtracting(onDisk) where !PreparedFiles.isPrepared(relative: relative) {
            report.missingFiles += 1
            logger.error("recovery: indexed instance has no file; removing it from the index", metadata: ["path": "\(relative)"])
            try index.write { db in
                try Self.removeInstance(path: relative, db)
                var audit = AuditRecord(event: "repair", outcome: "row removed", detail: "file \(relative) missing")
                try audit.insert(db)
            }
        }
        logger.notice("recovery finished", metadata: [
            "reindexed": "\(report.reindexed)", "missing_files": "\(report.missingFiles)", "unreadable": "\(report.unreadable)",
            "incomplete_files": "\(report.incompleteFiles)", "discarded_prepared_files": "\(report.discardedFiles)"])
        return report
    }

    /// Deletes an instance row and keeps the series/study counts and empty parents consistent.
    static func removeInstance(path: String, _ db: any IndexDatabase) throws {
        guard let instance = try db.fetchOne(InstanceRecord.self, "SELECT * FROM instance WHERE path = ?", [path]) else { return }
        try db.execute("DELETE FROM instance WHERE id = ?", [instance.id])
        try db.execute("UPDATE series SET instanceCount = instanceCount - 1 WHERE id = ?", [instance.seriesRef])
        try db.execute("""
            UPDATE study SET instanceCount = instanceCount - 1, sizeBytes = sizeBytes - ?
            WHERE id = (SELECT studyRef FROM series WHERE id = ?)
            """, [instance.sizeBytes, instance.seriesRef])
        let studyRef = try db.fetchValue(Int64.self, "SELECT studyRef FROM series WHERE id = ?", [instance.seriesRef])
        try db.execute("DELETE FROM series WHERE id = ? AND instanceCount <= 0", [instance.seriesRef])
        if let studyRef {
            let modalities = try db.fetchValues(String.self,
                "SELECT DISTINCT modality FROM series WHERE studyRef = ? AND modality <> '' ORDER BY modality", [studyRef])
            try db.execute(
                "UPDATE study SET seriesCount = (SELECT COUNT(*) FROM series WHERE studyRef = ?), modalities = ? WHERE id = ?",
                [studyRef, modalities.joined(separator: "\\"), studyRef])
        }
        try db.execute("DELETE FROM study WHERE instanceCount <= 0")
        try db.execute("DELETE FROM patient WHERE NOT EXISTS (SELECT 1 FROM study WHERE study.patientRef = patient.id)")
    }
}
