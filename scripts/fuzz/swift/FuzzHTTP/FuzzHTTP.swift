// libFuzzer target: the operators' HTTP API. Two modes, chosen by the first byte's low bit:
//   0 (router): a request (method, path and query, body, token) goes through the API's router in
//     memory, with its error middleware and token check, over a small cache index: the answer is
//     never a 500 (an internal failure; the index is healthy) and JSON answers are valid JSON.
//   1 (wire): raw bytes reach NIO's HTTP/1.1 decoder with the API's limits and RequestLimitsHandler,
//     in front of a stand-in for Hummingbird that answers each request: no crash, and every
//     connection answered with `Connection: close` is closed once the linger is over.
// The router, middleware and limits handler are internal to GatewayAdmin: reached with
// `@testable import`, which needs `-enable-testing` (scripts/fuzz/run-swift passes it).
import DicomCore
import Foundation
import FuzzSupport
@testable import GatewayAdmin
import GatewayConfig
import GatewayStore
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Prometheus

/// DICOM_GATEWAY_FUZZ_VERBOSE=1: print each request and its answer (for reading a reproducer).
let verbose = ProcessInfo.processInfo.environment["DICOM_GATEWAY_FUZZ_VERBOSE"] == "1"
let quiet = Logger(label: "fuzz-http") { _ in SwiftLogNoOpLogHandler() }
let token = "fuzz-token-0123456789"

// MARK: The gateway behind the API

struct FixedControl: GatewayControl {
    let configuration: GatewayConfiguration
    let startedAt = Date(timeIntervalSince1970: 1_700_000_000)
    let lastReload: ReloadReport? = ReloadReport(time: Date(timeIntervalSince1970: 1_700_000_100), succeeded: false,
                                                  errors: ["gateway.yaml:3:9: error: gateway.port: 0 is not a port (1-65535)"])
    func reloadConfiguration() -> ReloadReport { ReloadReport(time: startedAt, succeeded: true, needsRestart: ["http.port"]) }
    func deliveryWorkChanged() {}
}

let configuration: GatewayConfiguration = {
    let yaml = """
        gateway: { ae_title: NETGW }
        nodes:
          TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source, destination] }
          HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 11113, roles: [destination, reporter] }
        """
    do {
        return try GatewayConfiguration.parse(yaml: yaml, sourceName: "fuzz.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
    } catch {
        fuzzFailure("the fixed configuration does not load: \(error)")
    }
}()

nonisolated(unsafe) var cacheRoot: String?  // Safe: set once, before fuzzing starts; read at exit.

/// Two studies, three instances, each queued for HUB and one also for a node no longer configured;
/// some audit rows. On /dev/shm when there is one: replay, cancel and escalate commit (fsync).
let cache: CacheIndex = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
    let root = base + "dgw-fuzz-http-\(getpid())"
    try? FileManager.default.removeItem(atPath: root)
    do {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let index = try CacheIndex(path: root + "/index.sqlite")
        let ingestor = InstanceIngestor(index: index, paths: InstancePath(root: root), logger: quiet)
        let uids = [("1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.1"), ("1.2.3.1", "1.2.3.1.1", "1.2.3.1.1.2"), ("1.2.3.2", "1.2.3.2.1", "1.2.3.2.1.1")]
        for (number, (study, series, sop)) in uids.enumerated() {
            let temporary = root + "/incoming-\(number)"
            FileManager.default.createFile(atPath: temporary, contents: Data(repeating: 0x5A, count: 64))
            let attributes = DicomAttributes([
                .studyInstanceUID: study, .seriesInstanceUID: series, .sopInstanceUID: sop, .sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                .patientID: "PID00\(number)", .patientName: "Doe^Jane", .modality: "CT", .studyDate: "20240102",
                .studyDescription: "Head \"CT\" \\ <script>", .accessionNumber: "ACC\(number)",
            ])
            var deliveries = [PendingDelivery(destination: "HUB", route: "imaging-to-hub", priorityRank: number)]
            if number == 2 { deliveries.append(PendingDelivery(destination: "OLD_NODE", route: "gone", priorityRank: 0)) }
            _ = try ingestor.ingest(
                temporaryPath: temporary, attributes: attributes, sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                transferSyntax: "1.2.840.10008.1.2.1", origin: .init(callingAE: "TRUSTA_PACS", peerHost: "127.0.0.1", node: "TRUST_A"),
                deliveries: deliveries, received: ReceivedFile(digest: (String(repeating: "0", count: 63) + "\(number)", 64)))
        }
        index.audit(AuditRecord(event: "query", actor: "HUB_READ", peer: "127.0.0.1", studyUID: "1.2.3.1", outcome: "1 match(es)"))
        index.flush()
        cacheRoot = root
        atexit { if let root = cacheRoot { try? FileManager.default.removeItem(atPath: root) } }
        return index
    } catch {
        fuzzFailure("cannot seed the index in \(root): \(error)")
    }
}()

