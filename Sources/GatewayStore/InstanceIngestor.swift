import DicomCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Files a received instance durably and indexes it: fsync the file, rename it into place, fsync
/// its directory, commit the rows (grouped). Only then may the sender be told "success".
public final class InstanceIngestor: Sendable {
    public enum DuplicatePolicy: String, Sendable { case keep, replace, reject }

    public let index: CacheIndex
    public let paths: InstancePath
    private let inFlight = SOPLocks()
    private let logger: Logger

    public init(index: CacheIndex, paths: InstancePath, logger: Logger) {
        self.index = index
        self.paths = paths
        self.logger = logger
    }

    /// Ingests the complete file at `temporaryPath` (consumed: moved into the cache or deleted).
    /// `attributes` are the file's parsed top-level attributes; their UIDs must be present.
    /// `received` carries what the receiver already knows: the data set's digest, computed while
    /// the bytes arrived, and a flush of the file already under way (see `PendingFlush`).
    public func ingest(
        temporaryPath: String, attributes: DicomAttributes, sopClassUID: String, transferSyntax: String,
        origin: InstanceMetadata.Origin, duplicatePolicy: DuplicatePolicy = .keep, deliveries: [PendingDelivery] = [],
        extras: IngestExtras = IngestExtras(), received: ReceivedFile? = nil
    ) throws(StoreError) -> IngestResult {
        let sop = attributes.string(.sopInstanceUID) ?? ""
        let study = attributes.string(.studyInstanceUID) ?? ""
        let series = attributes.string(.seriesInstanceUID) ?? ""
        guard !sop.isEmpty, !study.isEmpty, !series.isEmpty else {
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw StoreError("the data set lacks a Study, Series or SOP Instance UID")
        }
        inFlight.lock(sop)
        defer { inFlight.unlock(sop) }
        let (digest, size): (String, Int64)
        if let known = received?.digest { (digest, size) = known } else { (digest, size) = try DatasetDigest.sha256(ofFile: temporaryPath) }
        let flush = received?.flush
        // A file prepared in advance is filed where it is: its entry is already durable, so one
        // flush of its bytes is all it needs. Otherwise it is renamed into the study's directory.
        let prepared = paths.preparedRelative(temporaryPath)
        // On PostgreSQL a prepared file, which never lands on a cached copy's path, is indexed
        // without a read first: the write itself finds a cached copy and writes nothing then (one
        // round trip fewer on the acknowledgement path). A file renamed into place must not
        // replace a cached copy before its policy is known, so it is looked up first.
        let lookUpFirst = prepared == nil || index.dialect != .postgres
        if lookUpFirst {
            let existing: InstanceRecord?
            do { existing = try index.instance(sopUID: sop) } catch { throw StoreError("index read failed: \(error)") }
            if let existing {
                return try cached(existing, temporaryPath: temporaryPath, digest: digest, size: size, transferSyntax: transferSyntax,
                                  studyUID: study, origin: origin, policy: duplicatePolicy, flush: flush, deliveries: deliveries,
                                  extras: extras)
            }
        }
        let relative = prepared ?? paths.relativePath(study: study, series: series, sopInstance: sop)
        var metadata = InstanceMetadata(
            attributes: attributes, sopClassUID: sopClassUID, transferSyntax: transferSyntax, path: relative, sizeBytes: size,
            sha256: digest, origin: origin)
        metadata.deliveries = deliveries
        metadata.extras = extras
        // The index commit and the file's flush (fdatasync of a prepared file; fsync, rename and
        // directory fsync of a temporary one) run at the same time: both must be durable before
        // the sender hears "success", and recovery repairs either orphan (a row without a complete
        // file, or a file without a row) if we die in between.
        let written = WriteOutcome()
        let ticket: GroupCommitter.Ticket
        do {
            ticket = try index.submit { [lookUpFirst] db in
                written.indexed = try CacheIndex.insert(metadata, into: db, unlessCached: !lookUpFirst)
            }
        } catch {
            throw StoreError("index write failed for \(sop): \(error)")
        }
        var fileError: StoreError?
        do {
            if prepared != nil {
                if let flush { try flush.wait() } else { try DurableFile.sync(file: temporaryPath) }
            } else {
                try DurableFile.install(temporaryPath, at: paths.absolutePath(relative: relative), flushed: flush)
            }
        } catch {
            fileError = error
        }
        do {
            try index.wait(ticket)
        } catch {
            // Not indexed: take the file back so the cache holds nothing unindexed; the sender retries.
            let installed = paths.absolutePath(relative: relative)
            if prepared != nil {
                unlink(installed)  // never indexed: recovery removes it if it comes back
            } else if fileError == nil {
                unlink(installed)
                try? DurableFile.sync(directory: (installed as NSString).deletingLastPathComponent)
            }
            throw StoreError("index write failed for \(sop): \(error)")
        }
        if !written.indexed {
            // Cached already (found by the write): nothing was indexed, and the prepared file,
            // still unindexed where it is, is the copy the duplicate policy decides on.
            if let fileError { throw fileError }
            let existing: InstanceRecord?
            do { existing = try index.instance(sopUID: sop) } catch { throw StoreError("index read failed: \(error)") }
            guard let existing else {
                try? FileManager.default.removeItem(atPath: temporaryPath)
                throw StoreError("\(sop) was cached and removed while this copy arrived; send it again")
            }
            return try cached(existing, temporaryPath: temporaryPath, digest: digest, size: size, transferSyntax: transferSyntax,
                              studyUID: study, origin: origin, policy: duplicatePolicy, flush: flush, deliveries: deliveries,
                              extras: extras)
        }
        if let fileError {
            // Indexed but not filed: take the row back so the index never points at nothing. If even
            // that fails, make the next start reconcile (it removes rows whose file is missing).
            do {
                try index.write { db in try CacheRecovery.removeInstance(path: relative, db) }
            } catch {
                index.needsReconciliation = true
            }
            throw fileError
        }
        return .stored
    }

