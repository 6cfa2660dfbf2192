import Foundation
import GatewayConfig
import GatewayStore
import Hummingbird

/// `/api/v1/studies`: recent studies, one study's state and timeline, escalation.
extension AdminAPI {
    struct Escalation: Decodable {
        var `class`: String
    }

    func addStudyRoutes(to api: RouterGroup<AdminRequestContext>) {
        api.get("/studies") { request, _ in try await recentStudies(request) }
        api.get("/studies/:uid") { _, context in try await study(context.parameters.require("uid")) }
        api.post("/studies/:uid/escalate") { request, context in try await escalate(request, context.parameters.require("uid")) }
    }

    func recentStudies(_ request: Request) async throws -> Response {
        let limit = try integerParameter(request, "limit") ?? 50
        let patientData = control.configuration.http.patientData
        let studies = try await blocking { [index] in try index.recentStudies(limit: limit) }
        return try JSONResponse.ok(studies.map { APIViews.Study($0, patientData: patientData) })
    }

    func study(_ uid: String) async throws -> Response {
        let patientData = control.configuration.http.patientData
        guard let summary = try await blocking({ [index] in try index.studySummary(studyUID: uid) }) else {
            return JSONResponse.error(.notFound, "study \(uid) is not in the cache")
        }
        return try JSONResponse.ok(APIViews.StudyDetail(summary, patientData: patientData))
    }

    /// `{"class": "stat"}`: every waiting delivery of the study goes out at that class or higher.
    func escalate(_ request: Request, _ uid: String) async throws -> Response {
        let body: Escalation
        do {
            body = try await JSONResponse.body(request, as: Escalation.self, keys: ["class"])
        } catch let bad as BadRequest {
            return JSONResponse.error(.badRequest, bad.message)
        }
        guard let priority = PriorityClass(rawValue: body.class.lowercased()) else {
            return JSONResponse.error(.badRequest, "unknown class '\(body.class)'; use stat, urgent, routine or bulk")
        }
        guard try await blocking({ [index] in try index.studySummary(studyUID: uid) }) != nil else {
            return JSONResponse.error(.notFound, "study \(uid) is not in the cache")
        }
        let changed = try await blocking { [index] in try index.escalateStudy(uid, to: priority.rank, actor: Self.actor) }
        if changed > 0 { control.deliveryWorkChanged() }
        logger.notice("study escalated through the HTTP API", metadata: ["class": "\(priority.rawValue)", "deliveries": "\(changed)"])
        return try JSONResponse.ok(APIViews.Count(changed: changed))
    }
}
