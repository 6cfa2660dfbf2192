import DicomCore
import GatewayConfig
import GatewayRouting
import Testing

@Suite struct RouteDecisionTests {
    @Test func everyMatchingRouteAddsItsDestinations() throws {
        let r = try router("""
            routes:
              - { name: imaging-to-hub, from: [TRUST_A], when: { Modality: [CT, MR, CR, DX] }, to: [HUB] }
              - { name: copy-home, when: { Modality: CT }, to: [TRUST_A] }
              - { name: never, when: { Modality: US }, to: [HUB] }
            """)
        let decision = r.route(instance(["Modality": "CT"]))
        #expect(decision.matchedRoutes == ["imaging-to-hub", "copy-home"])
        #expect(decision.destinations == ["HUB", "TRUST_A"])
        #expect(decision.delivery(to: "HUB")?.route == "imaging-to-hub")
        #expect(decision.disposition == .forward)
        #expect(r.route(instance(["Modality": "MR"], from: "TRUST_B")).destinations.isEmpty)
    }

    @Test func originIsResolvedToTheSendingNode() throws {
        let r = try router("""
            routes:
              - { name: reports-home, when: { category: report }, to: [origin] }
            """)
        let decision = r.route(instance(sopClass: SOPClass.encapsulatedPDF, from: "TRUST_B"))
        #expect(decision.destinations == ["TRUST_B"])
        #expect(decision.matchedRules == ["reports-home"])
        let unknown = r.route(instance(sopClass: SOPClass.comprehensiveSR, from: nil))
        #expect(unknown.destinations.isEmpty)
        #expect(unknown.notes.count == 1)
    }

    @Test func sameDestinationTwiceKeepsTheFirstRoutesDelivery() throws {
        let r = try router("""
            routes:
              - { name: first, to: [HUB], priority: bulk }
              - { name: second, to: [HUB, origin] }
            """)
        let decision = r.route(instance(from: "TRUST_A"))
        #expect(decision.deliveries.map(\.route) == ["first", "second"])
        #expect(decision.destinations == ["HUB", "TRUST_A"])
        #expect(decision.delivery(to: "HUB")?.priority == .bulk)
        #expect(decision.delivery(to: "TRUST_A")?.priority == .routine)
        #expect(decision.notes.contains { $0.contains("first") })
    }

    @Test func routePriorityReplacesTheInstanceClassForItsDeliveries() throws {
        let r = try router("""
            priorities:
              - { class: stat, when: { Modality: CT } }
            routes:
              - { name: backfill, to: [TRUST_A], priority: bulk }
              - { name: hub, to: [HUB] }
            """)
        let decision = r.route(instance(["Modality": "CT"]))
        #expect(decision.priority == .stat)
        #expect(decision.delivery(to: "TRUST_A")?.priority == .bulk)
        #expect(decision.delivery(to: "HUB")?.priority == .stat)
    }

    @Test func dropOverridesEveryForwardingRoute() throws {
        let r = try router("""
            routes:
              - { name: all-to-hub, to: [HUB] }
              - { name: test-patients, when: { PatientID: "~^TEST" }, drop: "test patient" }
              - { name: hold, when: { PatientID: "~^TEST" }, quarantine: "never reached" }
            """)
        let decision = r.route(instance(["PatientID": "TEST42"]))
        #expect(decision.disposition == .drop(reason: "test patient", route: "test-patients"))
        #expect(decision.deliveries.isEmpty)
        #expect(decision.matchedRoutes == ["all-to-hub", "test-patients", "hold"])
        #expect(r.route(instance(["PatientID": "123"])).destinations == ["HUB"])
    }

    @Test func quarantineHoldsTheInstance() throws {
        let r = try router("""
            routes:
              - { name: no-id, when: { PatientID: absent }, quarantine: "no patient ID" }
              - { name: all-to-hub, to: [HUB] }
            """)
        let decision = r.route(instance())
        #expect(decision.disposition == .quarantine(reason: "no patient ID", route: "no-id"))
        #expect(decision.deliveries.isEmpty)
    }
}
