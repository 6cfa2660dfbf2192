import DicomCore
import Foundation
import GatewayConfig
import GatewayRouting
import Testing

/// The rules documented in etc/gateway.example.yaml do what their comments say.
@Suite struct ExampleRulesTests {
    static func exampleRouter() throws -> Router {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try GatewayConfiguration.load(contentsOf: root.appendingPathComponent("etc/gateway.example.yaml"))
        return Router(plan: RoutingPlan(configuration: config))
    }

    @Test func strokeCTFromATrustGoesToTheHubAsStat() throws {
        let decision = try Self.exampleRouter().route(instance(["Modality": "CT", "PatientID": "1", "StudyDescription": "CT Stroke"]))
        #expect(decision.priority == .stat)
        #expect(decision.matchedRules == ["stroke", "imaging-to-hub"])
        #expect(decision.destinations == ["HUB"])
    }

    @Test func reportFromTheHubGoesHomeToTheStudysTrustAtLeastUrgent() throws {
        var report = instance(["PatientID": "RTH-1", "StudyDescription": "CT HEAD"], sopClass: SOPClass.encapsulatedPDF,
                              from: "HUB", callingAE: "HUB_READ")
        report.studyOriginNode = "TRUST_A"
        let decision = try Self.exampleRouter().route(report)
        #expect(decision.destinations == ["TRUST_A"])
        #expect(decision.delivery(to: "TRUST_A")?.priority == .urgent)
        #expect(decision.delivery(to: "TRUST_A")?.edits == [.studyDescription: "CT Head"])
        // A report the trust sends itself is not a report coming home.
        #expect(try Self.exampleRouter().route(instance(["PatientID": "1"], sopClass: SOPClass.encapsulatedPDF)).destinations.isEmpty)
    }

    @Test func testPatientsAreDroppedAndImagesWithoutIDQuarantined() throws {
        let router = try Self.exampleRouter()
        #expect(router.route(instance(["Modality": "CT", "PatientID": "QA001"])).disposition
            == .drop(reason: "test patient", route: "test-patients"))
        #expect(router.route(instance(["Modality": "CT"])).disposition
            == .quarantine(reason: "no Patient ID", route: "no-patient-id"))
    }

    @Test func nightTimeTrafficFromTrustBIsBulk() throws {
        let router = try Self.exampleRouter()
        #expect(router.route(instance(["Modality": "CR"], from: "TRUST_B", at: "23:30")).priority == .bulk)
        #expect(router.route(instance(["Modality": "CR"], from: "TRUST_B", at: "12:00")).priority == .routine)
    }
}
