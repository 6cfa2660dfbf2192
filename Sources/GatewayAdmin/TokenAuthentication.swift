import Crypto
import Foundation
import Hummingbird

/// Every request must carry `Authorization: Bearer <token>` when a token is set, except the
/// dashboard page itself (static HTML with no data; it asks for the token) and `/health`, which
/// without the token says only whether the gateway is healthy. Tokens are compared by their
/// SHA-256 digests in constant time.
struct TokenAuthentication<Context: RequestContext>: RouterMiddleware {
    let expectedDigest: [UInt8]
    static var openPages: Set<String> { ["/", "/dashboard"] }

    init(token: String) {
        expectedDigest = Array(SHA256.hash(data: Data(token.utf8)))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get, Self.openPages.contains(request.uri.path) { return try await next(request, context) }
        let presented = request.headers[.authorization].flatMap { header in
            header.hasPrefix("Bearer ") ? Array(SHA256.hash(data: Data(header.dropFirst("Bearer ".count).utf8))) : nil
        }
        var authorized = false
        if let presented {
            var difference: UInt8 = 0
            for (a, b) in zip(presented, expectedDigest) { difference |= a ^ b }
            authorized = difference == 0
        }
        if authorized { return try await next(request, context) }
        if request.uri.path == "/health" {
            let full = try await next(request, context)
            return try JSONResponse.ok(["status": full.status == .ok ? "ok" : "degraded"], status: full.status)
        }
        guard presented != nil else {
            return unauthorized("this gateway's HTTP API needs 'Authorization: Bearer <token>' (the token is in http.token_file)")
        }
        return unauthorized("the bearer token is not this gateway's")
    }

    private func unauthorized(_ message: String) -> Response {
        var response = JSONResponse.error(.unauthorized, message)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"dicom-gateway\""
        return response
    }
}
