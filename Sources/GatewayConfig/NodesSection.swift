import DicomCore
import Yams

/// Reading of the `nodes:` section and the checks that span several nodes.
enum NodesSection {
    /// Reads every node; names must be `[A-Za-z0-9_-]+`, AE titles unique and different from
    /// the gateway's own. Invalid nodes are reported and left out.
    static func read(_ section: ConfigMapping, gatewayAETitle: AETitle) -> [NodeConfig] {
        var nodes: [NodeConfig] = []
        var owners: [AETitle: (name: String, line: Int?)] = [:]
        for (name, entry) in section.entries {
            guard NodeConfig.isValidName(name) else {
                section.value.sink.error(.invalidValue, at: entry.keyMark, path: entry.path,
                    "'\(name.printable)' is not a valid node name; use letters, digits, '_' and '-' only")
                _ = NodeConfig.read(name: name, entry)  // still report the problems inside it
                continue
            }
            guard let node = NodeConfig.read(name: name, entry) else { continue }
            let aeMark = entry.node.mapping?["ae_title"]?.mark
            let aePath = entry.path + ".ae_title"
            if node.aeTitle == gatewayAETitle {
                section.value.sink.error(.conflict, at: aeMark, path: aePath,
                    "AE title '\(node.aeTitle)' is the gateway's own (gateway.ae_title); give the node its real AE title")
                continue
            }
            if let owner = owners[node.aeTitle] {
                let line = owner.line.map { " (line \($0))" } ?? ""
                section.value.sink.error(.conflict, at: aeMark, path: aePath,
                    "AE title '\(node.aeTitle)' is already used by node '\(owner.name)'\(line); each node needs its own AE title")
                continue
            }
            owners[node.aeTitle] = (name, aeMark?.line)
            nodes.append(node)
        }
        checkMoveDestinations(section, nodes: nodes)
        return nodes
    }

    /// Every name in a node's `move_destinations` must be a node the gateway can connect to.
    static func checkMoveDestinations(_ section: ConfigMapping, nodes: [NodeConfig]) {
        let declared = Set(section.entries.map(\.key))
        for (name, entry) in section.entries {
            guard let list = entry.node.mapping?["move_destinations"]?.sequence else { continue }
            for (index, item) in list.enumerated() {
                guard let target = item.scalar?.string else { continue }
                let path = entry.path + ".move_destinations[\(index)]"
                if !declared.contains(target) {
                    let hint = Suggestion.closest(to: target, among: Array(declared)).map { "; did you mean '\($0)'?" } ?? ""
                    section.value.sink.error(.invalidValue, at: item.mark, path: path,
                        "node '\(name)' lists move destination '\(target.printable)', which is not a node under nodes\(hint)")
                } else if let node = nodes.first(where: { $0.name == target }), node.address == nil {
                    section.value.sink.error(.invalidValue, at: item.mark, path: path,
                        "move destination '\(target)' has no host and port, so the gateway cannot send to it; give it both")
                }
            }
        }
    }
}
