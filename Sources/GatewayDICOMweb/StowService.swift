import Foundation
import Hummingbird
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// STOW-RS (PS3.18 §10.5): `POST {root}/studies` and `POST {root}/studies/{study}` with a
/// `multipart/related; type="application/dicom"` body.
///
/// The body is streamed: each part is written to a file in the incoming directory as its bytes
/// arrive, never held whole in memory, up to `maxBytes` in all (413 beyond, and nothing is
/// stored). Once the body has ended well, each part is filed through ``StowIngest`` (the same
/// durable ingest as a C-STORE), and the answer, sent only when every instance is durable or
/// refused, is the Store Instances Response: 200 all stored, 202 some refused, 409 none stored;
/// 415 for a body that is not `multipart/related` of `application/dicom`, 400 for a malformed one.
public struct StowService: Sendable {
    let ingest: any StowIngest
    let maxBytes: Int64
    let logger: Logger
    /// Parts filed at once: the ingest waits on fsync, so a few overlap.
    static let concurrentIngests = 4

    public init(ingest: any StowIngest, maxBytes: Int64, logger: Logger) {
        self.ingest = ingest
        self.maxBytes = maxBytes
        self.logger = logger
    }

    /// Answers one STOW-RS request. `baseURL`: `{root}` as the client reaches it (RetrieveURLs).
    public func store(_ request: Request, studyUID: String?, caller: StowCaller, baseURL: String) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        guard let media = MediaType(contentType), media.type == "multipart/related" else {
            return Self.error(.unsupportedMediaType, "STOW-RS takes Content-Type: multipart/related; type=\"application/dicom\"; "
                + "boundary=...; this request has \(contentType.isEmpty ? "none" : "'\(contentType.prefix(200))'")")
        }
        if let type = media.parameters["type"], type.lowercased() != "application/dicom" {
            return Self.error(.unsupportedMediaType, "STOW-RS here takes parts of type application/dicom (Part 10 files); "
                + "this request's parts are '\(type.prefix(100))' (metadata with bulk data is not supported)")
        }
        guard let boundary = media.parameters["boundary"] else {
            return Self.error(.badRequest, "the Content-Type multipart/related has no boundary parameter")
        }
        if let studyUID, !Self.isUID(studyUID) {
            return Self.error(.badRequest, "'\(studyUID.prefix(80))' in the URL is not a Study Instance UID (digits and dots, at most 64)")
        }
        if let announced = request.headers[.contentLength].flatMap(Int64.init), announced > maxBytes {
            return tooLarge(announced: announced, caller: caller)
        }
        var parts = PartFiles(directory: ingest.incomingDirectory)
        defer { parts.removeAll() }
        do {
            var reader = try MultipartReader(boundary: boundary)
            var received: Int64 = 0
            for try await chunk in request.body {
                received += Int64(chunk.readableBytes)
                if received > maxBytes { return tooLarge(announced: nil, caller: caller) }
                try reader.feed(chunk.readableBytesView) { event in try parts.handle(event) }
            }
            try reader.finish()
        } catch let error as MultipartError {
            logger.notice("STOW-RS request refused: malformed multipart body", metadata: [
                "caller": "\(caller.name)", "peer": "\(caller.peer)", "reason": "\(error)"])
            return Self.error(.badRequest, "the multipart/related body cannot be read: \(error)")
        } catch let error as PartFiles.WriteError {
            logger.error("STOW-RS request failed: cannot write a part to the incoming directory", metadata: ["error": "\(error)"])
            return Self.error(.serviceUnavailable, "the gateway cannot write the request to its storage: \(error)")
        }
        let outcomes = await fileParts(parts.taken(), studyUID: studyUID, caller: caller)
        let response = StowResponse(outcomes: outcomes, baseURL: baseURL)
        let (stored, failed) = (response.stored.count, response.failed.count)
        ingest.finished(caller, stored: stored, failed: failed)
        if failed > 0 {
            let reasons = Set(response.failed.map { String(format: "0x%04X %@", $0.failureReason ?? 0, $0.comment) }).sorted()
            logger.notice("STOW-RS request: \(failed) instance(s) refused", metadata: [
                "caller": "\(caller.name)", "peer": "\(caller.peer)", "stored": "\(stored)", "reasons": "\(reasons.joined(separator: "; "))"])
        }
        return Response(status: .init(code: response.status), headers: [.contentType: "application/dicom+json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: response.json())))
    }

    /// Files each received part, a few at once, in the parts' order.
    private func fileParts(_ parts: [PartFiles.Part], studyUID: String?, caller: StowCaller) async -> [StowInstanceOutcome] {
        var outcomes = [StowInstanceOutcome?](repeating: nil, count: parts.count)
        await withTaskGroup(of: (Int, StowInstanceOutcome).self) { group in
            var next = 0
            func startNext() {
                guard next < parts.count else { return }
                let (i, part, ingest) = (next, parts[next], self.ingest)
                next += 1
                group.addTask {
                    if let refusal = part.refusal { return (i, refusal) }
                    return (i, await offPool { ingest.storeInstance(at: part.path, requiredStudyUID: studyUID, caller: caller) })
                }
            }
            for _ in 0..<Self.concurrentIngests { startNext() }
            for await (i, outcome) in group {
                outcomes[i] = outcome
                startNext()
            }
        }
        return outcomes.map { $0 ?? StowInstanceOutcome(failureReason: StowInstanceOutcome.Reason.processingFailure) }
    }

    private func tooLarge(announced: Int64?, caller: StowCaller) -> Response {
        logger.notice("STOW-RS request refused: body over dicomweb.stow_max_bytes", metadata: [
            "caller": "\(caller.name)", "peer": "\(caller.peer)", "content_length": "\(announced.map(String.init) ?? "chunked")",
            "limit": "\(maxBytes)"])
        var response = Self.error(.contentTooLarge, "the STOW-RS request body is over \(maxBytes) bytes, the most this gateway takes "
            + "in one request (dicomweb.stow_max_bytes); nothing was stored: send the instances in smaller requests")
        response.headers[.connection] = "close"
        return response
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body + Data([0x0A]))))
    }

    static func isUID(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.allSatisfy { $0 == "." || ("0"..."9").contains($0) }
    }
}

/// Runs blocking work (fsync, SQLite) on a dispatch thread, never on Swift's cooperative pool.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .utility).async { continuation.resume(returning: work()) }
    }
}
