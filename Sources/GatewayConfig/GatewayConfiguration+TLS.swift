import Yams

extension GatewayConfiguration {
    /// A node called over TLS needs the gateway's own certificate and trusted CA (`gateway.tls`).
    /// (When `gateway.tls` is written but invalid, its own errors say so; nothing more here.)
    func checkNodeTLS(_ nodesSection: ConfigMapping?, gatewaySection: ConfigValue?) {
        if case let .mapping(mapping)? = gatewaySection?.node, mapping.contains(where: { $0.key.string == "tls" }) { return }
        guard gateway.tls == nil, let nodesSection else { return }
        for node in nodes where node.security.required {
            guard let entry = nodesSection.entries.first(where: { $0.key == node.name })?.value else { continue }
            var item = entry
            if case let .mapping(mapping) = entry.node, let pair = mapping.first(where: { $0.key.string == "tls" }) {
                item = entry.child("tls", node: pair.value, keyMark: pair.key.mark)
            }
            item.error(.invalidValue, "node \(node.name) has tls: required, which needs gateway.tls (the gateway's "
                + "certificate, private key and trusted CA); configure it, or set tls: off")
        }
    }
}
