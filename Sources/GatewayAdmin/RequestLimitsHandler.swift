import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Enforces ``HTTPLimits`` on one HTTP/1.1 connection, between NIO's decoder (with its header
/// limits) and Hummingbird, and closes every connection it refuses.
///
/// - A head the decoder refuses (too large: `HTTPParserError.headerOverflow`; malformed: any
///   other parser error) is answered here with 431 or 400 and never reaches the router.
/// - A `Content-Length` over ``HTTPLimits/maxBodyBytes`` is answered here with 413; the body is
///   read and dropped, never buffered.
/// - A chunked body that grows past the limit reaches the router only up to the part that
///   crosses it, then ends: the handler reading it (`collect(upTo:)` with the same limit) fails
///   and answers 413 with `Connection: close`. The rest is dropped.
/// - A body that breaks off or is not valid HTTP reaches its reader as the parser's error (a
///   400 from ``ErrorAnswers``), never as a body that ended early.
/// - After an answer with `Connection: close` (a refusal, or any route's), or the answer to a
///   request with `Connection: close`, the connection is closed: output first (FIN), then the
///   socket, once the client has closed its end or after ``HTTPLimits/refusedLinger``.
///   Hummingbird on its own half-closes and waits for the client, which leaves the socket in
///   FIN-WAIT-2 for as long as the client keeps its end open.
///
/// Answers to requests already being handled (pipelined) go out first; a refusal waits for them.
/// One instance per connection, used on its event loop only.
final class RequestLimitsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Why a request is refused here, with its status and what the client is told.
    enum Refusal {
        case bodyTooLarge(limit: Int), headersTooLarge, malformed

        var status: HTTPResponse.Status {
            switch self {
            case .bodyTooLarge: .contentTooLarge
            case .headersTooLarge: .requestHeaderFieldsTooLarge
            case .malformed: .badRequest
            }
        }

        var message: String {
            switch self {
            case .bodyTooLarge(let limit) where limit != HTTPLimits.maxBodyBytes:
                "the request body is over \(limit) bytes, the most this gateway takes in one STOW-RS request (dicomweb.stow_max_bytes); "
                    + "nothing was stored: send the instances in smaller requests"
            case .bodyTooLarge:
                "the request body is over \(HTTPLimits.maxBodyBytes) bytes, the most this API takes"
            case .headersTooLarge:
                "the request line and headers are over \(HTTPLimits.maxHeaderBytes) bytes, one of them is over "
                    + "\(HTTPLimits.maxHeaderFieldBytes) bytes, or there are over \(HTTPLimits.maxHeaderFields) headers"
            case .malformed:
                "the request is not valid HTTP/1.1"
            }
        }
    }

    let logger: Logger
    /// The largest body of a request (``HTTPLimits/maxBodyBytes`` but for STOW-RS).
    let bodyLimit: @Sendable (HTTPRequest) -> Int
    /// The limit of the request being read.
    private var currentLimit = HTTPLimits.maxBodyBytes
    /// Requests passed on whose answer has not been written to the end yet.
    private var answersOwed = 0
    /// A request's head is passed on and its end not yet.
    private var readingRequest = false
    /// Body bytes of the request being read.
    private var bodyBytes = 0
    /// The request being read said `Connection: close`: nothing may follow it.
    private var lastRequest = false
    /// Set once the connection is to be closed: everything read from then on is dropped.
    private var dropping = false
    /// Close the connection when the answers owed are written.
    private var closeWhenAnswered = false
    /// A refusal to write once the answers owed are written.
    private var pendingRefusal: Refusal?
    /// The last step of closing: the full close after the linger.
    private var lingerClose: Scheduled<Void>?
    /// The last answer is written: nothing more goes out.
    private var closing = false

    init(logger: Logger, bodyLimit: @escaping @Sendable (HTTPRequest) -> Int = { _ in HTTPLimits.maxBodyBytes }) {
        self.logger = logger
        self.bodyLimit = bodyLimit
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !dropping else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard !lastRequest else {
                dropping = true
                return
            }
            currentLimit = bodyLimit(head)
            if let length = head.headerFields[.contentLength].flatMap(Int.init), length > currentLimit {
                refuse(.bodyTooLarge(limit: currentLimit), context: context, detail: "content-length \(length)")
                return
            }
            if head.headerFields[.connection]?.lowercased().contains("close") == true {
                // Closed here after the answer, whatever the client does with its end.
                lastRequest = true
                closeWhenAnswered = true
            }
            bodyBytes = 0
            answersOwed += 1
            readingRequest = true
            context.fireChannelRead(data)
        case .body(let part):
            bodyBytes += part.readableBytes
            context.fireChannelRead(data)
            if bodyBytes > currentLimit {
                // The reader now holds more than the limit and fails; nothing more reaches it.
                readingRequest = false
                context.fireChannelRead(wrapInboundOut(.end(nil)))
                stopAccepting(context: context, detail: "chunked body over the limit")
            }
        case .end:
            readingRequest = false
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if dropping || closing { return }  // the decoder's complaints about what follows a refused request
        switch error {
        case let parserError as HTTPParserError where readingRequest:
            // A broken body (bad chunk, early end): the handler reading it must fail, not see it
            // end early. Its answer is the last.
            dropping = true
            closeWhenAnswered = true
            context.fireErrorCaught(parserError)
        case HTTPParserError.headerOverflow:
            refuse(.headersTooLarge, context: context, detail: "head over the limits")
        case let parserError as HTTPParserError:
            refuse(.malformed, context: context, detail: "\(parserError)")
        default:
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lingerClose?.cancel()
        lingerClose = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        lingerClose?.cancel()
        lingerClose = nil
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closing else {
            // Hummingbird answers a parse error of its own after ours; the client has its answer.
            promise?.fail(ChannelError.outputClosed)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection]?.lowercased() == "close" { closeWhenAnswered = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            answersOwed -= 1
            guard answersOwed == 0, pendingRefusal != nil || closeWhenAnswered else {
                context.write(data, promise: promise)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            if let promise { written.futureResult.cascade(to: promise) }
            context.write(data, promise: written)
            answeredEverything(context: context, lastWrite: written.futureResult)
        }
    }

    // MARK: Refusing and closing

    /// Stops taking requests and answers this one with `refusal` once earlier answers are out.
    private func refuse(_ refusal: Refusal, context: ChannelHandlerContext, detail: String) {
        logger.notice("HTTP API request refused; closing the connection", metadata: [
            "status": "\(refusal.status.code)", "reason": "\(detail.prefix(120))", "peer": "\(Self.peer(context))"])
        dropping = true
        pendingRefusal = refusal
        if answersOwed == 0 { answeredEverything(context: context, lastWrite: nil) }
    }

    /// Stops taking requests; the connection closes once the answers owed are written.
    private func stopAccepting(context: ChannelHandlerContext, detail: String) {
        logger.notice("HTTP API request body over the limit; closing the connection after the answer", metadata: [
            "reason": "\(detail)", "peer": "\(Self.peer(context))"])
        dropping = true
        closeWhenAnswered = true
        if answersOwed == 0 { answeredEverything(context: context, lastWrite: nil) }
    }

    /// Every answer owed is written (the last one completes `lastWrite`): write a pending
    /// refusal, and close once the connection is done and its last byte is sent.
    private func answeredEverything(context: ChannelHandlerContext, lastWrite: EventLoopFuture<Void>?) {
        var last = lastWrite
        if let refusal = pendingRefusal {
            pendingRefusal = nil
            closeWhenAnswered = true
            let body = ByteBuffer(bytes: JSONResponse.errorBody(refusal.message))
            var head = HTTPResponse(status: refusal.status)
            head.headerFields[.contentType] = "application/json; charset=utf-8"
            head.headerFields[.contentLength] = "\(body.readableBytes)"
            head.headerFields[.connection] = "close"
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.write(wrapOutboundOut(.end(nil)), promise: written)
            last = written.futureResult
        }
        guard closeWhenAnswered, !closing else { return }
        closing = true
        dropping = true
        context.flush()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        (last ?? context.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.closeAfterLinger(context: context)
        }
    }

    private static func peer(_ context: ChannelHandlerContext) -> String {
        context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
    }

    /// Half-closes (the client reads the answer, then end of stream), keeps reading and dropping
    /// what the client still sends, and closes for good when it hangs up or the linger is over.
    private func closeAfterLinger(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        lingerClose = context.eventLoop.scheduleTask(in: HTTPLimits.refusedLinger) {
            let (handler, context) = loopBound.value
            handler.lingerClose = nil
            context.close(promise: nil)
        }
        // Fails harmlessly when Hummingbird has half-closed already; the linger closes anyway.
        context.close(mode: .output, promise: nil)
    }
}
