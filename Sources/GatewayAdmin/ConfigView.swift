import Foundation
import GatewayConfig

/// The configuration in force, as `GET /api/v1/config` shows it: enough to see that a reload
/// took effect, without secrets (the token file is named, never read out).
struct ConfigView: Encodable {
    var aeTitle: String
    var dicomPort: Int
    var nodes: [String]
    var priorities: [String]
    var routes: [String]
    /// The reporting worklist's rules as `name: skill`; empty when the worklist is off.
    var reportingRules: [String]
    /// Reporter sites as `NAME: skills`.
    var reportingSites: [String]
    /// Where worklist events are POSTed: scheme, host and port only (a path or query may hold a secret).
    var reportingWebhook: String?
    var httpBind: String
    var httpPort: Int
    var tokenFile: String?
    /// The API tokens as `name: role` (never the token or its digest).
    var tokens: [String]
    /// Whether the API is served over HTTPS, and with which certificate file.
    var httpsCertificate: String?

    init(_ c: GatewayConfiguration) {
        aeTitle = c.gateway.aeTitle.value
        dicomPort = c.gateway.port
        nodes = c.nodes.map(\.name)
        priorities = c.priorities.map { "\($0.name): \($0.priorityClass.rawValue)" }
        routes = c.routes.map(\.name)
        reportingRules = c.reporting.rules.map { "\($0.name): \($0.skill)" }
        reportingSites = c.nodes.compactMap { node in
            node.reporting.map { "\(node.name): " + $0.skills.sorted().joined(separator: ", ") }
        }
        reportingWebhook = c.reporting.webhook.map(Self.origin)
        httpBind = c.http.bind
        httpPort = c.http.port
        tokenFile = c.http.tokenFile?.path
        tokens = c.http.allTokens.map { "\($0.name): \($0.role.rawValue)" }
        httpsCertificate = c.http.tls?.certificate.path
    }

    /// `scheme://host:port` of a URL, without user, path or query.
    static func origin(of url: URL) -> String {
        var components = URLComponents()
        components.scheme = url.scheme
        components.host = url.host
        components.port = url.port
        return components.string ?? (url.scheme ?? "") + "://" + (url.host ?? "")
    }
}
