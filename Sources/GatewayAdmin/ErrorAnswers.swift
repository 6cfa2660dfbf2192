import Foundation
import GatewayStore
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Turns a failure inside a handler into a JSON error the caller can read: a bad request is the
/// caller's (400, as is a body that is not valid HTTP), a body over ``HTTPLimits/maxBodyBytes``
/// is 413 (the connection is then closed: see ``RequestLimitsHandler``), Hummingbird's own
/// errors keep their status, and anything else (the index cannot be read, a disk error) is ours:
/// 500 with a reference to the log line that says what failed, never the failure itself (it can
/// hold SQL, paths, megabytes).
struct ErrorAnswers<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let bad as BadRequest {
            return JSONResponse.error(.badRequest, bad.message)
        } catch is NIOTooManyBytesError {
            var response = JSONResponse.error(.contentTooLarge, RequestLimitsHandler.Refusal.bodyTooLarge(limit: HTTPLimits.maxBodyBytes).message)
            response.headers[.connection] = "close"
            return response
        } catch is HTTPParserError {
            // The body broke off or was not valid HTTP (a bad chunk): nothing more can be read.
            var response = JSONResponse.error(.badRequest, RequestLimitsHandler.Refusal.malformed.message)
            response.headers[.connection] = "close"
            return response
        } catch let error as HTTPError {
            return JSONResponse.error(error.status, error.body ?? "\(error.status)")
        } catch {
            let reference = InternalError.log(error, while: "\(request.method) \(request.uri.path)", logger: logger)
            return JSONResponse.error(.internalServerError, InternalError.message(reference))
        }
    }
}

/// An unexpected failure of the API: logged once with a short reference, and answered with only
/// that reference, so an operator can find the log line and a client learns nothing internal.
enum InternalError {
    /// What the client is told.
    static func message(_ reference: String) -> String {
        "internal error, see the gateway log (ref \(reference))"
    }

    /// Logs `error` (bounded, one line, no SQL text or arguments) with a new reference; returns it.
    /// `action` says what was being done, such as the method and path (no query: it can hold a
    /// study UID).
    static func log(_ error: any Error, while action: String, logger: Logger) -> String {
        let reference = newReference()
        logger.error("HTTP API request failed", metadata: [
            "ref": "\(reference)", "request": "\(action.prefix(200))", "error": "\(CacheIndex.summary(of: error))"])
        return reference
    }

    /// Eight hexadecimal digits, random: enough to tell apart the failures of one log.
    static func newReference() -> String {
        String(UInt32.random(in: .min ... .max), radix: 16).leftPadding(to: 8)
    }
}

extension String {
    fileprivate func leftPadding(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
