/// What a node may ask of the gateway, and from where: the `allow`, `move_destinations` and
/// `hosts` keys of a node. The decision itself is ``AccessPolicy``.
///
/// ```yaml
/// nodes:
///   TRUST_A:
///     ae_title: TRUSTA_PACS
///     roles: [source]
///     hosts: [10.1.2.0/24, "2001:db8::/32"]
///     allow: [echo, store, find, move]
///     move_destinations: [TRUST_A]
/// ```
public struct NodeAccess: Sendable, Hashable {
    /// The services the node may use (`allow`); nil: the defaults of its roles
    /// (``defaultPermissions(roles:reportingSite:)``). An empty list allows nothing.
    public var allow: Set<NodePermission>?
    /// The nodes (by name) a C-MOVE of this node may send to (`move_destinations`); nil: any
    /// configured node with an address.
    public var moveDestinations: [String]?
    /// Where the node may call from (`hosts`: addresses or CIDR ranges); nil: anywhere.
    public var hosts: [AddressRange]?

    public init(allow: Set<NodePermission>? = nil, moveDestinations: [String]? = nil, hosts: [AddressRange]? = nil) {
        self.allow = allow
        self.moveDestinations = moveDestinations
        self.hosts = hosts
    }

    static let keys = ["allow", "move_destinations", "hosts"]

    /// What a node may do without `allow`: source echo, store; destination echo; reporter echo,
    /// store, find, move, get; a reporting site (a node with `reporting:`) also worklist.
    public static func defaultPermissions(roles: Set<NodeRole>, reportingSite: Bool) -> Set<NodePermission> {
        var permissions: Set<NodePermission> = []
        if roles.contains(.source) { permissions.formUnion([.echo, .store]) }
        if roles.contains(.destination) { permissions.insert(.echo) }
        if roles.contains(.reporter) { permissions.formUnion([.echo, .store, .find, .move, .get]) }
        if reportingSite { permissions.insert(.worklist) }
        return permissions
    }

    /// Reads the three keys of a node (any may be absent); problems are reported. The names in
    /// `move_destinations` are checked against the other nodes by ``NodesSection``.
    static func read(_ fields: ConfigMapping) -> NodeAccess {
        var access = NodeAccess()
        access.allow = fields.listed("allow", "[echo, store, find]", emptyMeans: "[] to allow nothing, or delete the key for the defaults of its roles") {
            $0.permissions(example: "[echo, store, find]")
        }
        access.moveDestinations = fields.listed("move_destinations", "[TRUST_A, HUB]", emptyMeans: "[] to allow no C-MOVE destination, or delete the key for any node") { item -> [String]? in
            guard let items = item.list("[TRUST_A, HUB]") else { return nil }
            let names = items.compactMap { $0.text("a node name") }
            return names.count == items.count ? names : nil
        }
        access.hosts = fields.listed("hosts", "[10.1.2.0/24]", emptyMeans: "or delete the key to accept it from anywhere") { item -> [AddressRange]? in
            guard let items = item.list("[10.1.2.0/24, 10.1.3.7]") else { return nil }
            let ranges = items.compactMap { $0.addressRange() }
            guard ranges.count == items.count else { return nil }
            if ranges.isEmpty {
                item.error(.invalidValue, "an empty hosts list would refuse the node from everywhere; list its addresses, "
                    + "or delete the key to accept it from anywhere")
                return nil
            }
            return ranges
        }
        return access
    }
}

/// A service a node may be allowed (`allow`, `gateway.unknown_callers_allow`).
public enum NodePermission: String, Sendable, CaseIterable, Comparable, ConfigChoice {
    /// C-ECHO (Verification).
    case echo
    /// C-STORE into the cache.
    case store
    /// C-FIND (Query).
    case find
    /// C-MOVE (Retrieve to a destination).
    case move
    /// C-GET (Retrieve on the same association).
    case get
    /// Taking part in the reporting worklist: the node's retrieves start the items allocated to
    /// it, and items may be claimed in its name through the HTTP API.
    case worklist

    static let noun = "a permission"

    /// The DICOM services only (no worklist), for callers that are not nodes.
    public static let dicomServices: Set<NodePermission> = [.echo, .store, .find, .move, .get]

    public static func < (a: NodePermission, b: NodePermission) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The DIMSE name in logs and audit entries (`C-STORE`), or `worklist`.
    public var operationName: String { self == .worklist ? "worklist" : "C-" + rawValue.uppercased() }
}

extension NodeConfig {
    /// What the node may do: its `allow`, else the defaults of its roles.
    public var permissions: Set<NodePermission> {
        access.allow ?? NodeAccess.defaultPermissions(roles: roles, reportingSite: reporting != nil)
    }
}

extension ConfigMapping {
    /// A list-valued key without a default: nil when absent; a key with no value is reported
    /// (`emptyMeans` says what to write instead), since an empty list and no list differ here.
    func listed<T>(_ key: String, _ example: String, emptyMeans: String, _ reader: (ConfigValue) -> T?) -> T? {
        guard let item = self[key] else { return nil }
        if item.isNull {
            item.error(.wrongType, "no value given; write a list such as \(example), \(emptyMeans)")
            return nil
        }
        return reader(item)
    }
}

extension ConfigValue {
    /// A list of permissions; each bad item is reported; duplicates are harmless.
    func permissions(example: String) -> Set<NodePermission>? {
        guard let items = list(example) else { return nil }
        let permissions = items.map { $0.choice(NodePermission.self) }
        guard permissions.allSatisfy({ $0 != nil }) else { return nil }
        return Set(permissions.compactMap { $0 })
    }

    /// An IPv4 or IPv6 address or CIDR range (no host names: nothing is looked up per association).
    func addressRange() -> AddressRange? {
        guard let raw = text("an address or CIDR range such as 10.1.2.0/24") else { return nil }
        do throws(AddressRange.ParseError) {
            return try AddressRange(parsing: raw)
        } catch {
            self.error(.invalidValue, error.message)
            return nil
        }
    }
}
