import Crypto
import Foundation
import GatewayConfig
import GatewayStore
import Hummingbird
import Logging
import NIOCore

/// Bearer tokens with roles. When any token is configured, every request must carry
/// `Authorization: Bearer <token>` whose role covers it (``requiredRole(method:path:)``), except
/// the dashboard pages themselves (static HTML with no data; they ask for the token) and
/// `/health`, which without a token says only whether the gateway is healthy.
///
/// Tokens are compared by their SHA-256 digests in constant time, against every configured
/// token whatever matches first. A missing or unknown token is answered 401, a token whose role
/// is too low 403; each failure is logged and audited (event `authentication`, outcome
/// `failure`, the remote address and the request's method and path; never the token).
struct TokenAuthentication<Context: RemoteAddressRequestContext & TokenNameRequestContext>: RouterMiddleware {
    struct Credential: Sendable {
        let name: String
        let role: APIRole
        let digest: [UInt8]
        /// The node the token acts for (`http.tokens[].node`), if any.
        var node: String? = nil
    }

    let credentials: [Credential]
    let audit: @Sendable (AuditRecord) -> Void
    let logger: Logger

    /// Static pages with no data: the dashboard and the worklist page (their scripts ask for a token).
    static var openPages: Set<String> { ["/", "/dashboard", "/dashboard/worklist"] }

    init(credentials: [Credential], logger: Logger, audit: @escaping @Sendable (AuditRecord) -> Void) {
        self.credentials = credentials
        self.logger = logger
        self.audit = audit
    }

    /// `admin` for the configuration reload, `read` for GET and HEAD, `operate` for every other
    /// method (the actions: replay, cancel, escalate, worklist claims and changes).
    static func requiredRole(method: HTTPRequest.Method, path: String) -> APIRole {
        if path.hasPrefix("/api/v1/config/reload") { return .admin }
        if method == .get || method == .head { return .read }
        return .operate
    }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    /// The credential whose digest equals `presented`: every credential is compared, each in
    /// constant time, so the time taken says nothing about which one matched or how closely.
    func match(_ presented: [UInt8]) -> Credential? {
        var found: Credential?
        for credential in credentials {
            var difference: UInt8 = credential.digest.count == presented.count ? 0 : 1
            for (a, b) in zip(presented, credential.digest) { difference |= a ^ b }
            if difference == 0 { found = credential }
        }
        return found
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if request.method == .get, Self.openPages.contains(path) { return try await next(request, context) }
        let header = request.headers[.authorization]
        let presented = header.flatMap { $0.hasPrefix("Bearer ") ? Self.digest(String($0.dropFirst("Bearer ".count))) : nil }
        let credential = presented.flatMap(match)
        let peer = context.remoteAddress?.ipAddress ?? "?"
        guard let credential else {
            if path == "/health" {
                if presented != nil { refuse(peer: peer, request: request, actor: "", why: "unknown token") }
                let full = try await next(request, context)
                return try JSONResponse.ok(["status": full.status == .ok ? "ok" : "degraded"], status: full.status)
            }
            guard presented != nil else {
                refuse(peer: peer, request: request, actor: "", why: header == nil ? "no token" : "not a bearer token")
                return unauthorized("this gateway's HTTP API needs 'Authorization: Bearer <token>' (see http.tokens and http.token_file)")
            }
            refuse(peer: peer, request: request, actor: "", why: "unknown token")
            return unauthorized("the bearer token is not one of this gateway's")
        }
        let needed = Self.requiredRole(method: request.method, path: path)
        guard credential.role >= needed else {
            refuse(peer: peer, request: request, actor: credential.name,
                   why: "token \(credential.name) has role \(credential.role.rawValue), \(needed.rawValue) needed")
            return JSONResponse.error(.forbidden, "the token '\(credential.name)' has the role \(credential.role.rawValue); "
                + "\(request.method.rawValue) \(path) needs \(needed.rawValue)")
        }
        var context = context
        context.tokenName = credential.name
        context.tokenNode = credential.node
        return try await next(request, context)
    }

    private func refuse(peer: String, request: Request, actor: String, why: String) {
        let what = "\(request.method.rawValue) \(request.uri.path)"
        logger.notice("HTTP authentication failed", metadata: ["peer": "\(peer)", "request": "\(what)", "reason": "\(why)"])
        audit(AuditRecord(event: "authentication", actor: actor, peer: peer, outcome: "failure",
                          detail: String("\(why): \(what) from \(peer)".prefix(500))))
    }

    private func unauthorized(_ message: String) -> Response {
        var response = JSONResponse.error(.unauthorized, message)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"dicom-gateway\""
        return response
    }
}

/// A request context that carries the authenticated token's name and the node it acts for.
public protocol TokenNameRequestContext {
    var tokenName: String? { get set }
    var tokenNode: String? { get set }
}

/// The request context of the HTTP API: Hummingbird's basic one plus the client's address,
/// for the audit trail.
public struct AdminRequestContext: RequestContext, RemoteAddressRequestContext, TokenNameRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The name of the token the request carried (`http.tokens[].name`), once authenticated;
    /// nil when the API takes no tokens.
    public var tokenName: String?
    /// The node the token acts for (`http.tokens[].node`): DICOMweb requests are that node's
    /// (its permissions, its identity view). Nil for tokens without a node, and without tokens.
    public var tokenNode: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
