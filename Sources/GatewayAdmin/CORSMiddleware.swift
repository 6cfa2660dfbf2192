import HTTPTypes
import Hummingbird

/// Which browser origins may call which paths across origins (CORS): a web viewer served from
/// another site reading DICOMweb, for instance. Nothing is allowed unless configured.
public struct CORSPolicy: Sendable, Equatable {
    /// Origins exactly as browsers send them (`https://viewer.example.org`), or `*` for any.
    public let origins: [String]
    /// Paths the policy covers (a request path equal to one, or under it).
    public let pathPrefixes: [String]

    public init(origins: [String], pathPrefixes: [String]) {
        self.origins = origins
        self.pathPrefixes = pathPrefixes
    }

    func allows(origin: String, path: String) -> Bool {
        (origins.contains("*") || origins.contains(origin))
            && pathPrefixes.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }
}

/// Answers CORS preflights (OPTIONS with Access-Control-Request-Method) for allowed origins before
/// any token is asked for (a preflight carries none), and marks every answer to an allowed origin,
/// refusals (401, 403) included, so the page sees the real status. Other origins get no CORS
/// headers: the browser keeps the answer from the page.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policies: [CORSPolicy]
    static var exposed: String { "Content-Type, Content-Location, Content-Length, Warning" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], policies.contains(where: { $0.allows(origin: origin, path: request.uri.path) }) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers = HTTPFields()
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowMethods] = "GET, POST, PUT, OPTIONS"
            headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Authorization, Accept, Content-Type"
            headers[.accessControlMaxAge] = "600"
            headers[.vary] = "Origin"
            return Response(status: .noContent, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposed
        response.headers[.vary] = "Origin"
        return response
    }
}