    /// An instance whose SOP Instance UID is cached already: the duplicate policy decides, and the
    /// copy kept gets what the routes ask for.
    private func cached(
        _ existing: InstanceRecord, temporaryPath: String, digest: String, size: Int64, transferSyntax: String, studyUID: String,
        origin: InstanceMetadata.Origin, policy: DuplicatePolicy, flush: PendingFlush?, deliveries: [PendingDelivery],
        extras: IngestExtras
    ) throws(StoreError) -> IngestResult {
        let result = try duplicate(existing, temporaryPath: temporaryPath, digest: digest, size: size, transferSyntax: transferSyntax,
                                   studyUID: studyUID, origin: origin, policy: policy, flush: flush, deliveries: deliveries)
        if result != .stored && result != .replaced { flush?.discard() }
        // A replacement queued its deliveries in the transaction that records the new content.
        if result != .replaced { try ensureDeliveries(deliveries, of: existing, origin: origin, studyUID: studyUID, extras: extras) }
        return result
    }

    /// A copy already cached still gets every delivery its routes ask for (durably, before the
    /// acknowledgement): one that was never queued (e.g. its file was re-indexed by recovery after
    /// a crash) is queued now; one already queued or done is left alone. (A replaced copy's
    /// deliveries are queued by `duplicate`, with the new content's row.)
    ///
    /// A copy indexed without its sender (re-indexed from its file by recovery after a crash, before
    /// its acknowledgement) learns it from the resend, and so does its study, whose origin decides
    /// where reports go home.
    ///
    /// Likewise the study's worklist item: a copy re-indexed by recovery before its acknowledgement
    /// never wrote one, and the resend's acknowledgement promises it.
    private func ensureDeliveries(_ deliveries: [PendingDelivery], of existing: InstanceRecord,
                                  origin: InstanceMetadata.Origin, studyUID: String, extras: IngestExtras) throws(StoreError) {
        guard let id = existing.id else { return }
        let learnsOrigin = existing.originNode == nil && origin.node != nil
        let needsItem = extras.worklistActive && extras.worklist != nil && !extras.isReportObject
            && !((try? index.hasWorklistItem(studyUID: studyUID)) ?? false)
        guard !deliveries.isEmpty || learnsOrigin || needsItem else { return }
        do {
            try index.write { db in
                if learnsOrigin {
                    try db.execute("""
                        UPDATE instance SET originNode = ?, callingAE = ?, peerHost = ? WHERE id = ? AND originNode IS NULL
                        """, [origin.node, origin.callingAE, origin.peerHost, id])
                    try db.execute("""
                        UPDATE study SET originNode = ? WHERE id = (SELECT studyRef FROM series WHERE id = ?) AND originNode IS NULL
                        """, [origin.node, existing.seriesRef])
                }
                try CacheIndex.insertDeliveries(deliveries, instanceRef: id, now: Date(), db)
                if needsItem {
                    try Worklist.ingested(studyUID: studyUID, instanceRef: id, sender: origin.node, extras: extras, now: Date(), db)
                }
            }
        } catch {
            throw StoreError("cannot queue the deliveries of \(existing.sopUID): \(error)")
        }
    }

