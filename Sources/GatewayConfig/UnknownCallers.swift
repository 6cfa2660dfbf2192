/// Callers whose AE title no node has: accepted by default only while the DICOM listener is on
/// loopback, so a newcomer's `echoscu`/`storescu`/`findscu` on the gateway's own host just work,
/// and a gateway listening on a network refuses strangers unless the file says otherwise.
extension GatewaySettings {
    /// True when `bind` is 127.0.0.1, ::1 or localhost: only this host can reach the listener.
    /// (Other 127/8 addresses count as "another address", so tests can stand for a network.)
    public var listensOnLoopbackOnly: Bool {
        ["127.0.0.1", "::1", "localhost"].contains(bind)
    }

    /// `accept_unknown_callers` when written, else whether the listener is on loopback only.
    public var acceptsUnknownCallers: Bool {
        acceptUnknownCallers ?? listensOnLoopbackOnly
    }

    /// What an accepted unknown caller may do: `unknown_callers_allow` when written, else every
    /// DICOM service on a loopback listener (as before permissions existed) and echo and store
    /// on any other address.
    public var unknownCallerPermissions: Set<NodePermission> {
        unknownCallersAllow ?? (listensOnLoopbackOnly ? NodePermission.dicomServices : [.echo, .store])
    }

    mutating func readUnknownCallers(_ section: ConfigMapping) {
        acceptUnknownCallers = section.optional("accept_unknown_callers") { $0.bool() }
        if section["accept_unknown_callers"]?.isNull == true {
            section["accept_unknown_callers"]?.error(.wrongType, "no value given; write true or false, or delete the key "
                + "(default: true when gateway.bind is 127.0.0.1 or ::1, false otherwise)")
        }
        unknownCallersAllow = section.listed("unknown_callers_allow", "[echo, store]",
                                             emptyMeans: "or delete the key for the default") { item -> Set<NodePermission>? in
            guard let permissions = item.permissions(example: "[echo, store]") else { return nil }
            if permissions.contains(.worklist) {
                item.error(.invalidValue, "worklist cannot be allowed to unknown callers (only a node with reporting: takes "
                    + "part in the worklist); use echo, store, find, move, get")
                return nil
            }
            return permissions
        }
    }
}
