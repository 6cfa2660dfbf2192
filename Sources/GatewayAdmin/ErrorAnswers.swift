import Hummingbird
import Logging

/// Turns a failure inside a handler into a JSON error the caller can read, and logs it: a bad
/// request is the caller's (400), Hummingbird's own errors keep their status, anything else
/// (the index cannot be read, a disk error) is ours (500).
struct ErrorAnswers<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let bad as BadRequest {
            return JSONResponse.error(.badRequest, bad.message)
        } catch let error as HTTPError {
            return JSONResponse.error(error.status, error.body ?? "\(error.status)")
        } catch {
            logger.error("HTTP API request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return JSONResponse.error(.internalServerError, "the gateway could not answer: \(error)")
        }
    }
}
