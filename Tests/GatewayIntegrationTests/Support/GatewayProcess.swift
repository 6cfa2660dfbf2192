import DicomCore
import Foundation

/// The real `dicom-gateway serve` binary as a child process, for tests that kill or signal it.
final class GatewayProcess: @unchecked Sendable {
    // Safe: used from the test's own thread only.
    let directory: TestDirectory
    let port: Int
    /// The HTTP API's port (`http.port`), free at construction.
    let httpPort: Int
    let configPath: String
    /// Whether the gateway's `http:` section is ours (on `httpPort`), not the test's.
    private let ownsHTTPPort: Bool
    /// The cache root (`storage.path`): `<directory>/storage` unless the test puts it elsewhere
    /// (e.g. on a lossyfs mount).
    let storageRoot: String
    private(set) var peer: PeerProcess?
    /// The PostgreSQL database of its index when the suite runs on PostgreSQL; nil on SQLite.
    let postgresDatabase: String?

    static var binary: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/dicom-gateway").path
    }

    /// `gatewayExtra`: more keys of the `gateway:` section, e.g. `tls: {...}`.
    init(directory: TestDirectory, extraYAML: String = "", storagePath: String? = nil, storageYAML: String = "",
         gatewayExtra: String = "") throws {
        self.directory = directory
        storageRoot = storagePath ?? directory.path + "/storage"
        port = Net.freePort()
        httpPort = Net.freePort()
        configPath = directory.path + "/gateway.yaml"
        // Every gateway under test has its own HTTP port, unless the test writes the section itself.
        ownsHTTPPort = !extraYAML.split(separator: "\n").contains { $0.hasPrefix("http:") }
        let http = ownsHTTPPort ? "http: { port: \(httpPort) }" : ""
        let postgres = try Self.postgresIndexYAML(directory: directory, label: "gwp")
        postgresDatabase = postgres?.database
        let yaml = (postgres?.yaml ?? "") + """
            gateway: { ae_title: NETGW, port: \(port), max_associations: 16\(gatewayExtra.isEmpty ? "" : ", " + gatewayExtra) }
            storage: { path: \(storageRoot), min_free_space: 0B\(storageYAML) }
            logging: { level: info }
            \(http)
            \(extraYAML)
            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var node: DicomNode { DicomNode(aeTitle: "NETGW", host: "127.0.0.1", port: port) }

    /// Starts `serve`; `environment` adds variables (e.g. a test failpoint) to this run only.
    @discardableResult
    func start(environment: [String: String] = [:]) throws -> PeerProcess {
        let p = PeerProcess(Self.binary, ["serve", "--config", configPath], environment: environment, logDirectory: directory.path)
        try p.start()
        guard Net.waitForListener(port) else { throw TestFailure("gateway did not start:\n\(p.output)") }
        // The DICOM port is bound while the gateway is still starting; its services (and its SIGTERM
        // handling) run once the HTTP listener, one of them, is up: a test that signals it at once
        // would otherwise kill it before it can stop gracefully.
        if ownsHTTPPort, !Net.waitForListener(httpPort) { throw TestFailure("gateway's HTTP listener did not start:\n\(p.output)") }
        peer = p
        return p
    }

    func kill9() {
        peer?.signal(SIGKILL)
        _ = peer?.wait(timeout: 10)
    }

    /// SIGTERM and wait; returns the exit status.
    func terminate(timeout: Double = 30) -> Int32 {
        peer?.signal(SIGTERM)
        return peer?.wait(timeout: timeout) ?? -1
    }
}

/// Which files storescu -v saw acknowledged with success (pairs "Sending file" with the next response).
func acknowledgedFiles(storescuOutput: String) -> [String] {
    var current: String?
    var acknowledged: [String] = []
    for line in storescuOutput.split(separator: "\n") {
        if let range = line.range(of: "Sending file: ") {
            current = String(line[range.upperBound...])
        } else if line.contains("Received Store Response"), let file = current {
            if line.contains("Success") && !line.contains("Warning") { acknowledged.append(file) }
            current = nil
        }
    }
    return acknowledged
}
