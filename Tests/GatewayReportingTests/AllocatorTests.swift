import DicomCore
import Foundation
import GatewayConfig
import GatewayReporting
import GatewayRouting
import Testing

@Suite struct AllocatorTests {
    static let nine = TimeOfDay(hour: 9, minute: 0)

    static func plan(prefer: ReportingPreference = .none) -> ReportingPlan {
        var settings = ReportingSettings()
        settings.prefer = prefer
        return ReportingPlan(settings: settings, sites: [
            ReporterSite(name: "NEURO", skills: ["neuro"], capacity: 12, hours: TimeWindow(parsing: "08:00-20:00")),
            ReporterSite(name: "BIG", skills: ["chest", "general"], capacity: 40),
            ReporterSite(name: "SMALL", skills: ["chest", "general"], capacity: 10, organisation: "RTH"),
        ], organisations: ["TRUST_A": "RTH", "TRUST_B": "RGT"])
    }

    @Test func burstSpreadsInProportionToCapacity() {
        let allocator = Allocator(plan: Self.plan())
        var loads: [String: Double] = [:]
        var counts: [String: Int] = [:]
        for _ in 0..<50 {
            let decision = allocator.decide(.init(skill: "general", effort: 1), loads: loads, failing: [], at: Self.nine)
            let site = try! #require(decision.chosen)
            loads[site, default: 0] += 1
            counts[site, default: 0] += 1
        }
        #expect(counts["BIG"] == 40)
        #expect(counts["SMALL"] == 10)
        #expect(counts["NEURO"] == nil)
    }

    @Test func onlySitesWithTheSkillInHoursAndReachableAreEligible() {
        let allocator = Allocator(plan: Self.plan())
        let neuro = allocator.decide(.init(skill: "neuro", effort: 1), loads: [:], failing: [], at: Self.nine)
        #expect(neuro.chosen == "NEURO")
        let night = allocator.decide(.init(skill: "neuro", effort: 1), loads: [:], failing: [], at: TimeOfDay(hour: 22, minute: 0))
        #expect(night.chosen == nil)
        #expect(night.reason.contains("NEURO outside its hours (08:00-20:00)"))
        let down = allocator.decide(.init(skill: "general", effort: 1), loads: [:], failing: ["BIG"], at: Self.nine)
        #expect(down.chosen == "SMALL")
        #expect(down.candidates.first { $0.site == "BIG" }?.note == "its deliveries are failing")
        let unknown = allocator.decide(.init(skill: "cardiac", effort: 1), loads: [:], failing: [], at: Self.nine)
        #expect(unknown.chosen == nil)
        #expect(unknown.reason == "no reporter site has the skill cardiac")
    }

    @Test func originsOwnSitesWinWhileTheyHaveRoom() {
        let allocator = Allocator(plan: Self.plan(prefer: .origin))
        let fresh = allocator.decide(.init(skill: "chest", effort: 1, origin: "TRUST_A"), loads: [:], failing: [], at: Self.nine)
        #expect(fresh.chosen == "SMALL")
        #expect(fresh.reason.contains("origin's organisation"))
        let full = allocator.decide(.init(skill: "chest", effort: 1, origin: "TRUST_A"), loads: ["SMALL": 10], failing: [], at: Self.nine)
        #expect(full.chosen == "BIG")
        let elsewhere = allocator.decide(.init(skill: "chest", effort: 1, origin: "TRUST_B"), loads: [:], failing: [], at: Self.nine)
        #expect(elsewhere.chosen == "BIG")
    }

    @Test func aSiteTheItemWasTakenFromIsTheLastResort() {
        let allocator = Allocator(plan: Self.plan())
        let other = allocator.decide(.init(skill: "chest", effort: 1, passedOver: ["BIG"]), loads: [:], failing: [], at: Self.nine)
        #expect(other.chosen == "SMALL")
        let only = allocator.decide(.init(skill: "chest", effort: 1, passedOver: ["BIG", "SMALL"]), loads: [:], failing: [], at: Self.nine)
        #expect(only.chosen == "BIG")
        #expect(only.reason.contains("had given it up before"))
        let excluded = allocator.decide(.init(skill: "chest", effort: 1, excluding: "SMALL"), loads: ["BIG": 100], failing: [], at: Self.nine)
        #expect(excluded.chosen == "BIG")
        #expect(excluded.reason.contains("over capacity"))
        #expect(!excluded.candidates.contains { $0.site == "SMALL" })
    }

