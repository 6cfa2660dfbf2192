import Foundation

/// What an API token may do. Each role includes those below it: `read` < `operate` < `admin`.
public enum APIRole: String, Sendable, CaseIterable, Comparable, ConfigChoice {
    /// The dashboard, queries, metrics: every GET.
    case read
    /// Changes to the work: replay, cancel, escalate, worklist actions (the POSTs).
    case operate
    /// The gateway itself: configuration reload.
    case admin

    static let noun = "a token role"

    public static func < (a: APIRole, b: APIRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One API token (`http.tokens[]`, or `http.token_file`, which is an admin token). The token
/// itself is never held in the configuration: only its file or its SHA-256.
public struct APIToken: Sendable, Hashable {
    public enum Secret: Sendable, Hashable {
        /// A file whose first line is the token (read when the HTTP listener starts).
        case file(URL)
        /// The SHA-256 of the token (32 bytes).
        case sha256([UInt8])
    }

    /// Who holds it, for logs and the audit trail (`name`).
    public let name: String
    public let role: APIRole
    public let secret: Secret
    /// The node the token acts for (`node`): its DICOMweb requests are that node's, with its
    /// permissions and its identity view, as its DIMSE associations are. Nil: the network view
    /// and no node permissions (operations and admin tools; the role alone decides).
    public let node: String?

    public init(name: String, role: APIRole, secret: Secret, node: String? = nil) {
        self.name = name
        self.role = role
        self.secret = secret
        self.node = node
    }

    static let keys = ["name", "role", "node", "file", "sha256"]
}

/// `http.tls`: serve HTTPS with this certificate (chain, PEM) and private key (PEM).
public struct HTTPTLSSettings: Sendable, Hashable {
    public var certificate: URL
    public var privateKey: URL

    public init(certificate: URL, privateKey: URL) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    static let keys = ["certificate", "private_key"]
}

extension HTTPSettings {
    /// Every token the API accepts: `token_file` (as `admin`, named `token_file`) and `tokens`.
    public var allTokens: [APIToken] {
        (tokenFile.map { [APIToken(name: "token_file", role: .admin, secret: .file($0))] } ?? []) + tokens
    }

    /// Reads `tokens` and `tls`.
    mutating func readAccess(_ section: ConfigMapping, baseDirectory: URL) {
        if let item = section["tokens"] {
            tokens = Self.readTokens(item, baseDirectory: baseDirectory)
        }
        if let item = section["tls"], let fields = item.mapping(keys: HTTPTLSSettings.keys) {
            let files = ["certificate", "private_key"].map { key in
                fields.required(key, " (HTTPS needs a certificate and its private key, PEM files)") { value -> URL? in
                    guard let path = value.filePath() else { return nil }
                    let url = StorageSettings.resolve(path, against: baseDirectory)
                    guard FileManager.default.isReadableFile(atPath: url.path) else {
                        value.error(.invalidValue, "cannot read \(url.path)")
                        return nil
                    }
                    return url
                }
            }
            if let certificate = files[0], let key = files[1] {
                tls = HTTPTLSSettings(certificate: certificate, privateKey: key)
            }
        }
    }

    static func readTokens(_ item: ConfigValue, baseDirectory: URL) -> [APIToken] {
        guard let entries = item.list("[{name: ops-desk, role: operate, file: tokens/ops.token}]") else { return [] }
        var tokens: [APIToken] = []
        var names: [String: Int?] = ["token_file": nil]
        for entry in entries {
            guard let fields = entry.mapping(keys: APIToken.keys) else { continue }
            let name = fields.required("name", " (who holds the token, for the audit trail)") { value -> String? in
                guard let raw = value.text("a token name") else { return nil }
                guard !raw.isEmpty, raw.count <= 64,
                      raw.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) })
                else {
                    value.error(.invalidValue, "'\(raw.printable)' is not a token name; use 1-64 letters, digits, '_', '-' and '.'")
                    return nil
                }
                if let first = names[raw] {
                    let where_ = first.flatMap { $0 }.map { " (line \($0))" } ?? " (the name of http.token_file)"
                    value.error(.conflict, "token name '\(raw)' is already used\(where_); give each token its own name")
                    return nil
                }
                names[raw] = value.mark?.line
                return raw
            }
            let role = fields.required("role", " (read, operate or admin)") { $0.choice(APIRole.self) }
            // Checked against the nodes once they are read (``GatewayConfiguration/checkTokenNodes``).
            let node = fields.optional("node") { $0.text("a node name (a key of nodes:)") }
            let secret: APIToken.Secret?
            switch (fields.isSet("file"), fields.isSet("sha256")) {
            case (true, true):
                fields["sha256"]?.error(.conflict, "a token has either file or sha256, not both")
                secret = nil
            case (false, false):
                fields.reportMissing("file", " (or sha256: the token's SHA-256 in hex, e.g. from `printf %s TOKEN | sha256sum`)")
                secret = nil
            case (true, false):
                secret = fields.optional("file") { value -> APIToken.Secret? in
                    guard let path = value.filePath() else { return nil }
                    let url = StorageSettings.resolve(path, against: baseDirectory)
                    if let problem = tokenProblem(at: url) {
                        value.error(.invalidValue, problem)
                        return nil
                    }
                    return .file(url)
                }
            case (false, true):
                secret = fields.optional("sha256") { value -> APIToken.Secret? in
                    guard let raw = value.text("a SHA-256 in hex") else { return nil }
                    guard let bytes = Self.hexBytes(raw), bytes.count == 32 else {
                        value.error(.invalidValue, "'\(raw.printable)' is not a SHA-256 in hex (64 hex digits; colons allowed)")
                        return nil
                    }
                    return .sha256(bytes)
                }
            }
            if let name, let role, let secret { tokens.append(APIToken(name: name, role: role, secret: secret, node: node)) }
        }
        return tokens
    }

    /// Bytes of a hex string (case and colons ignored); nil when it is not hex.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.filter { $0 != ":" }.lowercased().utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

extension GatewayConfiguration {
    /// Each `http.tokens[].node` must name a node of `nodes:`; reported at the value, with a hint.
    func checkTokenNodes(_ httpSection: ConfigValue?, context: RoutingSection.Context) {
        guard let httpSection, case let .mapping(http) = httpSection.node,
              let pair = http.first(where: { $0.key.string == "tokens" }), case let .sequence(entries) = pair.value else { return }
        for (i, entry) in entries.enumerated() {
            guard case let .mapping(fields) = entry, let node = fields.first(where: { $0.key.string == "node" }),
                  let name = node.value.string else { continue }
            let value = ConfigValue(node: node.value, path: "\(httpSection.path).tokens[\(i)].node", keyMark: node.key.mark,
                                    sink: httpSection.sink)
            _ = value.knownNode(name, context: context)
        }
    }
}
