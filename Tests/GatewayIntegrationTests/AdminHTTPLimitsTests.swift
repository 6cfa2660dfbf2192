import Foundation
import Testing

/// The HTTP API's limits against a real gateway process, over raw sockets: oversized bodies get
/// 413 and oversized heads 431, on connections the gateway then closes; long id lists get a 400
/// naming the limit (never SQL); refused requests leave no socket or memory behind.
@Suite(.serialized) struct AdminHTTPLimitsTests {
    static let twoMiB = 2 << 20

    /// A gateway with its HTTP API up; the test's own directory keeps it alive.
    static func startGateway(_ label: String) throws -> (GatewayProcess, TestDirectory) {
        let dir = TestDirectory(label)
        let gateway = try GatewayProcess(directory: dir)
        try gateway.start()
        try #require(Net.waitForListener(gateway.httpPort), "the HTTP API did not listen:\n\(gateway.peer?.output ?? "")")
        return (gateway, dir)
    }

    static func post(_ path: String, contentLength: Int, extraHeaders: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(contentLength)\r\n\(extraHeaders)\r\n"
    }

    /// A POST whose body is `count` ids.
    static func idsBody(_ count: Int) -> Data {
        Data(("{\"ids\": [" + Array(repeating: "1", count: count).joined(separator: ",") + "]}").utf8)
    }

    /// Sends a 2 MiB body to replay (announced with Content-Length); the answer.
    static func oversizedBody(port: Int, keepOpen: inout [RawHTTPConnection]) throws -> RawHTTPConnection.Answer {
        let connection = try RawHTTPConnection(port: port)
        connection.send(post("/api/v1/deliveries/replay", contentLength: twoMiB))
        connection.send(Data(repeating: UInt8(ascii: "x"), count: twoMiB))
        keepOpen.append(connection)
        return try connection.readAnswer()
    }

