import DicomCore
import Foundation
import GatewayConfig
import GatewayRouting
import Testing

/// The nodes every test configuration starts with.
let testNodes = """
    nodes:
      TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source, destination] }
      TRUST_B: { ae_title: TRUSTB_PACS, issuer: RGT, roles: [source] }
      HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 11113, roles: [destination, reporter] }

    """

/// A router built from `rules` (YAML `priorities:` / `routes:` sections) after `testNodes`.
func router(_ rules: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Router {
    do {
        let config = try GatewayConfiguration.parse(yaml: testNodes + rules, sourceName: "rules.yaml",
                                                    baseDirectory: URL(fileURLWithPath: "/srv/gateway"))
        return Router(plan: RoutingPlan(configuration: config))
    } catch {
        Issue.record("rules do not parse:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// A router with one route, `test`, forwarding to HUB when `when` (a YAML flow mapping) holds.
func matcher(_ when: String, extra: String = "") throws -> Router {
    try router("routes:\n  - { name: test, when: \(when), \(extra)to: [HUB] }\n")
}

/// A CT image from TRUST_A at 10:00, with `values` by keyword.
func instance(_ values: [String: String] = [:], sopClass: String = SOPClass.ctImageStorage,
              from node: String? = "TRUST_A", callingAE: String? = "TRUSTA_PACS",
              priority: DIMSEPriority = .medium, at time: String = "10:00") -> RoutedInstance {
    var attributes = DicomAttributes()
    for (keyword, value) in values {
        attributes[DicomTag(parsing: keyword)!] = value
    }
    attributes[.sopClassUID] = sopClass
    return RoutedInstance(attributes: attributes, sendingNode: node, callingAE: callingAE,
                          dimsePriority: priority, timeOfDay: TimeOfDay(parsing: time)!)
}

extension Router {
    /// Whether the single test route forwards `instance`.
    func forwards(_ instance: RoutedInstance) -> Bool {
        route(instance).destinations == ["HUB"]
    }
}
