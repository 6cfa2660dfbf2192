import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Every size and time limit of the HTTP API, in one place. The API is for operators and the
/// dashboard: its requests are a few hundred bytes, so the limits are generous for that use and
/// small enough that a careless or hostile client cannot make the gateway hold megabytes or
/// sockets.
///
/// What a client sees when it goes over one:
/// - request line plus headers over ``maxHeaderBytes``, or one of them (the request line, a
///   header name, a header value) over ``maxHeaderFieldBytes``, or more than
///   ``maxHeaderFields`` headers: `431`, `Connection: close`, and the connection is closed;
/// - a body over ``maxBodyBytes`` (announced by `Content-Length`, or found while reading a
///   chunked one): `413`, `Connection: close`, and the connection is closed;
/// - a JSON list over ``maxListItems`` items (such as `ids` of a replay or cancel): `400`
///   naming the limit; the connection stays open.
///
/// A refused connection is closed by the gateway: after the answer it stops sending (FIN), reads
/// and discards what the client still sends for at most ``refusedLinger`` (so the client can
/// read the answer instead of being reset), then closes the socket.
public enum HTTPLimits {
    /// The largest request body taken: 1 MiB.
    public static let maxBodyBytes = 1 << 20
    /// The request line and all header names and values together: 16 KiB.
    public static let maxHeaderBytes = 16 << 10
    /// The request line, one header name or one header value: 8 KiB.
    public static let maxHeaderFieldBytes = 8 << 10
    /// Header lines in one request.
    public static let maxHeaderFields = 100
    /// Items in one JSON list of a body (`ids` of a replay or cancel).
    public static let maxListItems = 10_000
    /// How long a refused connection is drained after its answer before it is closed.
    public static let refusedLinger = TimeAmount.seconds(2)
    /// A connection with no request in progress for this long is closed.
    public static let idleTimeout = TimeAmount.seconds(60)

    /// The HTTP/1.1 server with these limits: NIO's decoder limits for the head, and
    /// ``RequestLimitsHandler`` for bodies, refusals and closing refused connections.
    /// `bodyLimit`: the largest body of a request, ``maxBodyBytes`` but where a route takes more (STOW-RS).
    static func http1Server(logger: Logger, bodyLimit: @escaping @Sendable (HTTPRequest) -> Int = { _ in maxBodyBytes }) -> HTTPServerBuilder {
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: maxHeaderFieldBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderFields)
        return .http1(configuration: .init(
            additionalChannelHandlers: [RequestLimitsHandler(logger: logger, bodyLimit: bodyLimit)],
            idleTimeout: idleTimeout,
            httpDecoderConfiguration: decoder))
    }
}