    private func duplicate(
        _ existing: InstanceRecord, temporaryPath: String, digest: String, size: Int64, transferSyntax: String, studyUID: String,
        origin: InstanceMetadata.Origin, policy duplicatePolicy: DuplicatePolicy, flush: PendingFlush?, deliveries: [PendingDelivery]
    ) throws(StoreError) -> IngestResult {
        let cached = paths.absolutePath(relative: existing.path)
        if existing.sha256 == digest {
            let attributes = try? FileManager.default.attributesOfItem(atPath: cached)
            if let fileSize = attributes?[.size] as? NSNumber, fileSize.int64Value == existing.sizeBytes {
                try? FileManager.default.removeItem(atPath: temporaryPath)
                return .identicalDuplicate
            }
            // Indexed but the file is gone or damaged: this copy repairs it.
            try DurableFile.install(temporaryPath, at: cached, flushed: flush)
            index.audit(AuditRecord(event: "repair", actor: origin.callingAE, peer: origin.peerHost, studyUID: studyUID,
                                    outcome: "file restored", detail: "\(existing.path) re-filed from a resent copy"))
            return .stored
        }
        let actor = origin.callingAE
        switch duplicatePolicy {
        case .keep, .reject:
            try? FileManager.default.removeItem(atPath: temporaryPath)
            let result: IngestResult = duplicatePolicy == .keep ? .keptExisting : .rejectedDuplicate
            index.audit(AuditRecord(event: "duplicate", actor: actor, peer: origin.peerHost, studyUID: studyUID,
                                    outcome: duplicatePolicy == .keep ? "kept cached copy" : "refused",
                                    detail: "SOP instance \(existing.sopUID) arrived with different content"))
            logger.warning("duplicate SOP instance with different content", metadata: [
                "sop_instance_uid": "\(existing.sopUID)", "policy": "\(duplicatePolicy.rawValue)", "calling_ae": "\(actor)"])
            return result
        case .replace:
            // Never delete the stored copy silently: keep it under superseded/ and audit the change.
            let current = paths.absolutePath(relative: existing.path)
            let stamp = "\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(8))"
            let keep = paths.root + "/superseded/\(InstancePath.component(existing.sopUID))-\(stamp).dcm"
            try DurableFile.makeDirectories(paths.root + "/superseded")
            if FileManager.default.fileExists(atPath: current) {
                do {
                    try FileManager.default.linkItem(atPath: current, toPath: keep)
                    try DurableFile.sync(directory: paths.root + "/superseded")
                } catch {
                    try? FileManager.default.removeItem(atPath: temporaryPath)
                    throw StoreError("cannot keep the superseded copy of \(existing.sopUID) at \(keep): \(error)")
                }
            }
            // A prepared file stays where it is and the row moves to it in the commit that records
            // the new content: until then the row names the old file, untouched, so a crash before
            // the commit keeps the acknowledged copy whole (recovery removes the unindexed new one).
            // A temporary file is renamed over the old one, as before.
            let prepared = paths.preparedRelative(temporaryPath)
            if prepared != nil {
                if let flush { try flush.wait() } else { try DurableFile.sync(file: temporaryPath) }
            } else {
                try DurableFile.install(temporaryPath, at: current, flushed: flush)
            }
            do {
                try index.write { db in
                    try db.execute(
                        "UPDATE instance SET path = ?, sha256 = ?, sizeBytes = ?, transferSyntax = ?, receivedAt = ?, callingAE = ?, peerHost = ?, quarantine = NULL WHERE id = ?",
                        [prepared ?? existing.path, digest, size, transferSyntax, Date(), origin.callingAE, origin.peerHost,
                                    existing.id])
                    try db.execute(
                        "UPDATE study SET sizeBytes = sizeBytes + ? WHERE id = (SELECT studyRef FROM series WHERE id = ?)",
                        [size - existing.sizeBytes, existing.seriesRef])
                    var audit = AuditRecord(event: "duplicate", actor: actor, peer: origin.peerHost, studyUID: studyUID,
                                            outcome: "replaced", detail: "previous copy kept at \(keep)")
                    try audit.insert(db)
                    // The new content goes out again (one in flight, as soon as its send ends), in
                    // this transaction: committed apart, a crash between the two would leave the new
                    // row with its deliveries done, and the sender's retry would find an identical
                    // copy and be acknowledged without them. Every destination that had the old
                    // content gets the new one, even where the routes no longer send it.
                    if let id = existing.id {
                        let now = Date()
                        try CacheIndex.refreshDeliveries(deliveries, instanceRef: id, now: now, db)
                        try CacheIndex.requeueDeliveries(ofReplacedInstance: id, sender: origin.node, now: now, db)
                    }
                }
            } catch {
                throw StoreError("index write failed for \(existing.sopUID): \(error)")
            }
            if prepared != nil {
                // The old file, now unindexed (its copy under superseded/ stays), goes durably:
                // back after a power cut, recovery would take it for an orphan.
                unlink(current)
                try? DurableFile.sync(directory: (current as NSString).deletingLastPathComponent)
            }
            return .replaced
        }
    }
}