    @Test func explanationIsJSONWithEveryCandidate() throws {
        let decision = Allocator(plan: Self.plan()).decide(.init(skill: "chest", effort: 0.5), loads: ["BIG": 4], failing: [], at: Self.nine)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(decision.json.utf8)) as? [String: Any])
        #expect(object["chosen"] as? String == "SMALL")  // 0.5/10 after, against BIG's 4.5/40
        let candidates = try #require(object["candidates"] as? [[String: Any]])
        #expect(candidates.count == 3)
        #expect(candidates.contains { $0["site"] as? String == "NEURO" && $0["note"] as? String == "does not report chest" })
        #expect(candidates.first { $0["site"] as? String == "BIG" }?["load_after"] as? Double == 4.5 / 40)
    }
}

@Suite struct ReportingPlanTests {
    static func instance(_ values: [DicomTag: String], sopClass: String = "1.2.840.10008.5.1.4.1.1.2") -> RoutedInstance {
        var attributes = DicomAttributes()
        for (tag, value) in values { attributes[tag] = value }
        return RoutedInstance(attributes: attributes, sopClassUID: sopClass, timeOfDay: TimeOfDay(hour: 10, minute: 0))
    }

    static let plan: ReportingPlan = {
        var settings = ReportingSettings()
        settings.rules = [
            ReportingRuleConfig(name: "stroke", condition: ConditionConfig(attributes: [
                AttributeMatchConfig(tag: .modality, patterns: [.exact("CT")]),
                AttributeMatchConfig(tag: .studyDescription, patterns: [.regex("(?i)stroke")]),
            ]), skill: "neuro", deadline: .seconds(1800)),
            ReportingRuleConfig(name: "images", condition: ConditionConfig(categories: [.image]), skill: "general", effort: 0.5),
        ]
        var config = GatewayConfiguration(baseDirectory: URL(fileURLWithPath: "/tmp"))
        config.reporting = settings
        return ReportingPlan(configuration: config)
    }()

    @Test func firstMatchingRuleGivesSkillAndDeadline() {
        let stroke = Self.plan.placement(for: Self.instance([.modality: "CT", .studyDescription: "Code STROKE head"]), priority: .stat)
        #expect(stroke == Placement(rule: "stroke", skill: "neuro", effort: 1, priorityClass: .stat, deadlineAfter: 1800))
        let routine = Self.plan.placement(for: Self.instance([.modality: "CR"]), priority: .routine)
        #expect(routine == Placement(rule: "images", skill: "general", effort: 0.5, priorityClass: .routine, deadlineAfter: 7 * 86_400))
        let urgent = Self.plan.placement(for: Self.instance([.modality: "CR"]), priority: .urgent)
        #expect(urgent.map { Int($0.deadlineAfter) } == 4 * 3600)
    }

    @Test func reportsNeverOpenAnItem() {
        let sr = Self.instance([.modality: "SR"], sopClass: "1.2.840.10008.5.1.4.1.1.88.33")
        #expect(Self.plan.placement(for: sr, priority: .routine) == nil)
        #expect(ReportObject.closesItem(sopClassUID: "1.2.840.10008.5.1.4.1.1.88.33"))
        #expect(ReportObject.closesItem(sopClassUID: "1.2.840.10008.5.1.4.1.1.104.1"))
        #expect(ReportObject.closesItem(sopClassUID: "1.2.840.10008.5.1.4.1.1.88.59"))
        // A CT's dose report arrives with its images: it is no radiologist's report.
        #expect(!ReportObject.closesItem(sopClassUID: "1.2.840.10008.5.1.4.1.1.88.67"))
        #expect(!ReportObject.closesItem(sopClassUID: "1.2.840.10008.5.1.4.1.1.2"))
    }
}

@Suite struct DecisionJSONTests {
    @Test func handWrittenJSONParsesWithEscapesAndAnISOTime() throws {
        let decision = Allocator.Decision(chosen: "A\"B", reason: "line\nbreak \\ and \u{1}", candidates: [],
                                          decidedAt: Date(timeIntervalSince1970: 1_764_849_903.25))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(decision.json.utf8)) as? [String: Any])
        #expect(object["chosen"] as? String == "A\"B")
        #expect(object["reason"] as? String == "line\nbreak \\ and \u{1}")
        #expect(object["decided_at"] as? String == "2025-12-04T12:05:03.250Z")
        #expect((object["candidates"] as? [Any])?.isEmpty == true)
    }
}
