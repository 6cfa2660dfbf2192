import DicomCore

/// The one place that decides who may associate and what each caller may do: per node `allow`
/// (or the defaults of its roles), `move_destinations` and `hosts`, and the unknown-caller policy
/// of `gateway:`. A pure function of the configuration; the DICOM services and the HTTP API ask
/// it and turn a ``Refusal`` into their answer (A-ASSOCIATE-RJ, 0x0124, 0xA801, 403), a log line
/// and an audit entry.
///
/// ```swift
/// let policy = configuration.access
/// if let refusal = policy.association(callingAE: "TRUSTA_PACS", peer: "10.1.2.3") { reject(refusal) }
/// if let refusal = policy.operation(.find, callingAE: "TRUSTA_PACS", peer: "10.1.2.3") { answer(0x0124) }
/// ```
public struct AccessPolicy: Sendable {
    public let configuration: GatewayConfiguration

    public init(_ configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    /// Why something was refused. `reason` is the audit outcome; `detail` names the node, AE
    /// title, address and operation (never patient data).
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        public enum Reason: String, Sendable {
            case unknownCaller = "unknown-caller"
            case hostNotAllowed = "host-not-allowed"
            case permissionDenied = "permission-denied"
            case moveDestinationDenied = "move-destination-denied"
        }

        public let reason: Reason
        public let detail: String
        public var description: String { "\(reason.rawValue): \(detail)" }
    }

    /// The node a calling AE title belongs to, or nil for an unknown caller.
    public func node(callingAE: String) -> NodeConfig? {
        configuration.node(forCallingAE: callingAE)
    }

    /// What the caller may do: its node's permissions, or the unknown-caller permissions.
    public func permissions(callingAE: String) -> Set<NodePermission> {
        node(callingAE: callingAE)?.permissions ?? configuration.gateway.unknownCallerPermissions
    }

    /// Nil when an association from `callingAE` at `peer` (an IP literal) may proceed. A node must
    /// call from one of its `hosts` and be allowed something; an unknown caller needs
    /// ``GatewaySettings/acceptsUnknownCallers``.
    public func association(callingAE: String, peer: String) -> Refusal? {
        let ae = callingAE.trimmingDicomPadding()
        guard let node = node(callingAE: ae) else {
            let gateway = configuration.gateway
            if !gateway.acceptsUnknownCallers {
                let why = gateway.acceptUnknownCallers == false
                    ? "gateway.accept_unknown_callers is false"
                    : "the gateway listens on \(gateway.bind), not loopback only, and gateway.accept_unknown_callers is not set"
                return Refusal(reason: .unknownCaller, detail: "calling AE '\(ae)' at \(peer) is not a configured node; \(why)")
            }
            if gateway.unknownCallerPermissions.isEmpty {
                return Refusal(reason: .unknownCaller,
                               detail: "calling AE '\(ae)' at \(peer) is not a configured node; gateway.unknown_callers_allow is empty")
            }
            return nil
        }
        if let hosts = node.access.hosts, !hosts.contains(where: { $0.contains(peer) }) {
            return Refusal(reason: .hostNotAllowed, detail: "node \(node.name) (AE '\(ae)') called from \(peer), "
                + "which is not in its hosts [\(hosts.map(\.description).joined(separator: ", "))]")
        }
        if node.permissions.isEmpty {
            return Refusal(reason: .permissionDenied, detail: "node \(node.name) (AE '\(ae)') at \(peer) is allowed nothing (allow: [])")
        }
        return nil
    }

    /// Nil when the caller may use `permission` (C-ECHO, C-STORE, ... or the worklist).
    public func operation(_ permission: NodePermission, callingAE: String, peer: String) -> Refusal? {
        let ae = callingAE.trimmingDicomPadding()
        if let node = node(callingAE: ae) {
            guard !node.permissions.contains(permission) else { return nil }
            let source = node.access.allow == nil ? "the defaults of its roles" : "its allow list"
            return Refusal(reason: .permissionDenied, detail: "node \(node.name) (AE '\(ae)') at \(peer) may not use "
                + "\(permission.operationName): not in \(source) [\(Self.list(node.permissions))]")
        }
        let allowed = configuration.gateway.unknownCallerPermissions
        guard !allowed.contains(permission) else { return nil }
        return Refusal(reason: .permissionDenied, detail: "unknown caller AE '\(ae)' at \(peer) may not use "
            + "\(permission.operationName): unknown callers may use [\(Self.list(allowed))] (gateway.unknown_callers_allow)")
    }

    /// Nil when an HTTP request made with the token `token`, bound to the node `node`
    /// (`http.tokens[].node`), may use `permission` (DICOMweb acts as that node does over DIMSE:
    /// QIDO-RS needs `find`, WADO `get`, STOW-RS `store`, UPS-RS `worklist`). `service` names
    /// the request in the detail (`QIDO-RS`). The node's `hosts` do not apply: they are DICOM
    /// addresses, and a web viewer calls from wherever its reporter is.
    public func operation(_ permission: NodePermission, token: String, node name: String, peer: String, service: String) -> Refusal? {
        guard let node = configuration.node(named: name) else {
            return Refusal(reason: .unknownCaller, detail: "token \(token) at \(peer) acts for node \(name), which is no longer configured")
        }
        guard !node.permissions.contains(permission) else { return nil }
        let source = node.access.allow == nil ? "the defaults of its roles" : "its allow list"
        let dimse = permission == .worklist ? "" : " (as \(permission.operationName) does)"
        return Refusal(reason: .permissionDenied, detail: "token \(token) of node \(node.name) (AE '\(node.aeTitle)') at \(peer) may not use "
            + "\(service), which needs \(permission.rawValue)\(dimse): not in \(source) [\(Self.list(node.permissions))]")
    }

    /// Nil when a C-MOVE of the caller may send to `destination` (a configured node): always,
    /// unless the caller is a node with `move_destinations` that does not name it.
    public func moveDestination(_ destination: NodeConfig, callingAE: String, peer: String) -> Refusal? {
        let ae = callingAE.trimmingDicomPadding()
        guard let node = node(callingAE: ae), let allowed = node.access.moveDestinations,
              !allowed.contains(destination.name) else { return nil }
        return Refusal(reason: .moveDestinationDenied, detail: "node \(node.name) (AE '\(ae)') at \(peer) asked for a C-MOVE to "
            + "\(destination.name) (AE '\(destination.aeTitle)'), which is not in its move_destinations [\(allowed.joined(separator: ", "))]")
    }

    /// Nil when items may be claimed for the worklist site `site` (a node name).
    public func worklistClaim(site: String) -> Refusal? {
        guard let node = configuration.node(named: site), !node.permissions.contains(.worklist) else { return nil }
        return Refusal(reason: .permissionDenied,
                       detail: "node \(node.name) may not take part in the worklist: worklist is not in its allow list [\(Self.list(node.permissions))]")
    }

    static func list(_ permissions: Set<NodePermission>) -> String {
        permissions.sorted().map(\.rawValue).joined(separator: ", ")
    }
}