/// The API's router as `AdminServer.run()` builds it, without and with a token.
let responders: [RouterResponder<BasicRequestContext>] = [false, true].map { withToken in
    let router = Router()
    let api = AdminAPI(index: cache, control: FixedControl(configuration: configuration), metrics: PrometheusCollectorRegistry(), logger: quiet)
    router.add(middleware: ErrorAnswers(logger: quiet))
    if withToken { router.add(middleware: TokenAuthentication(token: token)) }
    api.addRoutes(to: router)
    return router.buildResponder()
}

// MARK: Mode 0: a request through the router

/// The channel a request context names (the routes only read its allocator); thread-safe, unlike
/// EmbeddedChannel, as the routes run on the concurrency pool.
let contextChannel = NIOAsyncTestingChannel()

let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .head, .patch, .options, .get]

final class Collected: @unchecked Sendable {
    // Safe: written by one response body, read after it finished.
    var buffer = ByteBuffer()
}

struct CollectingWriter: ResponseBodyWriter {
    let into: Collected
    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        into.buffer.writeBuffer(&buffer)
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

final class Outcome<T>: @unchecked Sendable {
    // Safe: written by the task before it signals, read after the wait.
    var value: T?
}

/// Runs `work` on the concurrency pool and waits for it (libFuzzer calls us synchronously).
func waitFor<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
    let outcome = Outcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        outcome.value = await work()
        done.signal()
    }
    done.wait()
    return outcome.value!
}

/// Layout after the mode byte: a flags byte (bits 0-2 method, bit 3 the API has a token, bits 4-5
/// the Authorization header: none, the token, a wrong token, the raw line below), the path and
/// query up to LF, an Authorization line up to LF, then the body.
func fuzzRouter(_ reader: inout FuzzReader) {
    let flags = reader.byte()
    let method = methods[Int(flags & 7)]
    let withToken = flags & 8 != 0
    // What NIO's decoder lets through in a request target: no spaces or control characters.
    let path = String(decoding: reader.bytes(upTo: 0x0A).filter { $0 > 0x20 && $0 != 0x7F }, as: UTF8.self)
    let authorizationLine = reader.text(upTo: 0x0A)
    let body = reader.rest()
    var headers = HTTPFields()
    switch (flags >> 4) & 3 {
    case 1: headers[.authorization] = "Bearer " + token
    case 2: headers[.authorization] = "Bearer not-" + token
    case 3: headers[.authorization] = authorizationLine
    default: break
    }
    let request = Request(head: HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: path, headerFields: headers),
                          body: .init(buffer: ByteBuffer(bytes: body)))
    let responder = responders[withToken ? 1 : 0]
    let (status, contentType, answer, failure) = waitFor { () async -> (HTTPResponse.Status, String?, ByteBuffer, String?) in
        let context = BasicRequestContext(source: .init(channel: contextChannel, logger: quiet))
        do {
            let response = try await responder.respond(to: request, context: context)
            let collected = Collected()
            try await response.body.write(CollectingWriter(into: collected))
            return (response.status, response.headers[.contentType], collected.buffer, nil)
        } catch {
            // Hummingbird's own errors (404, 405) reach its server as errors; anything else would be a 500 there.
            if let error = error as? HTTPError { return (error.status, nil, ByteBuffer(), nil) }
            return (.internalServerError, nil, ByteBuffer(), "\(error)")
        }
    }
    if verbose { print("router: \(method) \(path) -> \(status.code) \(String(buffer: answer).prefix(200))") }
    if status == .internalServerError {
        fuzzFailure("\(method) \(path) answered 500: \(failure ?? String(buffer: answer))")
    }
    if contentType?.hasPrefix("application/json") == true {
        guard (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) != nil else {
            fuzzFailure("\(method) \(path) answered \(status.code) with a JSON content type and a body that is not JSON: \(String(buffer: answer).prefix(300))")
        }
    }
}

// MARK: Mode 1: bytes on the wire through the limits handler

