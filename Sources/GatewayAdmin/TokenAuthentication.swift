import Crypto
import Foundation
import Hummingbird

/// Every request but `/health` must carry `Authorization: Bearer <token>` when a token is set.
/// Tokens are compared by their SHA-256 digests in constant time.
struct TokenAuthentication<Context: RequestContext>: RouterMiddleware {
    let expectedDigest: [UInt8]

    init(token: String) {
        expectedDigest = Array(SHA256.hash(data: Data(token.utf8)))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            return unauthorized("this gateway's HTTP API needs 'Authorization: Bearer <token>' (the token is in http.token_file)")
        }
        let presented = Array(SHA256.hash(data: Data(header.dropFirst("Bearer ".count).utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expectedDigest) { difference |= a ^ b }
        guard difference == 0 else { return unauthorized("the bearer token is not this gateway's") }
        return try await next(request, context)
    }

    private func unauthorized(_ message: String) -> Response {
        var response = JSONResponse.error(.unauthorized, message)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"dicom-gateway\""
        return response
    }
}
