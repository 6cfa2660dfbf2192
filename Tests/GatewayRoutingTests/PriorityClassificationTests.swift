import DicomCore
import GatewayConfig
import GatewayRouting
import Testing

@Suite struct PriorityClassificationTests {
    static let rules = """
        priorities:
          - { name: stroke, class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
          - { name: requested, class: urgent, when: { RequestedProcedurePriority: [STAT, HIGH] } }
          - { name: any-ct, class: routine, when: { Modality: CT } }
          - { class: bulk, from: [TRUST_B] }
        """

    @Test func classesAreOrderedStatUrgentRoutineBulk() {
        #expect(PriorityClass.stat > .urgent && PriorityClass.urgent > .routine && PriorityClass.routine > .bulk)
        #expect([PriorityClass.routine, .bulk, .stat, .urgent].sorted(by: >) == [.stat, .urgent, .routine, .bulk])
    }

    @Test func firstMatchingRuleWins() throws {
        let r = try router(Self.rules)
        let stroke = r.route(instance(["Modality": "CT", "StudyDescription": "STROKE", "RequestedProcedurePriority": "HIGH"]))
        #expect(stroke.priority == .stat)
        #expect(stroke.priorityRule == "stroke")
        let requested = r.route(instance(["Modality": "CT", "RequestedProcedurePriority": "HIGH"]))
        #expect(requested.priority == .urgent && requested.priorityRule == "requested")
        #expect(r.route(instance(["Modality": "CT"])).priorityRule == "any-ct")
    }

    @Test func unnamedRuleIsNamedByItsPosition() throws {
        let decision = try router(Self.rules).route(instance(["Modality": "MR"], from: "TRUST_B"))
        #expect(decision.priority == .bulk)
        #expect(decision.priorityRule == "priorities[3]")
    }

    @Test func instanceNoRuleMatchesIsRoutine() throws {
        let decision = try router(Self.rules).route(instance(["Modality": "MR"]))
        #expect(decision.priority == .routine)
        #expect(decision.priorityRule == nil)
    }

    @Test func dimseHighMakesAtLeastUrgent() throws {
        let r = try router(Self.rules)
        #expect(r.route(instance(["Modality": "MR"], priority: .high)).priority == .urgent)
        #expect(r.route(instance(["Modality": "MR"], from: "TRUST_B", priority: .high)).priority == .urgent)
        #expect(r.route(instance(["Modality": "CT", "StudyDescription": "stroke"], priority: .high)).priority == .stat)
        #expect(r.route(instance(["Modality": "MR"], priority: .low)).priority == .routine)
    }

    @Test func priorityRuleCanUseTimeAndCallingAE() throws {
        let r = try router("""
            priorities:
              - { class: urgent, calling_ae: [TRUSTA_CT1], time: "18:00-08:00" }
            """)
        #expect(r.route(instance(callingAE: "TRUSTA_CT1", at: "23:00")).priority == .urgent)
        #expect(r.route(instance(callingAE: "TRUSTA_CT1", at: "12:00")).priority == .routine)
        #expect(r.route(instance(callingAE: "OTHER", at: "23:00")).priority == .routine)
    }
}
