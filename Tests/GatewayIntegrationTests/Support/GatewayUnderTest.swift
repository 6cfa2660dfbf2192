import DicomCore
import DicomNetwork
import Foundation
import GatewayApp
import GatewayConfig
import Logging

/// The gateway booted in-process on a free loopback port with its own storage directory.
final class GatewayUnderTest: @unchecked Sendable {
    // Safe: set up in init; `task` is only touched by the test's own thread.
    let directory: TestDirectory
    let configuration: GatewayConfiguration
    let gateway: Gateway
    /// Signalled when the acceptor thread ends.
    private let acceptorDone = DispatchSemaphore(value: 0)
    private var running = false

    init(label: String = "gw", configure: (inout GatewayConfiguration) -> Void = { _ in }) throws {
        directory = TestDirectory(label)
        var c = GatewayConfiguration(baseDirectory: URL(fileURLWithPath: directory.path))
        c.gateway.port = Net.freePort()
        c.http.port = Net.freePort()
        c.storage = StorageSettings(path: URL(fileURLWithPath: directory.path + "/storage"))
        c.storage.minFreeSpace = ByteCount(bytes: 0)
        // DICOM_GATEWAY_TEST_INDEX=postgres: the index on a database of its own on the process's
        // PostgreSQL server (scripts/test runs the routing, federation and worklist suites so too).
        if ProcessInfo.processInfo.environment["DICOM_GATEWAY_TEST_INDEX"] == "postgres" {
            let server = PostgresServer.shared
            let database = try server.createDatabase(prefix: label)
            let passwordFile = directory.path + "/pg.password"
            try (server.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
            c.index.postgres = .init(host: server.host, port: server.port, user: server.user, database: database)
            c.index.passwordFile = URL(fileURLWithPath: passwordFile)
            c.cluster.nodeID = "gw-test"
        }
        configure(&c)
        configuration = c
        var logger = Logger(label: "gateway-under-test")
        logger.logLevel = ProcessInfo.processInfo.environment["GATEWAY_TEST_LOG"] != nil ? .debug : .critical
        gateway = try Gateway(configuration: c, logger: logger)
        // The acceptor runs on a thread of its own, not in a Task: tests that block Swift's
        // cooperative threads (synchronous DCMTK tools, on a 2-core machine two threads) would
        // otherwise keep it from starting while the port, bound already, accepts connections
        // nobody answers.
        let server = gateway.dicomServer
        let done = acceptorDone
        let thread = Thread {
            server.acceptUntilStopped()
            done.signal()
        }
        thread.name = "test-acceptor"
        thread.start()
        running = true
        guard Net.waitForListener(port, host: host) else { throw TestFailure("gateway did not listen on \(host):\(port)") }
    }

    var port: Int { configuration.gateway.port }
    /// The address to call: gateway.bind when it is another loopback address (127.0.0.2 stands
    /// for a network address in the permission tests), else 127.0.0.1.
    var host: String {
        let bind = configuration.gateway.bind
        return bind.hasPrefix("127.") ? bind : "127.0.0.1"
    }
    var node: DicomNode { DicomNode(aeTitle: configuration.gateway.aeTitle, host: host, port: port) }
    var storageRoot: String { configuration.storage.path.path }

    /// Every instance file in the cache.
    func storedFiles() -> [String] { Storage.instanceFiles(in: storageRoot) }

    /// The file of an instance, as the index names it.
    func storedFile(sop: String) -> String? {
        guard let row = try? gateway.index.instance(sopUID: sop) else { return nil }
        return storageRoot + "/" + row.path
    }

    func stop() async {
        gateway.dicomServer.stop(grace: 2)
        if running {
            let done = acceptorDone
            _ = await OffPool.waitUntil(timeout: 30) { done.wait(timeout: .now()) == .success }
            running = false
        }
        gateway.shutDown()
    }

    deinit { gateway.dicomServer.stop(grace: 0) }
}
