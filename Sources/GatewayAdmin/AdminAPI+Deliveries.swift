import Foundation
import GatewayStore
import Hummingbird

/// `/api/v1/deliveries`: list, replay and cancel deliveries.
extension AdminAPI {
    /// The states a delivery can be in, as the index stores them.
    static let deliveryStates = ["queued", "inflight", "failed", "dead", "quarantined", "done", "cancelled"]
    /// The states replay and cancel act on (one in flight is the worker's; a done one stays done;
    /// a quarantined one only when named explicitly).
    static let changeableStates = ["queued", "failed", "dead", "quarantined", "cancelled"]
    static let choiceKeys: Set<String> = ["ids", "states", "destination", "study_instance_uid"]

    /// The body of replay and cancel: which deliveries. Absent fields do not narrow the choice.
    struct DeliveryChoice: Decodable {
        var ids: [Int64]?
        var states: [String]?
        var destination: String?
        var studyInstanceUid: String?
    }

    func addDeliveryRoutes(to api: RouterGroup<AdminRequestContext>) {
        api.get("/deliveries") { request, _ in try await listDeliveries(request) }
        api.post("/deliveries/replay") { request, _ in try await changeDeliveries(request, replay: true) }
        api.post("/deliveries/cancel") { request, _ in try await changeDeliveries(request, replay: false) }
    }

    /// `?state=dead,failed&destination=HUB&study=1.2.3&limit=100` (state defaults to every
    /// state that is not done or cancelled).
    func listDeliveries(_ request: Request) async throws -> Response {
        let q = request.uri.queryParameters
        let states = q.get("state").map { $0.split(separator: ",").map(String.init) } ?? ["queued", "inflight", "failed", "dead", "quarantined"]
        if let unknown = states.first(where: { !Self.deliveryStates.contains($0) }) {
            return JSONResponse.error(.badRequest, "unknown delivery state '\(unknown)'; use \(Self.deliveryStates.joined(separator: ", "))")
        }
        let selection = DeliverySelection(states: states, destination: q.get("destination"), studyUID: q.get("study"))
        let limit = min(max(try integerParameter(request, "limit") ?? 200, 1), 1000)
        let rows = try await blocking { [index] in try index.deliveries(selection, limit: limit) }
        return try JSONResponse.ok(rows.map(APIViews.Delivery.init))
    }

    /// Replay (queue again with a fresh retry budget; defaults to dead deliveries) or cancel
    /// (needs ids, a destination or a study, so that one request cannot cancel everything).
    func changeDeliveries(_ request: Request, replay: Bool) async throws -> Response {
        let choice: DeliveryChoice
        do {
            choice = try await JSONResponse.body(request, as: DeliveryChoice.self, keys: Self.choiceKeys)
        } catch let bad as BadRequest {
            return JSONResponse.error(.badRequest, bad.message)
        }
        let states = choice.states ?? (replay ? ["dead"] : ["queued", "failed", "dead"])
        if states.isEmpty || states.contains(where: { !Self.changeableStates.contains($0) }) {
            return JSONResponse.error(.badRequest, "states must be one or more of \(Self.changeableStates.joined(separator: ", "))")
        }
        let ids = choice.ids ?? []
        if !replay, ids.isEmpty, choice.destination == nil, choice.studyInstanceUid == nil {
            return JSONResponse.error(.badRequest, "name the deliveries to cancel: ids, destination or study_instance_uid")
        }
        // A node taken out of the configuration can still have deliveries to cancel or replay.
        if let destination = choice.destination, control.configuration.node(named: destination) == nil,
           try await !blocking({ [index] in try index.deliveryDestinations().contains(destination) }) {
            return JSONResponse.error(.notFound, "no node named '\(destination)' in the configuration or the queue")
        }
        let selection = DeliverySelection(ids: ids, states: states, destination: choice.destination, studyUID: choice.studyInstanceUid)
        let changed = try await blocking { [index] in
            replay ? try index.replayDeliveries(selection, actor: Self.actor) : try index.cancelDeliveries(selection, actor: Self.actor)
        }
        if replay && changed > 0 { control.deliveryWorkChanged() }
        logger.notice("deliveries \(replay ? "replayed" : "cancelled") through the HTTP API", metadata: [
            "count": "\(changed)", "destination": "\(choice.destination ?? "any")"])
        return try JSONResponse.ok(APIViews.Count(changed: changed))
    }
}