/// Stands in for Hummingbird behind RequestLimitsHandler: answers each request, either as soon
/// as its head arrives (a GET route) or at its end (a route that reads the body), and fails the
/// request being read on a parser error as Hummingbird's body reader does (400, Connection: close).
final class Answerer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let answerOnHead: Bool
    let closeAfterAnswer: Bool
    private var awaitingAnswer = false
    private(set) var requests = 0

    init(answerOnHead: Bool, closeAfterAnswer: Bool) {
        self.answerOnHead = answerOnHead
        self.closeAfterAnswer = closeAfterAnswer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requests += 1
            awaitingAnswer = true
            if answerOnHead { answer(context, .ok, close: closeAfterAnswer) }
        case .body:
            break
        case .end:
            if awaitingAnswer { answer(context, .ok, close: closeAfterAnswer) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if awaitingAnswer { answer(context, .badRequest, close: true) } else { context.close(promise: nil) }
    }

    private func answer(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, close: Bool) {
        awaitingAnswer = false
        var head = HTTPResponse(status: status)
        head.headerFields[.contentLength] = "3"
        if close { head.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(string: "{}\n"))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// Layout after the mode byte: a flags byte (bit 0 answer on head, bit 1 every answer closes,
/// bits 2-7 the size of the pieces the bytes arrive in, 0 for all at once), then the bytes.
func fuzzWire(_ reader: inout FuzzReader) {
    let flags = reader.byte()
    let piece = Int(flags >> 2)
    let bytes = reader.rest()
    let channel = EmbeddedChannel()
    let answerer = Answerer(answerOnHead: flags & 1 != 0, closeAfterAnswer: flags & 2 != 0)
    do {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = HTTPLimits.maxHeaderFieldBytes
        limits.maxHeaderListSize = HTTPLimits.maxHeaderBytes
        limits.maxHeaderFieldCount = HTTPLimits.maxHeaderFields
        // As Hummingbird's HTTP1Channel sets up a connection, with the API's limits handler.
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try channel.pipeline.syncOperations.addHandler(RequestLimitsHandler(logger: quiet))
        try channel.pipeline.syncOperations.addHandler(answerer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50000)).wait()
    } catch {
        fuzzFailure("cannot set up the pipeline: \(error)")
    }
    var offset = 0
    while offset < bytes.count, channel.isActive {
        let end = piece == 0 ? bytes.count : min(bytes.count, offset + piece)
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
        offset = end
    }
    // Everything written, then the linger of a refused or closing connection.
    var written = ByteBuffer()
    func drain() {
        while let part = try? channel.readOutbound(as: ByteBuffer.self) {
            var part = part
            written.writeBuffer(&part)
        }
    }
    drain()
    channel.embeddedEventLoop.advanceTime(by: HTTPLimits.refusedLinger + .milliseconds(100))
    drain()
    let text = String(decoding: written.readableBytesView, as: UTF8.self).lowercased()
    let answers = text.components(separatedBy: "http/1.1 ").count - 1
    if verbose { print("wire: \(answerer.requests) request(s), \(answers) answer(s), open: \(channel.isActive)\n\(text.prefix(400))") }
    if answers > answerer.requests + 1 {
        fuzzFailure("\(answers) answers to \(answerer.requests) requests")
    }
    if text.contains("\r\nconnection: close\r\n"), channel.isActive {
        fuzzFailure("an answer said Connection: close and the connection is still open after the linger")
    }
    _ = try? channel.finish(acceptAlreadyClosed: true)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var reader = FuzzReader(data, size)
    if reader.byte() & 1 == 0 { fuzzRouter(&reader) } else { fuzzWire(&reader) }
    return 0
}

// MARK: Seeds

func writeSeeds(to directory: String) throws {
    func router(_ flags: UInt8, _ target: String, auth: String = "", body: String = "") -> [UInt8] {
        [0, flags] + Array(target.utf8) + [0x0A] + Array(auth.utf8) + [0x0A] + Array(body.utf8)
    }
    func wire(_ flags: UInt8, _ text: String) -> [UInt8] { [1, flags] + Array(text.utf8) }
    let post: UInt8 = 1, bearer: UInt8 = 0x10 | 8, raw: UInt8 = 0x30 | 8
    let seeds: [[UInt8]] = [
        router(0, "/health"), router(0, "/metrics"), router(0, "/"), router(0, "/api/v1/nodes"), router(0, "/api/v1/queues"),
        router(0, "/api/v1/deliveries?state=dead,failed&destination=HUB&study=1.2.3.1&limit=100"),
        router(0, "/api/v1/deliveries?limit=-5"), router(0, "/api/v1/studies?limit=10"), router(0, "/api/v1/studies/1.2.3.1"),
        router(0, "/api/v1/audit?limit=5&before=100&event=query&study=1.2.3.1"), router(0, "/api/v1/config"),
        router(post, "/api/v1/deliveries/replay", body: #"{"states": ["queued", "dead"], "destination": "HUB"}"#),
        router(post, "/api/v1/deliveries/cancel", body: #"{"ids": [1, 2, 3], "study_instance_uid": "1.2.3.2"}"#),
        router(post, "/api/v1/deliveries/cancel", body: #"{"destination": "OLD_NODE", "states": ["queued"]}"#),
        router(post, "/api/v1/studies/1.2.3.1/escalate", body: #"{"class": "stat"}"#),
        router(post | bearer, "/api/v1/config/reload"), router(raw, "/api/v1/queues", auth: "Bearer x"),
        router(0x20 | 8, "/health"),
        wire(0, "GET /api/v1/queues HTTP/1.1\r\nHost: x\r\n\r\n"),
        wire(1 | 2, "POST /api/v1/deliveries/replay HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n\r\n"),
        wire(4 << 2, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        wire(0, "POST /x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
        wire(0, "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
        wire(1, "GET / HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 120) + "\r\n"),
        wire(0, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ]
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (number, seed) in seeds.enumerated() {
        guard FileManager.default.createFile(atPath: directory + "/seed-\(number)", contents: Data(seed)) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

@_cdecl("FuzzHTTP_main")
public func fuzzHTTPMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv, callback: { data, size in fuzzHTTP(data ?? emptyInput, size) }) { arguments in
        guard arguments.first == "--write-seeds", arguments.count == 2 else { return nil }
        do { try writeSeeds(to: arguments[1]) } catch { print("cannot write seeds to \(arguments[1]): \(error)"); return 1 }
        return 0
    }
}