/// What the receiver of a file already did with it: the data set's SHA-256 and size, computed as
/// the bytes arrived (nil: read the file), and a flush of it already started.
public struct ReceivedFile: Sendable {
    public var digest: (digest: String, size: Int64)?
    public var flush: PendingFlush?

    public init(digest: (digest: String, size: Int64)? = nil, flush: PendingFlush? = nil) {
        self.digest = digest
        self.flush = flush
    }
}

/// Whether a submitted instance was indexed (false: its SOP Instance UID was cached already).
/// Written by the group commit's work, which may run twice (the same answer both times), and
/// read after its ticket.
private final class WriteOutcome: @unchecked Sendable {
    // Safe: written on the committer thread before the ticket completes, read after `wait`
    // (the committer's condition orders the two).
    var indexed = true
}

/// Serialises work on the same SOP Instance UID (two senders of one instance at once).
final class SOPLocks: @unchecked Sendable {
    // Safe: `busy` is only touched under `condition`.
    private let condition = NSCondition()
    private var busy = Set<String>()

    func lock(_ key: String) {
        condition.lock()
        while busy.contains(key) { condition.wait() }
        busy.insert(key)
        condition.unlock()
    }

    func unlock(_ key: String) {
        condition.lock()
        busy.remove(key)
        condition.broadcast()
        condition.unlock()
    }
}
