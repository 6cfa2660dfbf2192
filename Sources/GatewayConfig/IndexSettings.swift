import Foundation

/// The `index:` section: where the cache index lives. Absent, or without `url`: the embedded
/// SQLite index under `storage.path` (the default). With `url`: a PostgreSQL database shared by
/// every gateway node of a cluster (`storage.path` must then be shared storage too).
public struct IndexSettings: Sendable, Hashable {
    /// The PostgreSQL server and database (`url`, `postgresql://user@host:port/database`);
    /// nil for the embedded SQLite index.
    public var postgres: PostgresLocation?
    /// A file holding the PostgreSQL password (`password_file`, absolute after reading), read at start;
    /// the password never goes in this file.
    public var passwordFile: URL?
    /// Reader connections each node keeps open to PostgreSQL between reads (`readers`, default 4;
    /// a burst of reads opens more for a moment).
    public var readers = 4
    /// How long a node waits for PostgreSQL to accept a connection (`connect_timeout_seconds`, default 5).
    public var connectTimeoutSeconds = 5

    public init() {}

    public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var user: String
        public var database: String

        public init(host: String, port: Int = 5432, user: String, database: String) {
            self.host = host
            self.port = port
            self.user = user
            self.database = database
        }

        public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }
    }

    static let keys = ["url", "password_file", "readers", "connect_timeout_seconds"]

    static func read(_ section: ConfigMapping, baseDirectory: URL) -> IndexSettings {
        var s = IndexSettings()
        s.postgres = section.optional("url") { value -> PostgresLocation? in
            guard let text = value.text("a postgresql:// URL") else { return nil }
            return parse(text, value)
        }
        s.passwordFile = section.optional("password_file") { value -> URL? in
            guard let path = value.filePath() else { return nil }
            let url = StorageSettings.resolve(path, against: baseDirectory)
            guard FileManager.default.isReadableFile(atPath: url.path) else {
                value.error(.invalidValue, "cannot read the password file \(url.path); create it (mode 0600) with the "
                    + "PostgreSQL password on one line")
                return nil
            }
            return url
        }
        s.readers = section.read("readers", default: s.readers) { $0.int(in: 1...64, noun: "a number of connections") }
        s.connectTimeoutSeconds = section.read("connect_timeout_seconds", default: s.connectTimeoutSeconds) {
            $0.int(in: 1...120, noun: "a number of seconds")
        }
        return s
    }

    /// `postgresql://user@host[:port]/database` (or `postgres://`). A password in the URL is refused:
    /// it would be shown wherever the configuration is.
    static func parse(_ text: String, _ value: ConfigValue) -> PostgresLocation? {
        let example = "write postgresql://gateway@10.3.0.10:5432/dicom_gateway"
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://"), let url = URLComponents(string: text) else {
            value.error(.invalidValue, "'\(text.printable)' is not a PostgreSQL URL; \(example)")
            return nil
        }
        guard url.password == nil else {
            value.error(.invalidValue, "the URL holds a password; put it in password_file instead")
            return nil
        }
        guard let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty else {
            value.error(.invalidValue, "the URL needs a user and a host; \(example)")
            return nil
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/"), url.query == nil else {
            value.error(.invalidValue, "the URL needs a database name after the host, and no options; \(example)")
            return nil
        }
        return PostgresLocation(host: host, port: url.port ?? 5432, user: user, database: database)
    }
}

/// The `cluster:` section: this node's name among several gateway nodes sharing one PostgreSQL
/// index (the rest of the file is the same on every node).
public struct ClusterSettings: Sendable, Hashable {
    /// This node's name (`node_id`, default the host name): unique in the cluster; leases and
    /// the leader lock are held in its name.
    public var nodeID: String

    public init(nodeID: String = ClusterSettings.defaultNodeID) {
        self.nodeID = nodeID
    }

    public static var defaultNodeID: String { ProcessInfo.processInfo.hostName }

    static let keys = ["node_id"]

    static func read(_ section: ConfigMapping) -> ClusterSettings {
        var s = ClusterSettings()
        s.nodeID = section.read("node_id", default: s.nodeID) { value -> String? in
            guard let text = value.text("a node name") else { return nil }
            guard !text.isEmpty, text.count <= 64,
                  text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                value.error(.invalidValue, "node_id must be 1-64 letters, digits, '-', '_' or '.', such as gw-a")
                return nil
            }
            return text
        }
        return s
    }
}
