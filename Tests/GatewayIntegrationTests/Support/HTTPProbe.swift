import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A blocking HTTP client for the gateway's API over loopback (URLSession).
struct HTTPProbe {
    struct Reply {
        let status: Int
        let body: Data
        let contentType: String
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON value (array or object).
        func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }
        func array() throws -> [[String: Any]] {
            guard let rows = try json() as? [[String: Any]] else { throw TestFailure("not a JSON array: \(text)") }
            return rows
        }
        func object() throws -> [String: Any] {
            guard let object = try json() as? [String: Any] else { throw TestFailure("not a JSON object: \(text)") }
            return object
        }
    }

    let port: Int
    var token: String?

    func get(_ path: String, token: String?? = .none) throws -> Reply {
        try request("GET", path, body: nil, token: token ?? self.token)
    }

    func post(_ path: String, json: String = "", token: String?? = .none) throws -> Reply {
        try request("POST", path, body: Data(json.utf8), token: token ?? self.token)
    }

    private func request(_ method: String, _ path: String, body: Data?, token: String?) throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: 30)
        request.httpMethod = method
        if let body, !body.isEmpty {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        final class Box: @unchecked Sendable {
            // Safe: written once by the completion handler before the semaphore is signalled.
            var result: Result<Reply, Error> = .failure(TestFailure("no answer"))
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                box.result = .success(Reply(status: http.statusCode, body: data ?? Data(),
                                            contentType: http.value(forHTTPHeaderField: "Content-Type") ?? ""))
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.result.get()
    }

    /// Polls `path` until `predicate` holds for its answer or `timeout` passes; the last answer.
    func wait(_ path: String, timeout: Double = 60, until predicate: (Reply) -> Bool) throws -> Reply {
        let deadline = Date().addingTimeInterval(timeout)
        var last = try get(path)
        while !predicate(last) && Date() < deadline {
            usleep(100_000)
            last = try get(path)
        }
        return last
    }
}
