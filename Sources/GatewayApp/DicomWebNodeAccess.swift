import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayStore
import Hummingbird
import Logging

/// Per-node access for DICOMweb: a request made with a token bound to a node
/// (`http.tokens[].node`) is that node's, and needs the permission its DIMSE counterpart needs
/// (``AccessPolicy/operation(_:token:node:peer:service:)``): QIDO-RS `find` (C-FIND), WADO-RS and
/// WADO-URI `get` (C-GET), STOW-RS `store` (C-STORE), UPS-RS `worklist`. Checked before the
/// route runs (a STOW-RS body is not read); a refusal is answered 403 with the reason, logged and
/// audited as the DIMSE refusal is (event `security-alert`, outcome `permission-denied`).
///
/// A token without a node passes: its role alone decides (ops and admin tools), and it sees
/// patients as a node without a trust does (the network view).
struct DicomWebNodeAccess: RouterMiddleware {
    typealias Context = AdminRequestContext

    let permission: NodePermission
    /// The service in answers and the audit trail (`QIDO-RS`).
    let service: String
    let holder: ConfigurationHolder
    let index: CacheIndex
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let node = context.tokenNode else { return try await next(request, context) }
        let token = context.tokenName ?? "?"
        let peer = context.remoteAddress?.ipAddress ?? "?"
        guard let refusal = holder.current.access.operation(permission, token: token, node: node, peer: peer, service: service) else {
            return try await next(request, context)
        }
        let what = "\(request.method.rawValue) \(request.uri.path)"
        logger.warning("\(service) refused with 403: \(refusal.reason.rawValue)",
                       metadata: ["token": "\(token)", "node": "\(node)", "peer": "\(peer)", "request": "\(what)"])
        index.audit(AuditRecord(event: "security-alert", actor: token, peer: peer, outcome: refusal.reason.rawValue,
                                detail: String("\(refusal.detail): \(what)".prefix(2000))))
        GatewayMetrics.refusal(refusal.reason.rawValue)
        return Self.forbidden(refusal.detail)
    }

    /// 403 with `{"error": reason}`, the HTTP API's error shape.
    static func forbidden(_ reason: String) -> Response {
        var body = (try? JSONSerialization.data(withJSONObject: ["error": reason], options: [.sortedKeys])) ?? Data()
        body.append(0x0A)
        return Response(status: .forbidden, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension RouterGroup<AdminRequestContext> {
    /// This group's routes, behind ``DicomWebNodeAccess`` for `permission`.
    func nodeAccess(_ permission: NodePermission, service: String, holder: ConfigurationHolder, index: CacheIndex,
                    logger: Logger) -> RouterGroup<AdminRequestContext> {
        add(middleware: DicomWebNodeAccess(permission: permission, service: service, holder: holder, index: index, logger: logger))
    }
}
