import Foundation
import Hummingbird
import NIOCore

/// JSON answers and errors of the API, one shape for all: snake_case keys, ISO 8601 times, and
/// errors as `{"error": "what was wrong"}`.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    static func ok<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var data = try encoder.encode(value)
        data.append(0x0A)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: errorBody(message))))
    }

    /// `{"error": message}` and a line feed, as every error answer carries it.
    static func errorBody(_ message: String) -> Data {
        struct Failure: Encodable { var error: String }
        var data = (try? encoder.encode(Failure(error: message))) ?? Data(#"{"error": "internal error"}"#.utf8)
        data.append(0x0A)
        return data
    }

    /// The request's JSON body decoded as `T`; an empty body decodes as `{}`. A key outside
    /// `keys` is refused, so a misspelt filter never widens what a request acts on; so is a list
    /// of more than ``HTTPLimits/maxListItems`` items, before it is decoded. A body over `limit`
    /// bytes throws `NIOTooManyBytesError` (413, and the connection is closed: see
    /// ``RequestLimitsHandler``).
    static func body<T: Decodable>(_ request: Request, as type: T.Type, keys: Set<String>,
                                   limit: Int = HTTPLimits.maxBodyBytes) async throws -> T {
        let buffer = try await request.body.collect(upTo: limit)
        let bytes = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
            throw BadRequest("the body must be a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw BadRequest("unknown key '\(unknown)' in the body; this endpoint takes \(keys.sorted().joined(separator: ", "))")
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            if let list = value as? [Any], list.count > HTTPLimits.maxListItems {
                throw BadRequest("the body's \(key) lists \(list.count) items; at most \(HTTPLimits.maxListItems) are taken per request")
            }
        }
        do {
            return try decoder.decode(T.self, from: bytes)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw BadRequest("the body's \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type: "
                + context.debugDescription)
        } catch {
            throw BadRequest("the body is not the JSON object this endpoint takes")
        }
    }
}

/// An integer query parameter; nil when absent, 400 when present but not a whole number.
func integerParameter<T: FixedWidthInteger>(_ request: Request, _ name: String, as type: T.Type = Int.self) throws -> T? {
    guard let raw = request.uri.queryParameters.get(name) else { return nil }
    guard let value = T(raw) else { throw BadRequest("query parameter \(name)=\(raw) is not a whole number") }
    return value
}

/// A request the API refuses with 400 and this message.
struct BadRequest: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
