import DicomCore
import Foundation

/// The validated configuration of a gateway, read from one YAML file.
///
/// Every key is optional: an empty file gives the embedded defaults (AE title NETGW on
/// 127.0.0.1:11112, cache in `./var/dicom-gateway` next to the file).
///
/// ```swift
/// let config = try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: "/etc/dicom-gateway/gateway.yaml"))
/// if let hub = config.node(named: "HUB"), let address = hub.address { ... }
/// ```
public struct GatewayConfiguration: Sendable, Hashable {
    /// `gateway:` our AE title, listener and association limits.
    public var gateway = GatewaySettings()
    /// `limits:` what the gateway accepts from peers before parsing (hostile input).
    public var limits = LimitsSettings()
    /// `dicomweb:` DICOMweb on the HTTP listener (root, STOW-RS size limit).
    public var dicomweb = DicomWebSettings()
    /// `storage:` cache directory, index and disk policies.
    public var storage: StorageSettings
    /// `index:` the embedded SQLite index (default) or a PostgreSQL database shared by a cluster.
    public var index = IndexSettings()
    /// `cluster:` this node's name among gateway nodes sharing one PostgreSQL index.
    public var cluster = ClusterSettings()
    /// `delivery:` batches, retries, aging and giving up on queued deliveries.
    public var delivery = DeliverySettings()
    /// `identity:` how Patient IDs from different trusts are told apart and shown to the network.
    public var identity = IdentitySettings()
    /// `priors:` earlier studies fetched for comparison when a new study arrives.
    public var priors = PriorsSettings()
    /// `logging:` levels, format and patient data in logs.
    public var logging = LoggingSettings()
    /// `http:` the operators' API, dashboard and metrics listener.
    public var http = HTTPSettings()
    /// `audit:` PS3.15 audit messages to a syslog collector (ATNA repository) and/or a file.
    public var audit = AuditSettings()
    /// `nodes:` the peers the gateway knows, in file order; names and AE titles are unique.
    public var nodes: [NodeConfig] = []
    /// `priorities:` the rules that classify instances, in file order (first match wins).
    public var priorities: [PriorityRuleConfig] = []
    /// `routes:` where instances go, in file order (every matching route applies).
    public var routes: [RouteConfig] = []
    /// `reporting:` the shared reporting worklist: rules, deadlines, escalation, orphans.
    public var reporting = ReportingSettings()

    /// The defaults, with relative paths resolved against `baseDirectory`.
    public init(baseDirectory: URL) {
        storage = .defaults(relativeTo: baseDirectory)
    }

    /// The defaults used when no file is given: storage in `./var/dicom-gateway` under the
    /// current directory (read at each access).
    public static var embeddedDefault: GatewayConfiguration {
        GatewayConfiguration(baseDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// The node with this name (the key under `nodes:`), matched exactly.
    public func node(named name: String) -> NodeConfig? {
        nodes.first { $0.name == name }
    }

    /// The node whose AE title is `aeTitle`, e.g. to identify the caller of an association.
    /// AE titles are compared exactly (they are case-sensitive in DICOM).
    public func node(forCallingAE aeTitle: AETitle) -> NodeConfig? {
        nodes.first { $0.aeTitle == aeTitle }
    }

    /// The node whose AE title is `aeTitle` as received on the wire (space padding ignored);
    /// nil for a text that is not a valid AE title.
    public func node(forCallingAE aeTitle: String) -> NodeConfig? {
        guard let title = try? AETitle(aeTitle) else { return nil }
        return node(forCallingAE: title)
    }

    /// Who may do what: the permission decision for associations and operations.
    public var access: AccessPolicy { AccessPolicy(self) }
}
