import DicomCore

/// One entry of the `nodes:` section: a peer application entity the gateway knows by name.
///
/// ```yaml
/// nodes:
///   TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source] }
/// ```
public struct NodeConfig: Sendable, Hashable {
    /// The name routes and commands refer to (`[A-Za-z0-9_-]+`, the key under `nodes`).
    public let name: String
    /// The node's AE title (`ae_title`, required, unique across nodes).
    public var aeTitle: AETitle
    /// Where the node listens (`host`), required for destinations; nil for a pure source.
    public var host: String?
    /// The node's DICOM port (`port`), required whenever `host` is given.
    public var port: Int?
    /// The issuer of the node's Patient IDs, e.g. an ODS code (`issuer`); IssuerOfPatientID.
    public var issuer: String?
    /// What the node does in the network (`roles`, required, at least one).
    public var roles: Set<NodeRole>
    /// Outbound associations opened to the node at once (`max_associations`, default 2).
    public var maxAssociations: Int = 2
    /// For a source: ask it regularly what it holds and retrieve what is not cached (`pull`).
    public var pull: PullSettings?
    /// For a reporter: C-FIND answers also list studies known at the sources but not cached,
    /// as NEARLINE with the gateway as RetrieveAETitle (`federated_query`, default false).
    public var federatedQuery = false
    /// For a reporter site on the worklist: its skills, capacity and hours (`reporting`).
    public var reporting: ReporterSettings?
    /// What the node may ask of the gateway, and from where (`allow`, `move_destinations`, `hosts`).
    public var access = NodeAccess()
    /// DICOM TLS to and from the node, and its certificate (`tls`, `certificate_sha256`, `certificate_subject`).
    public var security = NodeTLSSettings()

    public init(name: String, aeTitle: AETitle, host: String? = nil, port: Int? = nil, issuer: String? = nil,
                roles: Set<NodeRole>, maxAssociations: Int = 2) {
        self.name = name
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
        self.issuer = issuer
        self.roles = roles
        self.maxAssociations = maxAssociations
    }

    /// The address to connect to, when the node has one.
    public var address: DicomNode? {
        guard let host, let port else { return nil }
        var node = DicomNode(aeTitle: aeTitle, host: host, port: port)
        if security.required { node.tls = security.requirement }
        return node
    }

    public func hasRole(_ role: NodeRole) -> Bool { roles.contains(role) }

    static let keys = ["ae_title", "host", "port", "issuer", "roles", "max_associations", "pull", "federated_query",
                       "reporting"] + NodeAccess.keys + NodeTLSSettings.keys

    /// True for names made of letters, digits, `_` and `-`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
    }

    /// Reads one node; nil when a required part is missing or invalid (all problems reported).
    static func read(name: String, _ entry: ConfigValue) -> NodeConfig? {
        guard let fields = entry.mapping(keys: keys) else { return nil }
        let aeTitle = fields.required("ae_title") { $0.aeTitle() }
        let host = fields.optional("host") { $0.host(noun: "a host") }
        let port = fields.optional("port") { $0.int(in: 1...65535, noun: "a port") }
        let issuer = fields.optional("issuer") { $0.issuer() }
        let roles = fields.required("roles", " (a list of source, destination, reporter)") { $0.roles() }
        let maxAssociations = fields.read("max_associations", default: 2) {
            $0.int(in: 1...64, noun: "a number of associations")
        }
        if let roles, !roles.isDisjoint(with: [.destination, .reporter]) {
            let why = " (the gateway connects to \(roles.contains(.destination) ? "destinations" : "reporters"))"
            for key in ["host", "port"] where !fields.isSet(key) { fields.reportMissing(key, why) }
        } else if fields.isSet("host") != fields.isSet("port") {
            fields.reportMissing(fields.isSet("host") ? "port" : "host", " (host and port go together)")
        }
        let pull = fields.optional("pull") { $0.mapping(keys: PullSettings.keys) }.map(PullSettings.read)
        let federatedQuery = fields.read("federated_query", default: false) { $0.bool() }
        let access = NodeAccess.read(fields)
        if pull != nil, let roles {
            if !roles.contains(.source) { fields["roles"]?.error(.invalidValue, "a node with 'pull' needs the role source") }
            for key in ["host", "port"] where !fields.isSet(key) { fields.reportMissing(key, " (the gateway connects to sources it pulls from)") }
        }
        // Not `optional`: `reporting:` with nothing after it is a site without skills, an error.
        let reportingFields = fields["reporting"].flatMap { $0.mapping(keys: ReporterSettings.keys) }
        let reporting = reportingFields.flatMap { ReporterSettings.read($0, issuer: issuer) }
        if let reporting, let roles { checkRoles(of: reporting, roles: roles, fields) }
        // A site whose reporting: is invalid is left out, so rules needing its skills are not reported twice.
        guard let aeTitle, let roles, fields["reporting"] == nil || reporting != nil else { return nil }
        var node = NodeConfig(name: name, aeTitle: aeTitle, host: host, port: port, issuer: issuer,
                              roles: roles, maxAssociations: maxAssociations)
        node.pull = pull
        node.federatedQuery = federatedQuery
        node.reporting = reporting
        node.access = access
        node.security = NodeTLSSettings.read(fields)
        return node
    }

    /// A reporting site reports (role reporter) and, unless it retrieves on demand, is sent the
    /// images of what it is allocated (role destination).
    private static func checkRoles(of reporting: ReporterSettings, roles: Set<NodeRole>, _ fields: ConfigMapping) {
        guard let item = fields["roles"] else { return }
        if !roles.contains(.reporter) {
            item.error(.invalidValue, "a node with 'reporting' needs the role reporter; add reporter to its roles")
        }
        if !reporting.onDemand, !roles.contains(.destination) {
            item.error(.invalidValue, "a node with 'reporting' is sent the images of the studies allocated to it, "
                + "so it needs the role destination; add destination to its roles, or set on_demand: true in its "
                + "reporting if it retrieves them itself")
        }
    }
}

/// What a node does in the network. A node may have several roles.
public enum NodeRole: String, Sendable, CaseIterable, ConfigChoice {
    /// Sends studies to the gateway (C-STORE) or is pulled from; a trust PACS.
    case source
    /// Receives studies routed by the gateway.
    case destination
    /// Queries and retrieves from the gateway, and sends reports back.
    case reporter

    static let noun = "a node role"
}

extension ConfigValue {
    /// A non-empty list of roles; each bad item is reported.
    func roles() -> Set<NodeRole>? {
        guard let items = list("[source, destination]") else { return nil }
        guard !items.isEmpty else {
            error(.invalidValue, "a node needs at least one role: source, destination or reporter")
            return nil
        }
        let roles = items.map { $0.choice(NodeRole.self) }
        guard roles.allSatisfy({ $0 != nil }) else { return nil }
        return Set(roles.compactMap { $0 })
    }

    /// An issuer of patient IDs: 1-64 printable characters without backslash (VR LO).
    func issuer() -> String? {
        guard let raw = text("an issuer such as an ODS code") else { return nil }
        let trimmed = raw.trimmingDicomPadding()
        guard !trimmed.isEmpty, trimmed.count <= 64,
              trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\\" && $0.value != 0x7F })
        else {
            error(.invalidValue, "'\(raw.printable)' is not a valid issuer (1-64 characters, no backslash or control characters)")
            return nil
        }
        return trimmed
    }
}
