import DicomCore
import Foundation
import GatewayConfig
import GatewayRouting
import Testing

/// The `identity.patient_id` policies, the edits that give each destination its Patient ID, and
/// the class of reports going home.
@Suite struct NetworkIdentityTests {
    @Test func keepLeavesThePatientIDAsTheTrustSentIt() {
        let id = NetworkIdentity(issuer: "RTH", localPatientID: "12345", policy: .keep)
        #expect(id.networkPatientID == "12345")
        #expect(!id.isMapped)
    }

    @Test func prefixPutsTheIssuerInFrontOfTheLocalID() {
        let id = NetworkIdentity(issuer: "RTH", localPatientID: "12345", policy: .prefix)
        #expect(id.networkPatientID == "RTH-12345")
        #expect(id.isMapped)
        // Always prefixed, even when the local ID already starts like one: the mapping stays one to one.
        #expect(NetworkIdentity(issuer: "RTH", localPatientID: "RTH-5", policy: .prefix).networkPatientID == "RTH-RTH-5")
    }

    @Test func prefixWithoutIssuerOrWithoutPatientIDKeepsTheLocalValue() {
        #expect(NetworkIdentity(issuer: "", localPatientID: "12345", policy: .prefix).networkPatientID == "12345")
        #expect(NetworkIdentity(issuer: "RTH", localPatientID: "", policy: .prefix).networkPatientID == "")
    }

    @Test func nhsNumberPolicyUsesTheNHSNumberWhenPresentElseThePrefix() {
        let items = [
            DicomAttributes([.patientID: "H998877", .issuerOfPatientID: "RTH-HOSP"]),
            DicomAttributes([.patientID: "9434765919 ", .issuerOfPatientID: "NHS"]),
        ]
        let nhs = NetworkIdentity.nhsNumber(in: items, issuer: "NHS")
        #expect(nhs == "9434765919")
        #expect(NetworkIdentity(issuer: "RTH", localPatientID: "12345", policy: .nhsNumber, nhsNumber: nhs).networkPatientID == "9434765919")
        #expect(NetworkIdentity.nhsNumber(in: items, issuer: "NHSE") == nil)
        #expect(NetworkIdentity(issuer: "RTH", localPatientID: "12345", policy: .nhsNumber, nhsNumber: nil).networkPatientID == "RTH-12345")
        // A Patient ID whose issuer is the NHS Number issuer is already the NHS Number.
        #expect(NetworkIdentity(issuer: "NHS", localPatientID: "9434765919", policy: .nhsNumber).networkPatientID == "9434765919")
        #expect(NetworkIdentity(issuer: "X", localPatientID: "1", policy: .nhsNumber, nhsNumber: "943", nhsNumberIssuer: "NHSE")
            .networkPatientID == "943")
    }

    @Test func copiesForOtherNodesCarryTheNetworkIDAndCopiesForTheOriginTheLocalOne() {
        let id = NetworkIdentity(issuer: "RTH", localPatientID: "12345", networkPatientID: "RTH-12345")
        let fromTrust = DicomAttributes([.patientID: "12345"])
        #expect(id.edits(toward: .network, from: fromTrust) == [.patientID: "RTH-12345", .issuerOfPatientID: "RTH"])
        #expect(id.edits(toward: .origin, from: fromTrust) == [.issuerOfPatientID: "RTH"])
        let fromReporter = DicomAttributes([.patientID: "RTH-12345", .issuerOfPatientID: "RTH"])
        #expect(id.edits(toward: .origin, from: fromReporter) == [.patientID: "12345"])
        #expect(id.edits(toward: .network, from: fromReporter) == [:])
        let noIssuer = NetworkIdentity(issuer: "", localPatientID: "12345", networkPatientID: "12345")
        #expect(noIssuer.edits(toward: .network, from: fromTrust) == [:])
    }

    static let reportsHome = """
        routes:
          - { name: images, from: [TRUST_A], when: { category: image }, to: [HUB] }
          - { name: reports-home, from: [HUB], when: { category: report }, to: [origin] }

        """

    func report(studyOrigin: String?, from node: String? = "HUB", priority: DIMSEPriority = .medium) -> RoutedInstance {
        var r = instance(["PatientID": "RTH-12345"], sopClass: SOPClass.basicTextSR, from: node, callingAE: "HUB_READ", priority: priority)
        r.studyOriginNode = studyOrigin
        return r
    }

    @Test func aReportGoesHomeToTheStudysOriginAtLeastUrgent() throws {
        let r = try router(Self.reportsHome)
        let decision = r.route(report(studyOrigin: "TRUST_A"))
        #expect(decision.priority == .routine)
        #expect(decision.deliveries == [Delivery(destination: "TRUST_A", route: "reports-home", priority: .urgent)])
        // Stat stays stat.
        let stat = try router("priorities:\n  - { class: stat, when: { category: report } }\n" + Self.reportsHome)
        #expect(stat.route(report(studyOrigin: "TRUST_A")).deliveries.map(\.priority) == [.stat])
    }

    @Test func aRoutesOwnPriorityWinsOverTheReportHomeFloor() throws {
        let r = try router("""
            routes:
              - { name: reports-home, when: { category: report }, to: [origin], priority: bulk }

            """)
        #expect(r.route(report(studyOrigin: "TRUST_A")).deliveries.map(\.priority) == [.bulk])
    }

    @Test func onlyReportsToTheStudysOriginAreRaised() throws {
        let r = try router("""
            routes:
              - { name: reports-out, when: { category: report }, to: [HUB, TRUST_A] }

            """)
        // To the origin: urgent; to another node: the instance's class.
        let decision = r.route(report(studyOrigin: "TRUST_A", from: "TRUST_B"))
        #expect(decision.deliveries.map { "\($0.destination):\($0.priority)" } == ["HUB:routine", "TRUST_A:urgent"])
        // An image sent back to its origin is not a report going home.
        var image = instance(from: "HUB", callingAE: "HUB_READ")
        image.studyOriginNode = "TRUST_A"
        #expect(r.route(image).deliveries.isEmpty)
        let images = try router("routes:\n  - { name: back, to: [origin] }\n")
        #expect(images.route(image).deliveries.map(\.priority) == [.routine])
        // A new study (no origin yet) has nowhere to go home to.
        #expect(r.route(report(studyOrigin: nil)).deliveries.map(\.priority) == [.routine, .routine])
    }
}
