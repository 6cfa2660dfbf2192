import Foundation
@testable import GatewayAdmin
import GRDB
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// How a failure inside a route becomes an answer: the caller's mistakes say what was wrong, an
/// oversized or broken body closes the connection, and anything unexpected is a 500 that names
/// only a reference, which the one bounded log line also carries.
@Suite struct ErrorAnswersTests {
    /// Every log entry, message and metadata, as one line each.
    final class RecordedLog: @unchecked Sendable {
        // Safe: `lines` is only touched under `lock`.
        private let lock = NSLock()
        private var entries: [String] = []
        var lines: [String] { lock.withLock { entries } }
        func append(_ line: String) { lock.withLock { entries.append(line) } }
    }

    struct RecordingHandler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(event.level) \(event.message) \(fields)")
        }
    }

    /// Gathers a response body.
    final class Collected: @unchecked Sendable {
        // Safe: written by one response body at a time, read after it finished.
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

    /// The answer of `ErrorAnswers` to a route that throws `error`, and what it logged.
    func answer(to error: any Error) async throws -> (Response, String, [String]) {
        let log = RecordedLog()
        let logger = Logger(label: "test") { _ in RecordingHandler(log: log) }
        let channel = EmbeddedChannel()
        let context = AdminRequestContext(source: .init(channel: channel, logger: logger))
        let request = Request(head: .init(method: .post, scheme: "http", authority: "127.0.0.1", path: "/api/v1/deliveries/replay"),
                              body: .init(buffer: ByteBuffer()))
        let response = try await ErrorAnswers<AdminRequestContext>(logger: logger).handle(request, context: context) { _, _ in throw error }
        let body = Collected()
        try await response.body.write(CollectingWriter(into: body))
        _ = try? await channel.close()
        return (response, String(buffer: body.buffer), log.lines)
    }

    @Test func anIndexErrorIsA500WithAReferenceAndTheReasonOnlyInTheLog() async throws {
        let statement = "SELECT d.id FROM delivery d WHERE d.id IN (" + Array(repeating: "?", count: 520_000).joined(separator: ",") + ")"
        let failure = DatabaseError(resultCode: .SQLITE_ERROR, message: "too many SQL variables", sql: statement)
        let (response, body, log) = try await answer(to: failure)
        #expect(response.status == .internalServerError)
        let pattern = /internal error, see the gateway log \(ref ([0-9a-f]{8})\)/
        let reference = try #require(body.firstMatch(of: pattern)?.1, "\(body)")
        #expect(!body.contains("SQL") && !body.contains("SELECT"), "\(body)")
        #expect(log.count == 1, "\(log)")
        let line = try #require(log.first)
        #expect(line.contains("ref=\(reference)"), "the log line carries the reference: \(line)")
        #expect(line.contains("too many SQL variables") && !line.contains("SELECT"), "\(line)")
        #expect(line.count < 600, "a log line of \(line.count) characters")
    }

    @Test func anyOtherUnexpectedErrorIsAlsoBoundedInTheLog() async throws {
        struct Huge: Error, CustomStringConvertible { var description: String { String(repeating: "internal detail ", count: 100_000) } }
        let (response, body, log) = try await answer(to: Huge())
        #expect(response.status == .internalServerError)
        #expect(!body.contains("internal detail"), "\(body.prefix(300))")
        #expect(log.count == 1 && log[0].count < 600, "\(log.first?.prefix(300) ?? "")")
    }

    @Test func aBodyOverTheLimitIs413AndClosesTheConnection() async throws {
        let (response, body, log) = try await answer(to: NIOTooManyBytesError(maxBytes: HTTPLimits.maxBodyBytes))
        #expect(response.status == .contentTooLarge)
        #expect(response.headers[.connection] == "close")
        #expect(body.contains("\(HTTPLimits.maxBodyBytes) bytes"), "\(body)")
        #expect(log.isEmpty, "the caller's mistake is not the gateway's error: \(log)")
    }

    @Test func aBrokenBodyIs400AndClosesTheConnection() async throws {
        let (response, body, _) = try await answer(to: HTTPParserError.invalidChunkSize)
        #expect(response.status == .badRequest)
        #expect(response.headers[.connection] == "close")
        #expect(body.contains("not valid HTTP/1.1"), "\(body)")
    }

    @Test func aBadRequestSaysWhatWasWrong() async throws {
        let (response, body, _) = try await answer(to: BadRequest("the body's ids lists 520000 items; at most 10000 are taken per request"))
        #expect(response.status == .badRequest)
        #expect(body.contains("at most 10000"), "\(body)")
        #expect(response.headers[.connection] == nil, "a 400 keeps the connection")
    }
}
