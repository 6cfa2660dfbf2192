import DicomCore
import Foundation
import GatewayConfig
import Testing

/// `priorities:` and `routes:`: what they parse to, and each mistake at its line and column.
@Suite struct RoutingConfigTests {
    static let nodes = """
        nodes:
          TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source, destination] }
          TRUST_B: { ae_title: TRUSTB_PACS, issuer: RGT, roles: [source] }
          HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 11113, roles: [destination, reporter] }

        """

    @Test func issueExampleParsesToTheModel() throws {
        let config = try parse(Self.nodes + """
            priorities:
              - { class: stat,   when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
              - { class: urgent, when: { RequestedProcedurePriority: [STAT, HIGH] } }
            routes:
              - { name: imaging-to-hub, from: [TRUST_A], when: { Modality: [CT, MR, CR, DX] }, to: [HUB] }
              - name: reports-home
                when: { category: report, StudyDate: 20240101-, PatientID: present, "0009,0010": "AB*" }
                calling_ae: TRUSTA_PACS
                time: "22:00-06:00"
                to: [origin]
                priority: urgent
                coerce:
                  set: { InstitutionName: "Royal Trust" }
                  remove: [ReferringPhysicianName]
                  prefix: { PatientID: "RTH-" }
                  map: { StudyDescription: { "CT HEAD": "CT Head" } }
                  issuer_from_node: true
              - { name: junk, when: { PatientID: absent }, drop: "no patient ID" }
              - { name: hold, when: { AccessionNumber: "=absent" }, quarantine: check }
            """)
        #expect(config.priorities.map(\.name) == ["priorities[0]", "priorities[1]"])
        #expect(config.priorities.map(\.priorityClass) == [.stat, .urgent])
        #expect(config.priorities[0].condition.attributes == [
            AttributeMatchConfig(tag: .modality, patterns: [.exact("CT")]),
            AttributeMatchConfig(tag: .studyDescription, patterns: [.regex("(?i)stroke")]),
        ])
        #expect(config.routes.map(\.name) == ["imaging-to-hub", "reports-home", "junk", "hold"])
        #expect(config.routes[0].condition.fromNodes == ["TRUST_A"])
        #expect(config.routes[0].action == .forward(to: ["HUB"]))
        let home = config.routes[1]
        #expect(home.condition.categories == [.report])
        #expect(home.condition.attributes.map(\.patterns) == [[.range(lower: "20240101", upper: nil)], [.present], [.wildcard("AB*")]])
        #expect(home.condition.callingAETitles == ["TRUSTA_PACS"])
        #expect(home.condition.time == TimeWindow(parsing: "22:00-06:00"))
        #expect(home.action == .forward(to: ["origin"]))
        #expect(home.priority == .urgent)
        #expect(home.coercion == CoercionConfig(
            map: [.studyDescription: ["CT HEAD": "CT Head"]], prefix: [.patientID: "RTH-"],
            set: [DicomTag(keyword: "InstitutionName")!: "Royal Trust"], issuerFromNode: true,
            remove: [DicomTag(keyword: "ReferringPhysicianName")!]))
        #expect(config.routes[2].action == .drop(reason: "no patient ID"))
        #expect(config.routes[3].action == .quarantine(reason: "check"))
        #expect(config.routes[3].condition.attributes.first?.patterns == [.exact("absent")])
    }

    @Test func unknownNodeInFromIsReportedWithAHint() {
        let yaml = Self.nodes + "routes:\n  - { name: r, from: [TRUST_C], to: [HUB] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "TRUST_C", in: yaml)
        #expect(d?.message == "unknown node 'TRUST_C'; did you mean 'TRUST_A'?")
        #expect(d?.path == "routes[0].from[0]")
    }

    @Test func unknownNodeInToIsReported() {
        let yaml = Self.nodes + "routes:\n  - { name: r, to: [HUB, READING] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "READING", in: yaml)
        #expect(d?.message.hasPrefix("unknown node 'READING'") == true)
    }

    @Test func sourceOnlyNodeCannotBeADestination() {
        let yaml = Self.nodes + "routes:\n  - { name: r, to: [TRUST_B] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "TRUST_B]", in: yaml)
        #expect(d?.message == "node 'TRUST_B' is not a destination (roles: source); add destination to its roles")
    }

    @Test func originIsOnlyADestination() {
        let yaml = Self.nodes + "routes:\n  - { name: r, from: origin, to: [origin] }\n"
        expect(singleDiagnostic(yaml), .invalidValue, at: "origin", in: yaml)
    }

    @Test func invalidRegexPointsAtTheValue() {
        let yaml = Self.nodes + "priorities:\n  - { class: stat, when: { StudyDescription: \"~(stroke\" } }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "\"~(stroke\"", in: yaml)
        #expect(d?.message.contains("not a valid regular expression") == true)
        #expect(d?.path == "priorities[0].when.StudyDescription")
    }

    @Test func unknownAttributeKeywordPointsAtTheKey() {
        let yaml = Self.nodes + "routes:\n  - { name: r, when: { Modalty: CT }, to: [HUB] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .unknownKey, at: "Modalty", in: yaml)
        #expect(d?.message == "unknown attribute 'Modalty'; did you mean 'Modality'?")
    }

    @Test func unknownPriorityClassSuggestsOne() {
        let yaml = Self.nodes + "priorities:\n  - { class: urgnet, when: { Modality: CT } }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "urgnet", in: yaml)
        #expect(d?.message.contains("did you mean 'urgent'?") == true)
        let route = Self.nodes + "routes:\n  - { name: r, to: [HUB], priority: critical }\n"
        expect(singleDiagnostic(route), .invalidValue, at: "critical", in: route)
    }

    @Test(arguments: ["25:00-06:00", "08:00", "8:00-18:00", "08:00-08:00", "08:60-09:00"])
    func badTimeWindowIsReported(window: String) {
        let yaml = Self.nodes + "routes:\n  - { name: r, time: \"\(window)\", to: [HUB] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "\"\(window)\"", in: yaml)
        #expect(d?.message.contains("is not a time window") == true)
    }

    @Test func duplicateRouteNamePointsAtTheSecond() {
        let yaml = Self.nodes + "routes:\n  - { name: hub, to: [HUB] }\n  - { name: hub, to: [TRUST_A] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .conflict, at: "hub", in: yaml, occurrence: 2)
        #expect(d?.message == "route name 'hub' is already used on line 6; names must be unique")
    }

    @Test(arguments: ["2024-2025", "20240101-2024", "-", "20241231-20240101"])
    func badDateRangeIsReported(range: String) {
        let yaml = Self.nodes + "routes:\n  - { name: r, when: { StudyDate: \"\(range)\" }, to: [HUB] }\n"
        expect(singleDiagnostic(yaml), .invalidValue, at: "\"\(range)\"", in: yaml)
    }

    @Test func routeNeedsExactlyOneAction() {
        let none = Self.nodes + "routes:\n  - { name: r, when: { Modality: CT } }\n"
        let missing = singleDiagnostic(none)
        #expect(missing?.code == .missingKey && missing?.line == 6)
        #expect(missing?.message.contains("'to'") == true)
        let both = Self.nodes + "routes:\n  - { name: r, to: [HUB], drop: test }\n"
        expect(singleDiagnostic(both), .conflict, at: "drop", in: both)
        let coerceOnDrop = Self.nodes + "routes:\n  - { name: r, drop: test, coerce: { remove: [PatientName] } }\n"
        expect(singleDiagnostic(coerceOnDrop), .conflict, at: "coerce", in: coerceOnDrop)
    }

    @Test func nameIsRequiredForRoutes() {
        let yaml = Self.nodes + "routes:\n  - { to: [HUB] }\n"
        #expect(singleDiagnostic(yaml)?.code == .missingKey)
    }

    @Test func ruleLevelKeyInsideWhenIsExplained() {
        let yaml = Self.nodes + "routes:\n  - { name: r, when: { from: TRUST_A }, to: [HUB] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .unknownKey, at: "from", in: yaml)
        #expect(d?.message == "'from' belongs beside 'when', not inside it")
    }

    @Test func unknownCategoryIsReported() {
        let yaml = Self.nodes + "routes:\n  - { name: r, when: { category: reports }, to: [HUB] }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "reports", in: yaml)
        #expect(d?.message.contains("did you mean 'report'?") == true)
    }

    @Test func coercionMistakesAreReported() {
        let yaml = Self.nodes + """
            routes:
              - name: r
                to: [HUB]
                coerce:
                  set: { PatientNam: X, InstitutionName: Y }
                  remove: [InstitutionName, "0009,0010"]
                  prefix: { PatientID: "" }
                  issuer_from_node: maybe
            """
        let all = diagnostics(yaml)
        #expect(all.count == 4, "\(ConfigError(diagnostics: all))")
        guard all.count == 4 else { return }
        expect(all[0], .unknownKey, at: "PatientNam", in: yaml)
        expect(all[1], .conflict, at: "InstitutionName", in: yaml, occurrence: 2)
        expect(all[2], .invalidValue, at: "\"\"", in: yaml)
        expect(all[3], .wrongType, at: "maybe", in: yaml)
    }

    @Test func groupElementTagsAreAccepted() throws {
        let config = try parse(Self.nodes + "routes:\n  - { name: r, when: { \"0019,10A0\": X }, to: [HUB], coerce: { remove: [\"(0009,0010)\"] } }\n")
        #expect(config.routes[0].condition.attributes.first?.tag == DicomTag(0x0019, 0x10A0))
        #expect(config.routes[0].coercion.remove == [DicomTag(0x0009, 0x0010)])
    }

    @Test func everyProblemIsReportedInOnePass() {
        let yaml = Self.nodes + """
            priorities:
              - { class: critical }
            routes:
              - { name: a, from: [NOPE], to: [HUB] }
              - { name: b, when: { Modalty: CT }, time: "9-5", to: [HUB] }
            """
        #expect(diagnostics(yaml).count == 4)
    }
}
