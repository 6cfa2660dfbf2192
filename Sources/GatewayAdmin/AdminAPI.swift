import Foundation
import GatewayConfig
import GatewayStore
import Hummingbird
import Logging
import Prometheus

/// The operators' HTTP API over the index and the running gateway: `/health`, `/metrics`,
/// `/api/v1/...` and the dashboard page at `/`.
struct AdminAPI: Sendable {
    let index: CacheIndex
    let control: any GatewayControl
    let metrics: PrometheusCollectorRegistry
    let logger: Logger

    /// Who changes things through the API, as the audit trail names them.
    static let actor = "http-api"

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.get("/health") { _, _ in try await health() }
        router.get("/metrics") { _, _ in try await metricsPage() }
        router.get("/") { _, _ in DashboardPage.response() }
        router.get("/dashboard") { _, _ in DashboardPage.response() }
        router.get("/dashboard/worklist") { _, _ in WorklistPage.response() }
        let api = router.group("/api/v1")
        api.get("/nodes") { _, _ in try await nodes() }
        api.get("/cluster") { _, _ in try await cluster() }
        api.get("/queues") { _, _ in try await queues() }
        addDeliveryRoutes(to: api)
        addStudyRoutes(to: api)
        addWorklistRoutes(to: api)
        api.get("/audit") { request, _ in try await audit(request) }
        api.post("/config/reload") { _, _ in try await reload() }
        api.get("/config") { _, _ in try JSONResponse.ok(ConfigView(control.configuration)) }
    }

    func health() async throws -> Response {
        let configuration = control.configuration
        let indexState: String
        do {
            _ = try await blocking { [index] in try index.checkReadable() }
            indexState = "ok"
        } catch {
            // The reason (an SQLite or file error) goes to the log, the reference to the caller.
            indexState = "unreadable (ref \(InternalError.log(error, while: "reading the index for /health", logger: logger)))"
        }
        let storagePath = configuration.storage.path.path
        let storageState = (try? await blocking { () -> String in
            // Reach to the (possibly shared) cache directory: it exists and this process may write there.
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: storagePath, isDirectory: &isDirectory), isDirectory.boolValue else {
                return "missing"
            }
            return access(storagePath, W_OK) == 0 ? "ok" : "not writable"
        }) ?? "unreachable"
        let healthy = indexState == "ok" && storageState == "ok"
        let view = APIViews.Health(
            status: healthy ? "ok" : "degraded", aeTitle: configuration.gateway.aeTitle.value,
            dicomPort: configuration.gateway.port, index: indexState,
            indexEngine: index.dialect == .postgres ? "postgresql" : "sqlite", node: configuration.cluster.nodeID,
            storage: storageState,
            uptimeSeconds: Int(Date().timeIntervalSince(control.startedAt)), lastReload: control.lastReload.map(APIViews.Reload.init))
        return try JSONResponse.ok(view, status: healthy ? .ok : .serviceUnavailable)
    }

    /// Every node sharing the index, its last heartbeat and which one leads (one row for a node alone).
    func cluster() async throws -> Response {
        let nodes = try await blocking { [index] in try index.clusterNodes() }
        let now = Date()
        return try JSONResponse.ok(nodes.map {
            APIViews.ClusterNode(node: $0.node, leader: $0.leader && $0.isAlive(now: now), alive: $0.isAlive(now: now),
                                 startedAt: $0.startedAt, heartbeatAt: $0.heartbeatAt, address: $0.address,
                                 deliveriesInFlight: $0.deliveriesInFlight, slots: $0.slots, fetching: $0.fetching)
        })
    }

    func queues() async throws -> Response {
        let depths = try await blocking { [index] in try index.queueDepths() }
        let now = Date()
        return try JSONResponse.ok(depths.map { APIViews.QueueRow($0, now: now) })
    }

    func nodes() async throws -> Response {
        let depths = try await blocking { [index] in try index.queueDepths() }
        let now = Date()
        let views = control.configuration.nodes.map { node -> APIViews.Node in
            let mine = depths.filter { $0.destination == node.name }
            let waiting = mine.filter { $0.state != "dead" && $0.state != "quarantined" }
            return APIViews.Node(
                name: node.name, aeTitle: node.aeTitle.value, host: node.host, port: node.port,
                roles: node.roles.map(\.rawValue).sorted(), issuer: node.issuer, maxAssociations: node.maxAssociations,
                waiting: waiting.reduce(0) { $0 + $1.count }, dead: mine.filter { $0.state == "dead" }.reduce(0) { $0 + $1.count },
                quarantined: mine.filter { $0.state == "quarantined" }.reduce(0) { $0 + $1.count },
                oldestWaitingAgeSeconds: waiting.map(\.oldest).min().map { max(0, Int(now.timeIntervalSince($0))) })
        }
        return try JSONResponse.ok(views)
    }

    func audit(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let limit = try integerParameter(request, "limit") ?? 100
        let before = try integerParameter(request, "before", as: Int64.self)
        let event = q.get("event")
        let study = q.get("study")
        let records = try await blocking { [index] in
            try index.auditRecords(limit: limit, beforeID: before, event: event, studyUID: study)
        }
        return try JSONResponse.ok(records.map(APIViews.Audit.init))
    }

    func reload() async throws -> Response {
        let report = try await blocking { [control] in control.reloadConfiguration() }
        return try JSONResponse.ok(APIViews.Reload(report), status: report.succeeded ? .ok : .unprocessableContent)
    }
}
