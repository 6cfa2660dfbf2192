import GatewayConfig

/// The configuration in force, as `GET /api/v1/config` shows it: enough to see that a reload
/// took effect, without secrets (the token file is named, never read out).
struct ConfigView: Encodable {
    var aeTitle: String
    var dicomPort: Int
    var nodes: [String]
    var priorities: [String]
    var routes: [String]
    var httpBind: String
    var httpPort: Int
    var tokenFile: String?

    init(_ c: GatewayConfiguration) {
        aeTitle = c.gateway.aeTitle.value
        dicomPort = c.gateway.port
        nodes = c.nodes.map(\.name)
        priorities = c.priorities.map { "\($0.name): \($0.priorityClass.rawValue)" }
        routes = c.routes.map(\.name)
        httpBind = c.http.bind
        httpPort = c.http.port
        tokenFile = c.http.tokenFile?.path
    }
}
