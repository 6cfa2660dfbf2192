import DicomCore
import Foundation
import GatewayConfig
import Testing

/// `reporting:` and the nodes' `reporting:` keys: what they read to, and each mistake at its line.
@Suite struct ReportingConfigTests {
    static let nodes = """
        nodes:
          TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, issuer: RTH, roles: [source, destination] }
          TRUST_B: { ae_title: TRUSTB_PACS, issuer: RGT, roles: [source] }
          NEURO_HUB:
            ae_title: NEURO_READ
            host: 127.0.0.1
            port: 11113
            issuer: RTH
            roles: [destination, reporter]
            reporting: { skills: [neuro], capacity: 12, hours: "08:00-20:00" }
          GENERAL_HUB:
            ae_title: GENERAL_READ
            host: 127.0.0.1
            port: 11114
            roles: [reporter]
            reporting: { skills: [chest, msk, general], capacity: 40, on_demand: true, organisation: NHSE }

        """

    /// `nodes` plus a `reporting:` section holding `rules`, one rule per line.
    static func withRules(_ rules: String...) -> String {
        nodes + "reporting:\n  rules:\n" + rules.map { "    - " + $0 + "\n" }.joined()
    }

    // MARK: What a valid file reads to

    @Test func fullSectionReadsToTheModel() throws {
        let config = try parse(Self.nodes + """
            reporting:
              deadlines: { stat: 1h, urgent: 2h, routine: 5d }
              grace: 20m
              escalate_at: 75%
              orphan_after: 10d
              prefer: origin
              review_interval: 30s
              notify: { webhook: "http://127.0.0.1:9000/hooks/reporting" }
              rules:
                - { name: stroke, when: { Modality: CT, StudyDescription: "~(?i)stroke" }, skill: neuro, deadline: 30m, class: stat }
                - name: chest
                  from: [TRUST_A, TRUST_B]
                  calling_ae: TRUSTA_PACS
                  time: "07:00-19:00"
                  when: { Modality: [CR, DX], BodyPartExamined: CHEST }
                  skill: chest
                  effort: 0.2
                - { name: images, when: { category: image }, skill: general, effort: 3 }
            """)
        let reporting = config.reporting
        #expect(reporting.isEnabled)
        #expect(reporting.deadlines == [.stat: .seconds(3600), .urgent: .seconds(7200), .routine: .seconds(5 * 86_400),
                                        .bulk: .seconds(28 * 86_400)])
        #expect(reporting.deadline(for: .bulk) == .seconds(28 * 86_400))
        #expect(reporting.grace == .seconds(20 * 60))
        #expect(reporting.escalateAt == 0.75)
        #expect(reporting.orphanAfter == .seconds(10 * 86_400))
        #expect(reporting.prefer == .origin)
        #expect(reporting.reviewInterval == .seconds(30))
        #expect(reporting.webhook == URL(string: "http://127.0.0.1:9000/hooks/reporting"))
        #expect(reporting.rules.map(\.name) == ["stroke", "chest", "images"])
        #expect(reporting.rules[0] == ReportingRuleConfig(
            name: "stroke",
            condition: ConditionConfig(attributes: [
                AttributeMatchConfig(tag: .modality, patterns: [.exact("CT")]),
                AttributeMatchConfig(tag: .studyDescription, patterns: [.regex("(?i)stroke")]),
            ]),
            skill: "neuro", deadline: .seconds(1800), effort: 1, priorityClass: .stat))
        let chest = reporting.rules[1]
        #expect(chest.effort == 0.2)
        #expect(chest.deadline == nil && chest.priorityClass == nil)
        #expect(chest.condition.fromNodes == ["TRUST_A", "TRUST_B"])
        #expect(chest.condition.callingAETitles == ["TRUSTA_PACS"])
        #expect(chest.condition.time == TimeWindow(parsing: "07:00-19:00"))
        #expect(reporting.rules[2].condition.categories == [.image])
        #expect(reporting.rules[2].effort == 3)
    }

    @Test func nodeReportingKeysReadToReporterSettings() throws {
        let config = try parse(Self.nodes)
        #expect(config.node(named: "NEURO_HUB")?.reporting == ReporterSettings(
            skills: ["neuro"], capacity: 12, hours: TimeWindow(parsing: "08:00-20:00"), onDemand: false, organisation: "RTH"))
        #expect(config.node(named: "GENERAL_HUB")?.reporting == ReporterSettings(
            skills: ["chest", "msk", "general"], capacity: 40, hours: nil, onDemand: true, organisation: "NHSE"))
        #expect(config.node(named: "TRUST_A")?.reporting == nil)
    }

    @Test func organisationDefaultsToTheNodesIssuerAndCapacityToTen() throws {
        let config = try parse("""
            nodes:
              A: { ae_title: A, host: 127.0.0.1, port: 104, issuer: RTH, roles: [destination, reporter], reporting: { skills: neuro } }
              B: { ae_title: B, host: 127.0.0.1, port: 105, roles: [destination, reporter], reporting: { skills: [chest] } }
            """)
        #expect(config.node(named: "A")?.reporting == ReporterSettings(skills: ["neuro"], capacity: 10, organisation: "RTH"))
        #expect(config.node(named: "B")?.reporting?.organisation == nil)
        #expect(config.node(named: "B")?.reporting?.capacity == 10)
    }

    @Test func absentSectionGivesDefaultsAndTheWorklistIsOff() throws {
        let config = try parse(Self.nodes)
        #expect(config.reporting == ReportingSettings())
        #expect(!config.reporting.isEnabled)
        #expect(config.reporting.deadline(for: .stat) == .seconds(3600))
        #expect(config.reporting.deadline(for: .urgent) == .seconds(4 * 3600))
        #expect(config.reporting.deadline(for: .routine) == .seconds(7 * 86_400))
        #expect(config.reporting.grace == .seconds(1800) && config.reporting.escalateAt == 0.75)
        #expect(config.reporting.orphanAfter == .seconds(14 * 86_400) && config.reporting.reviewInterval == .seconds(10))
        #expect(config.reporting.prefer == .none && config.reporting.webhook == nil)
        #expect(try parse("reporting:\n").reporting == ReportingSettings())
        #expect(try parse("reporting: { rules: [] }").reporting.isEnabled == false)
    }

    @Test(arguments: [("75%", 0.75), ("0.75", 0.75), ("100%", 1.0), ("1", 1.0), ("12.5%", 0.125), (".5", 0.5), ("1%", 0.01)])
    func escalationIsAPercentageOrAFraction(text: String, value: Double) throws {
        #expect(try parse("reporting: { escalate_at: \(text) }").reporting.escalateAt == value)
    }

    // MARK: Mistakes in the section

    @Test(arguments: ["0", "0s", "00m", "0d"])
    func zeroDeadlineSaysADeadlineMustBeMoreThanZero(zero: String) {
        let rule = Self.withRules("{ name: stroke, skill: neuro, when: { Modality: CT }, deadline: \(zero) }")
        let d = singleDiagnostic(rule)
        expect(d, .invalidValue, at: "\(zero) }", in: rule)
        #expect(d?.message == "'\(zero)' is no time at all: a deadline must be more than zero; write e.g. 30m, 4h or 7d")
        #expect(d?.path == "reporting.rules[0].deadline")

        let perClass = "reporting:\n  deadlines: { stat: \(zero), urgent: 4h }\n"
        let c = singleDiagnostic(perClass)
        expect(c, .invalidValue, at: "\(zero),", in: perClass)
        #expect(c?.message.contains("a deadline must be more than zero") == true)
    }

    @Test func deadlineThatIsNotADurationSaysHowToWriteOne() {
        let yaml = "reporting:\n  deadlines: { routine: 1w }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "1w", in: yaml)
        #expect(d?.message.contains("is not a duration") == true)
    }

    @Test func unknownClassInDeadlinesSuggestsOne() {
        let yaml = "reporting:\n  deadlines: { stat: 1h, urgnet: 4h }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .unknownKey, at: "urgnet", in: yaml)
        #expect(d?.message == "unknown priority class 'urgnet'; did you mean 'urgent'?")
        #expect(d?.path == "reporting.deadlines.urgnet")
    }

    @Test(arguments: ["0", "0%", "101%", "1.5", "-0.5", "75 percent"])
    func escalationOutsideZeroToHundredPercentIsReported(text: String) {
        let yaml = "reporting:\n  escalate_at: \(text)\n"
        let d = singleDiagnostic(yaml)
        #expect(d?.line == 2 && d?.column == 16, "\(String(describing: d))")
        #expect(d?.message.contains("such as 75%") == true || d?.message.contains("e.g. 75% or 0.75") == true,
                "\(String(describing: d))")
    }

    @Test func escalationWrittenAsAWholePercentWithoutTheSignSuggestsIt() {
        let d = singleDiagnostic("reporting:\n  escalate_at: 75\n")
        #expect(d?.code == .invalidValue)
        #expect(d?.message == "75 is out of range: write more than 0% and at most 100% (or a number more than 0 and at most 1), "
            + "e.g. 75% or 0.75; did you mean 75%?")
    }

    @Test(arguments: ["ftp://127.0.0.1/hooks", "127.0.0.1:9000/hooks", "http://", "mailto:ops@example.org", "not a url"])
    func webhookMustBeAnHTTPURLWithAHost(url: String) {
        let yaml = "reporting:\n  notify: { webhook: \"\(url)\" }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "\"\(url)\"", in: yaml)
        #expect(d?.message == "'\(url)' is not a webhook URL; write an http or https URL with a host, "
            + "e.g. http://127.0.0.1:9000/hooks/reporting")
    }

    @Test func httpsWebhookIsAccepted() throws {
        let config = try parse("reporting:\n  notify: { webhook: \"https://hooks.example.org/reporting?key=x\" }\n")
        #expect(config.reporting.webhook?.host == "hooks.example.org")
    }

    @Test func unknownPreferenceSuggestsOne() {
        let yaml = "reporting:\n  prefer: orign\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "orign", in: yaml)
        #expect(d?.message == "'orign' is not a reporting preference; did you mean 'origin'? (one of none, origin)")
    }

    @Test func unknownKeyInTheSectionSuggestsOne() {
        let yaml = "reporting:\n  escalate: 75%\n"
        let d = singleDiagnostic(yaml)
        expect(d, .unknownKey, at: "escalate", in: yaml)
        #expect(d?.message == "unknown key 'escalate'; did you mean 'escalate_at'?")
    }

    @Test(arguments: ["0", "1001", "-1", "lots", "1e2"])
    func effortMustBeMoreThanZeroAndAtMostAThousand(effort: String) {
        let yaml = Self.withRules("{ name: r, skill: neuro, when: { Modality: CT }, effort: \(effort) }")
        let d = singleDiagnostic(yaml)
        expect(d, ["0", "1001"].contains(effort) ? .invalidValue : .wrongType, at: "\(effort) }", in: yaml)
        #expect(d?.message.contains("an effort") == true, "\(String(describing: d))")
    }

    @Test func ruleNeedsAUniqueNameAndASkill() {
        let yaml = Self.withRules("{ name: ct, skill: neuro, when: { Modality: CT } }",
                                  "{ name: ct, skill: neuro, when: { Modality: MR } }",
                                  "{ skill: neuro, when: { Modality: PT } }",
                                  "{ name: nm, when: { Modality: NM } }")
        let all = diagnostics(yaml)
        #expect(all.count == 3, "\(ConfigError(diagnostics: all))")
        guard all.count == 3 else { return }
        let firstLine = locate("name: ct", in: yaml)?.line ?? 0
        expect(all[0], .conflict, at: "ct, skill: neuro, when: { Modality: MR", in: yaml)
        #expect(all[0].message == "reporting rule name 'ct' is already used on line \(firstLine); names must be unique")
        #expect(all[1].code == .missingKey && all[1].message.contains("'name'"))
        #expect(all[2].code == .missingKey && all[2].message.contains("'skill'"))
    }

    @Test func ruleConditionsAreCheckedAsRoutesAre() {
        let yaml = Self.withRules("{ name: r, skill: neuro, from: [TRUST_C], when: { Modalty: CT }, time: \"9-5\" }")
        let all = diagnostics(yaml)
        #expect(all.count == 3, "\(ConfigError(diagnostics: all))")
        #expect(all.first?.message == "unknown node 'TRUST_C'; did you mean 'TRUST_A'?")
    }

    // MARK: Cross-checks

    @Test func skillNoSiteHasIsReportedWithTheSitesSkills() {
        let yaml = Self.withRules("{ name: head, when: { BodyPartExamined: HEAD }, skill: nuero }")
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "nuero", in: yaml)
        #expect(d?.message == "no reporter site has skill 'nuero'; did you mean 'neuro'? sites have: chest, general, msk, neuro "
            + "(add it to a reporter node's reporting.skills, or use one of those)")
        #expect(d?.path == "reporting.rules[0].skill")
        let far = Self.withRules("{ name: breast, when: { Modality: MG }, skill: breast }")
        #expect(singleDiagnostic(far)?.message.hasPrefix("no reporter site has skill 'breast'; sites have: chest, general") == true)
    }

    @Test func ruleForReportsOnlyCanNeverMatch() {
        let yaml = Self.withRules("{ name: reports, when: { category: report }, skill: general }")
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "report }", in: yaml)
        #expect(d?.message == "a reporting rule for reports only can never match: reports close worklist items, they never "
            + "need one; match images (category: image) or leave category out")
        #expect(d?.path == "reporting.rules[0].when.category")
        #expect(throws: Never.self) {
            try parse(Self.withRules("{ name: mixed, when: { category: [image, report] }, skill: general }"))
        }
    }

    @Test func ruleAfterARuleWithoutConditionIsUnreachable() {
        let yaml = Self.withRules("{ name: stroke, when: { Modality: CT }, skill: neuro }",
                                  "{ name: everything, skill: general }",
                                  "{ name: chest, when: { BodyPartExamined: CHEST }, skill: chest }",
                                  "{ name: night, time: \"20:00-08:00\", skill: general }")
        let all = diagnostics(yaml)
        #expect(all.count == 2, "\(ConfigError(diagnostics: all))")
        guard all.count == 2 else { return }
        let everythingLine = locate("everything", in: yaml)?.line ?? 0
        expect(all[0], .invalidValue, at: "chest", in: yaml, occurrence: 2)
        #expect(all[0].message == "reporting rule 'chest' can never match: rule 'everything' on line \(everythingLine) has no "
            + "condition (no when, from, calling_ae or time) and the first matching rule wins; move this rule above it, "
            + "or give 'everything' a condition")
        expect(all[1], .invalidValue, at: "night", in: yaml)
        // Last, a rule without a condition is a catch-all, which is fine.
        #expect(throws: Never.self) {
            try parse(Self.withRules("{ name: stroke, when: { Modality: CT }, skill: neuro }", "{ name: rest, skill: general }"))
        }
    }

    @Test func ruleFromANodeThatIsNotASourceCanNeverMatch() {
        let yaml = Self.withRules("{ name: r, from: [TRUST_A, NEURO_HUB], skill: neuro }")
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "NEURO_HUB]", in: yaml)
        #expect(d?.message == "node 'NEURO_HUB' is not a source (roles: destination, reporter), so no study ever arrives "
            + "from it and this rule can never match; name the source nodes the studies come from")
        #expect(d?.path == "reporting.rules[0].from[1]")
    }

    @Test func rulesWithoutAnyReportingSiteAreReportedOnRules() {
        let yaml = """
            nodes:
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 11113, roles: [destination, reporter] }
            reporting:
              grace: 10m
              rules:
                - { name: all, when: { category: image }, skill: general }
            """
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "rules", in: yaml)
        #expect(d?.message == "no reporter site has a reporting: key, so no item could ever be allocated; give the reporter "
            + "nodes that report these studies reporting: { skills: [...] }")
        #expect(d?.description.hasPrefix("test.yaml:5:3: error: reporting.rules: ") == true)
    }

    @Test func invalidReportingKeyOnANodeIsNotReportedAgainByTheRules() {
        let yaml = """
            nodes:
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 11113, roles: [destination, reporter], reporting: { skills: [Neuro] } }
            reporting:
              rules:
                - { name: head, when: { BodyPartExamined: HEAD }, skill: neuro }
            """
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "Neuro", in: yaml)
    }

    // MARK: Mistakes in a node's reporting key

    @Test func skillNamesMustBeLowerCase() {
        let yaml = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [destination, reporter], reporting: { skills: [neuro, Chest, \"x y\"] } }\n"
        let all = diagnostics(yaml)
        #expect(all.count == 2, "\(ConfigError(diagnostics: all))")
        expect(all.first, .invalidValue, at: "Chest", in: yaml)
        #expect(all.first?.message == "'Chest' is not a skill name; use lower-case letters, digits, '_' and '-'; write 'chest'")
        #expect(all.last?.message == "'x y' is not a skill name; use lower-case letters, digits, '_' and '-'")
    }

    @Test func reportingSiteNeedsSkills() {
        let none = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [destination, reporter], reporting: { capacity: 5 } }\n"
        let missing = singleDiagnostic(none)
        expect(missing, .missingKey, at: "reporting", in: none)
        #expect(missing?.message.hasPrefix("missing required key 'skills'") == true)
        let empty = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [destination, reporter], reporting: { skills: [] } }\n"
        let d = singleDiagnostic(empty)
        expect(d, .invalidValue, at: "[] }", in: empty)
        #expect(d?.message == "a reporter site needs at least one skill, e.g. skills: [neuro]")
        let bare = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [destination, reporter], reporting: }\n"
        #expect(singleDiagnostic(bare)?.code == .missingKey)
    }

    @Test func reportingSiteNeedsTheRoleReporter() {
        let yaml = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [destination], reporting: { skills: [neuro] } }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "[destination]", in: yaml)
        #expect(d?.message == "a node with 'reporting' needs the role reporter; add reporter to its roles")
    }

    @Test func reportingSiteNotOnDemandNeedsTheRoleDestination() {
        let yaml = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [reporter], reporting: { skills: [neuro] } }\n"
        let d = singleDiagnostic(yaml)
        expect(d, .invalidValue, at: "[reporter]", in: yaml)
        #expect(d?.message == "a node with 'reporting' is sent the images of the studies allocated to it, so it needs the "
            + "role destination; add destination to its roles, or set on_demand: true in its reporting if it retrieves them itself")
        #expect(throws: Never.self) {
            try parse("nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [reporter], reporting: { skills: [neuro], on_demand: true } }\n")
        }
    }

    @Test(arguments: [("capacity: 0", "0 }"), ("capacity: many", "many"), ("hours: \"8-20\"", "\"8-20\""),
                      ("on_demand: sometimes", "sometimes"), ("organisation: \"\"", "\"\""), ("skils: [neuro]", "skils")])
    func badReportingValuesAreReportedWhereWritten(key: String, needle: String) {
        let yaml = "nodes:\n  H: { ae_title: H, host: 127.0.0.1, port: 104, roles: [destination, reporter], reporting: { skills: [neuro], \(key) } }\n"
        let d = singleDiagnostic(yaml)
        #expect(d?.line == 2 && d?.column == locate(needle, in: yaml)?.column, "\(String(describing: d))")
    }
}
