import Yams

extension GatewayConfiguration {
    /// A node called over TLS needs the gateway's own certificate and trusted CA (`gateway.tls`).
    func checkNodeTLS(_ nodesSection: ConfigMapping?) {
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
