import DicomCore
import Foundation

/// Async SCU operations. Each call opens its own association on a thread of its own, so it never
/// blocks Swift's cooperative pool.
///
/// ```swift
/// let client = DicomClient(callingAE: "NETGW")
/// try await client.echo(DicomNode(parsing: "PACS@127.0.0.1:104"))
/// ```
public struct DicomClient: Sendable {
    public var callingAE: AETitle
    public var timeouts: DicomTimeouts

    public init(callingAE: AETitle, timeouts: DicomTimeouts = .default) {
        self.callingAE = callingAE
        self.timeouts = timeouts
    }

    public func echo(_ node: DicomNode) async throws {
        let (calling, timeouts) = (callingAE, timeouts)
        try await BlockingThread.run {
            let a = try DicomAssociation.open(
                to: node, callingAE: calling, contexts: [PresentationContextProposal(SOPClass.verification)], timeouts: timeouts)
            defer { a.release() }
            try a.echo()
        }
    }

    /// The result of sending one file.
    public struct StoreOutcome: Sendable {
        public let path: String
        public let sopInstanceUID: String
        public let result: Result<DIMSEResult, DicomNetworkError>
        public var succeeded: Bool {
            if case .success(let r) = result { return r.status.category == .success || r.status.category == .warning }
            return false
        }
    }

    /// Sends files over as few associations as their presentation contexts allow (128 per association).
    /// Unreadable files are reported, not sent; a transport failure ends the send (remaining files are reported failed).
    public func store(
        files: [String], to node: DicomNode, priority: DIMSEPriority = .medium,
        onEach: @escaping @Sendable (StoreOutcome) -> Void = { _ in }
    ) async throws -> [StoreOutcome] {
        let (calling, timeouts) = (callingAE, timeouts)
        return try await BlockingThread.run {
            try Self.storeBlocking(files: files, to: node, callingAE: calling, timeouts: timeouts, priority: priority, onEach: onEach)
        }
    }

    static func storeBlocking(
        files: [String], to node: DicomNode, callingAE: AETitle, timeouts: DicomTimeouts, priority: DIMSEPriority,
        onEach: (StoreOutcome) -> Void
    ) throws -> [StoreOutcome] {
        var outcomes: [StoreOutcome] = []
        var readable: [(String, DicomFileInfo)] = []
        for path in files {
            do {
                readable.append((path, try DicomFile.probe(path)))
            } catch {
                let outcome = StoreOutcome(path: path, sopInstanceUID: "", result: .failure(error))
                outcomes.append(outcome)
                onEach(outcome)
            }
        }
        for batch in batchesByContexts(readable) {
            let contexts = PresentationContextProposal.forStorage(of: batch.map(\.1))
            let association = try DicomAssociation.open(to: node, callingAE: callingAE, contexts: contexts, timeouts: timeouts)
            var broken: DicomNetworkError?
            for (path, info) in batch {
                let result: Result<DIMSEResult, DicomNetworkError>
                if let broken {
                    result = .failure(broken)
                } else {
                    do {
                        result = .success(try association.store(file: path, priority: priority))
                    } catch {
                        if error.code != .noPresentationContext && error.code != .file { broken = error }
                        result = .failure(error)
                    }
                }
                let outcome = StoreOutcome(path: path, sopInstanceUID: info.sopInstanceUID, result: result)
                outcomes.append(outcome)
                onEach(outcome)
            }
            if broken == nil { association.release() } else { association.abort() }
            if let broken { throw broken }
        }
        return outcomes
    }

    /// Splits files so that each batch needs at most 128 presentation contexts.
    static func batchesByContexts(_ files: [(String, DicomFileInfo)]) -> [[(String, DicomFileInfo)]] {
        var batches: [[(String, DicomFileInfo)]] = []
        var current: [(String, DicomFileInfo)] = []
        for file in files {
            let candidate = current + [file]
            if PresentationContextProposal.forStorage(of: candidate.map(\.1)).count > PresentationContextProposal.maximumPerAssociation {
                batches.append(current)
                current = [file]
            } else {
                current = candidate
            }
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// C-FIND; returns every match and the final status.
    public func find(
        _ node: DicomNode, model: QueryModel, keys: DicomAttributes, priority: DIMSEPriority = .medium
    ) async throws -> (matches: [DicomAttributes], result: DIMSEResult) {
        let (calling, timeouts) = (callingAE, timeouts)
        return try await BlockingThread.run {
            let a = try DicomAssociation.open(
                to: node, callingAE: calling, contexts: [PresentationContextProposal(model.findSOPClass)], timeouts: timeouts)
            defer { a.release() }
            nonisolated(unsafe) var matches: [DicomAttributes] = []
            let result = try a.find(model: model, keys: keys, priority: priority) { matches.append($0); return true }
            return (matches, result)
        }
    }

    public func move(
        _ node: DicomNode, model: QueryModel, keys: DicomAttributes, destination: AETitle, priority: DIMSEPriority = .medium,
        onProgress: @escaping @Sendable (SubOperationCounts) -> Void = { _ in }
    ) async throws -> RetrieveOutcome {
        let (calling, timeouts) = (callingAE, timeouts)
        return try await BlockingThread.run {
            let a = try DicomAssociation.open(
                to: node, callingAE: calling, contexts: [PresentationContextProposal(model.moveSOPClass)], timeouts: timeouts)
            defer { a.release() }
            return try a.move(model: model, keys: keys, destination: destination, priority: priority, onProgress: onProgress)
        }
    }

    public func get(
        _ node: DicomNode, model: QueryModel, keys: DicomAttributes, into directory: String, priority: DIMSEPriority = .medium,
        onProgress: @escaping @Sendable (SubOperationCounts) -> Void = { _ in }
    ) async throws -> RetrieveOutcome {
        let (calling, timeouts) = (callingAE, timeouts)
        return try await BlockingThread.run {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let contexts = PresentationContextProposal.forGet(model: model, storageSOPClasses: DicomFile.commonStorageSOPClasses)
            let a = try DicomAssociation.open(to: node, callingAE: calling, contexts: contexts, timeouts: timeouts)
            defer { a.release() }
            return try a.get(model: model, keys: keys, into: directory, priority: priority, onProgress: onProgress)
        }
    }
}
