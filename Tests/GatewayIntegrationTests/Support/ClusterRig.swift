import Foundation

/// Several `dicom-gateway serve` processes sharing one PostgreSQL index (a server of the test's
/// own) and one storage directory, with haproxy in front of their DICOM ports (TCP, round robin),
/// as issue 16's deployment: any node serves any association.
final class ClusterRig: @unchecked Sendable {
    // Safe: driven from the test's own thread only.
    let dir: TestDirectory
    let postgres: PostgresServer
    let storage: String
    let nodes: [GatewayProcess]
    let frontPort: Int
    private var haproxy: PeerProcess?

    /// `extraYAML` goes into every node's file (nodes, routes, ...): the file is the same on every
    /// node but for `cluster.node_id`.
    init(nodes count: Int, extraYAML: String) throws {
        dir = TestDirectory("cluster")
        let postgres = try PostgresServer(label: "cluster-pg")
        self.postgres = postgres
        let storage = dir.sub("shared-storage")
        self.storage = storage
        let passwordFile = dir.path + "/pg.password"
        try (postgres.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        frontPort = Net.freePort()
        nodes = try (0..<count).map { i in
            try GatewayProcess(directory: TestDirectory("gw\(i)"), extraYAML: """
                index: { url: "postgresql://\(postgres.user)@127.0.0.1:\(postgres.port)/\(postgres.database)", password_file: \(passwordFile) }
                cluster: { node_id: gw-\(i) }
                \(extraYAML)
                """, storagePath: storage)
        }
    }

    deinit {
        haproxy?.stop()
        for node in nodes { node.kill9() }
        postgres.stop()
    }

    /// Starts every node, then haproxy in front of them.
    func start() throws {
        for node in nodes { try node.start() }
        let servers = nodes.enumerated().map { i, node in
            "    server gw\(i) 127.0.0.1:\(node.port) check inter 300ms fall 2 rise 1"
        }.joined(separator: "\n")
        let config = """
            global
                maxconn 512
            defaults
                mode tcp
                timeout connect 2s
                timeout client 300s
                timeout server 300s
            frontend dicom
                bind 127.0.0.1:\(frontPort)
                default_backend gateways
            backend gateways
                balance roundrobin
            \(servers)

            """
        let path = dir.path + "/haproxy.cfg"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let proxy = PeerProcess("haproxy", ["-f", path, "-db"], logDirectory: dir.path)
        try proxy.start()
        guard Net.waitForListener(frontPort) else { throw TestFailure("haproxy did not start:\n\(proxy.output)") }
        haproxy = proxy
    }

    /// The destination `HUB` (storescp as HUB_READ on `port`), started; +uf gives a second copy of
    /// an instance a file of its own, so a duplicate delivery shows. Returns it and its folder.
    func startHub(port: Int) throws -> (peer: PeerProcess, received: String) {
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["+uf", "-aet", "HUB_READ", "-od", received, "\(port)"], logDirectory: dir.path)
        try hub.start()
        return (hub, received)
    }

    /// A value from the shared index, as psql prints it.
    func sql(_ query: String) throws -> String {
        try postgres.psql(query, database: postgres.database).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