    /// Sends a GET with a 64 KiB header; the answer.
    static func oversizedHead(port: Int, keepOpen: inout [RawHTTPConnection]) throws -> RawHTTPConnection.Answer {
        let connection = try RawHTTPConnection(port: port)
        connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 64 << 10))\r\n\r\n")
        keepOpen.append(connection)
        return try connection.readAnswer()
    }

    /// /health and a POST that changes nothing still answer as usual.
    static func expectStillServing(_ gateway: GatewayProcess) throws {
        let http = HTTPProbe(port: gateway.httpPort)
        let health = try http.get("/health")
        #expect(health.status == 200, "\(health.text)")
        #expect(try health.object()["status"] as? String == "ok")
        let replay = try http.post("/api/v1/deliveries/replay", json: #"{"ids": [1, 2, 3]}"#)
        #expect(replay.status == 200, "\(replay.text)")
        #expect(try replay.object()["changed"] as? Int == 0)
    }

    @Test func aBodyOverTheLimitGets413AndTheConnectionIsClosed() throws {
        let (gateway, _) = try Self.startGateway("limits-body")
        var connections: [RawHTTPConnection] = []
        let announced = try Self.oversizedBody(port: gateway.httpPort, keepOpen: &connections)
        #expect(announced.status == 413, "\(announced.raw.prefix(500))")
        #expect(announced.headers["connection"] == "close", "\(announced.raw.prefix(500))")
        #expect(announced.closedByServer, "the gateway kept the refused connection open")
        #expect(announced.body.contains("1048576 bytes"), "\(announced.body)")

        // Chunked: no length up front; the gateway finds out while reading.
        let chunked = try RawHTTPConnection(port: gateway.httpPort)
        chunked.send("POST /api/v1/deliveries/replay HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = Data("10000\r\n".utf8) + Data(repeating: UInt8(ascii: " "), count: 0x10000) + Data("\r\n".utf8)
        for _ in 0..<(Self.twoMiB / 0x10000) {
            if !chunked.send(chunk) { break }  // the gateway may have answered and stopped taking it
        }
        chunked.send("0\r\n\r\n")
        let streamed = try chunked.readAnswer()
        #expect(streamed.status == 413, "\(streamed.raw.prefix(500))")
        #expect(streamed.headers["connection"] == "close")
        #expect(streamed.closedByServer, "the gateway kept the refused chunked connection open")
        try Self.expectStillServing(gateway)
        #expect(gateway.terminate() == 0)
    }

    @Test func aHeadOverTheLimitGets431AndTheConnectionIsClosed() throws {
        let (gateway, _) = try Self.startGateway("limits-head")
        var connections: [RawHTTPConnection] = []
        let answer = try Self.oversizedHead(port: gateway.httpPort, keepOpen: &connections)
        #expect(answer.status == 431, "\(answer.raw.prefix(500))")
        #expect(answer.headers["connection"] == "close", "\(answer.raw.prefix(500))")
        #expect(answer.closedByServer, "the gateway kept the refused connection open")
        #expect(answer.body.contains("16384 bytes"), "\(answer.body)")

        // A request within the limits on a kept-alive connection, then one over them.
        let keptAlive = try RawHTTPConnection(port: gateway.httpPort)
        keptAlive.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 6000))\r\n\r\n"
                       + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 20000))\r\n\r\n")
        let both = try keptAlive.readAnswer()
        #expect(both.status == 200, "\(both.raw.prefix(500))")
        #expect(both.body.contains("HTTP/1.1 431"), "the second request is answered 431 after the first: \(both.raw.prefix(1500))")
        #expect(both.closedByServer)
        try Self.expectStillServing(gateway)
        #expect(gateway.terminate() == 0)
    }

    @Test func aReplayOfMoreIdsThanTheLimitGets400NamingItAndNoSQL() throws {
        let (gateway, _) = try Self.startGateway("limits-ids")
        let pid = try #require(gateway.peer?.process.processIdentifier)
        let http = HTTPProbe(port: gateway.httpPort)
        #expect(try http.get("/health").status == 200)
        let rssBefore = ProcessFootprint.residentKilobytes(pid)

        for path in ["/api/v1/deliveries/replay", "/api/v1/deliveries/cancel"] {
            let body = Self.idsBody(520_000)
            let connection = try RawHTTPConnection(port: gateway.httpPort)
            connection.send(Self.post(path, contentLength: body.count, extraHeaders: "Connection: close\r\n"))
            connection.send(body)
            let answer = try connection.readAnswer()
            #expect(answer.status == 400, "\(path): \(answer.raw.prefix(500))")
            #expect(answer.body.contains("520000") && answer.body.contains("at most 10000"), "\(path): \(answer.body.prefix(500))")
            #expect(!answer.body.contains("SQL") && !answer.body.contains("SELECT"), "\(path): \(answer.body.prefix(500))")
            #expect(answer.raw.utf8.count < 1000, "\(path): the answer is \(answer.raw.utf8.count) bytes")
        }
        // At the limit the ids are taken (none of them exist: nothing changes).
        let atLimit = try http.post("/api/v1/deliveries/cancel", json: String(decoding: Self.idsBody(10_000), as: UTF8.self))
        #expect(atLimit.status == 200, "\(atLimit.text.prefix(500))")
        #expect(try atLimit.object()["changed"] as? Int == 0)

        let rssAfter = ProcessFootprint.residentKilobytes(pid)
        #expect(rssAfter - rssBefore < 30_000, "RSS grew from \(rssBefore) kB to \(rssAfter) kB")
        let output = gateway.peer?.output ?? ""
        let longest = output.split(separator: "\n").map(\.count).max() ?? 0
        #expect(longest < 2000, "a log line of \(longest) characters")
        #expect(!output.contains("SELECT"), "SQL in the gateway log:\n\(output.suffix(2000))")
        try Self.expectStillServing(gateway)
        #expect(gateway.terminate() == 0)
    }

    @Test func twentyRefusedRequestsLeaveNoSocketOrMemoryBehind() throws {
        let (gateway, _) = try Self.startGateway("limits-fds")
        let pid = try #require(gateway.peer?.process.processIdentifier)
        // Baseline over a raw connection (URLSession would keep one of its own open).
        let warmUp = try RawHTTPConnection(port: gateway.httpPort)
        warmUp.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(try warmUp.readAnswer().status == 200)
        warmUp.close()
        usleep(200_000)
        let fdsBefore = ProcessFootprint.openDescriptors(pid)
        let rssBefore = ProcessFootprint.residentKilobytes(pid)

        // The clients keep their ends open, as the ones that left sockets in FIN-WAIT-2 did:
        // the gateway must close its own.
        var connections: [RawHTTPConnection] = []
        for n in 0..<20 {
            let answer = n.isMultiple(of: 2)
                ? try Self.oversizedBody(port: gateway.httpPort, keepOpen: &connections)
                : try Self.oversizedHead(port: gateway.httpPort, keepOpen: &connections)
            #expect(answer.status == (n.isMultiple(of: 2) ? 413 : 431), "request \(n): \(answer.raw.prefix(300))")
        }
        var fdsAfter = ProcessFootprint.openDescriptors(pid)
        let deadline = Date().addingTimeInterval(8)
        while fdsAfter > fdsBefore + 2 && Date() < deadline {
            usleep(200_000)
            fdsAfter = ProcessFootprint.openDescriptors(pid)
        }
        #expect(fdsAfter <= fdsBefore + 2, "descriptors: \(fdsBefore) before, \(fdsAfter) after 20 refused requests")
        let rssAfter = ProcessFootprint.residentKilobytes(pid)
        #expect(rssAfter - rssBefore < 20_000, "RSS grew from \(rssBefore) kB to \(rssAfter) kB")
        print("fds \(fdsBefore) -> \(fdsAfter), RSS \(rssBefore) kB -> \(rssAfter) kB after 20 refused requests")
        for connection in connections { connection.close() }

        try Self.expectStillServing(gateway)
        #expect(gateway.terminate() == 0)
    }
}
