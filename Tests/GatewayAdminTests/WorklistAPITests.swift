import Foundation
@testable import GatewayAdmin
import GatewayConfig
import GatewayStore
import Testing

/// `/api/v1/worklist` and the worklist's metrics over a real index: what operators and
/// reporter sites see of the network's reporting work, and what a refused change leaves behind.
@Suite struct WorklistAPITests {
    /// Five items: an overdue stat one at NEURO_HUB, an urgent one in progress at EAST_RAD, a
    /// routine one scheduled, a reported one (late, but no longer overdue) and a no-rule orphan.
    struct Network {
        var stat: Int64, urgent: Int64, routine: Int64, reported: Int64, orphan: Int64
        static let statUID = "1.2.826.0.1.3680043.10.1.101"

        init(_ h: WorklistAPIHarness, now: Date = Date()) throws {
            stat = try h.item(Self.statUID, rank: 3, state: .allocated, site: "NEURO_HUB", deadlineIn: -600, now: now)
            urgent = try h.item("1.2.826.0.1.3680043.10.1.102", rank: 2, state: .inProgress, site: "EAST_RAD", deadlineIn: 1800, now: now)
            routine = try h.item("1.2.826.0.1.3680043.10.1.103", rank: 1, deadlineIn: 7200, now: now)
            reported = try h.item("1.2.826.0.1.3680043.10.1.104", rank: 1, state: .reported, site: "EAST_RAD", deadlineIn: -300,
                                  reportedAt: now.addingTimeInterval(-400), now: now)
            orphan = try h.item("1.2.826.0.1.3680043.10.1.105", rank: 1, deadlineIn: 60, origin: "TRUST_B", orphan: .noRule, now: now)
            try h.study(Self.statUID, accession: "ACC-9", description: "CT head stroke", modalities: "CT", instances: 240)
        }
    }

    static func ids(_ answer: WorklistAPIHarness.Answer) -> [Int64] {
        answer.items.compactMap { ($0["id"] as? NSNumber)?.int64Value }
    }

    @Test func listingIsSoonestDeadlineFirstAndEachFilterNarrowsIt() async throws {
        let h = try WorklistAPIHarness()
        let n = try Network(h)
        let all = try await h.get("/api/v1/worklist")
        #expect(all.status == .ok, "\(all.text)")
        #expect(Self.ids(all) == [n.stat, n.reported, n.orphan, n.urgent, n.routine], "\(all.text)")
        #expect(all.json["total"] as? Int == 5 && all.json["limit"] as? Int == 100 && all.json["offset"] as? Int == 0)

        #expect(Self.ids(try await h.get("/api/v1/worklist?site=NEURO_HUB")) == [n.stat])
        #expect(Self.ids(try await h.get("/api/v1/worklist?state=scheduled,allocated")) == [n.stat, n.orphan, n.routine])
        #expect(Self.ids(try await h.get("/api/v1/worklist?class=urgent")) == [n.urgent])
        #expect(Self.ids(try await h.get("/api/v1/worklist?class=STAT")) == [n.stat])
        #expect(Self.ids(try await h.get("/api/v1/worklist?origin=TRUST_B")) == [n.orphan])
        #expect(Self.ids(try await h.get("/api/v1/worklist?overdue=true")) == [n.stat], "a reported item is never overdue")
        #expect(Self.ids(try await h.get("/api/v1/worklist?overdue=false")) == [n.reported, n.orphan, n.urgent, n.routine])
        #expect(Self.ids(try await h.get("/api/v1/worklist?orphan=true")) == [n.orphan])
        #expect(Self.ids(try await h.get("/api/v1/worklist?skill=neuro&study=\(Network.statUID)")) == [n.stat])
        #expect(Self.ids(try await h.get("/api/v1/worklist?skill=msk")) == [])
        let page = try await h.get("/api/v1/worklist?limit=2&offset=1")
        #expect(Self.ids(page) == [n.reported, n.orphan] && page.json["total"] as? Int == 5, "\(page.text)")
    }

    @Test func anItemShowsItsDeadlineAsOverdueOrNotAndItsStudyWhenCached() async throws {
        let h = try WorklistAPIHarness()
        let n = try Network(h)
        let items = try await h.get("/api/v1/worklist").items
        let stat = try #require(items.first { ($0["id"] as? NSNumber)?.int64Value == n.stat })
        #expect(stat["overdue"] as? Bool == true)
        #expect((stat["seconds_to_deadline"] as? Int ?? 0) < -590, "\(stat)")
        #expect(stat["class"] as? String == "stat" && stat["state"] as? String == "allocated" && stat["site"] as? String == "NEURO_HUB")
        #expect(stat["accession_number"] as? String == "ACC-9" && stat["study_description"] as? String == "CT head stroke")
        #expect(stat["modalities"] as? String == "CT" && stat["instances"] as? Int == 240)
        #expect(stat["rule"] as? String == "neuro-ct" && stat["skill"] as? String == "neuro" && stat["effort"] as? Double == 1.5)
        #expect((stat["deadline"] as? String ?? "").hasSuffix("Z"), "ISO 8601 in UTC: \(stat)")
        #expect(stat["allocated_at"] is String && stat["started_at"] is NSNull && stat["cancelled_at"] is NSNull, "\(stat)")
        #expect(stat["orphan"] is NSNull && stat["flag"] as? String == "")
        #expect(stat["patient_id"] is NSNull, "no patient data unless http.patient_data: \(stat)")

        let reported = try #require(items.first { ($0["id"] as? NSNumber)?.int64Value == n.reported })
        #expect(reported["overdue"] as? Bool == false && (reported["seconds_to_deadline"] as? Int ?? 0) < 0, "\(reported)")
        #expect(reported["reported_at"] is String && reported["accession_number"] is NSNull && reported["instances"] is NSNull)
        let orphan = try #require(items.first { ($0["id"] as? NSNumber)?.int64Value == n.orphan })
        #expect(orphan["orphan"] as? String == "no_rule" && orphan["rule"] is NSNull && orphan["site"] is NSNull)
        #expect(items.allSatisfy { $0.keys.count == 28 }, "every item carries every field: \(items.map { $0.keys.sorted() })")

        let shown = try WorklistAPIHarness(patientData: true)
        _ = try Network(shown)
        let withPatient = try await shown.get("/api/v1/worklist?class=stat").items.first
        #expect(withPatient?["patient_id"] as? String == "NET-101", "the network Patient ID with http.patient_data: \(String(describing: withPatient))")
    }

    @Test func badFiltersAreRefusedNamingTheParameterAndItsValues() async throws {
        let h = try WorklistAPIHarness()
        for (query, says) in [
            ("state=allocated,lost", "in_progress"), ("class=critical", "stat, urgent, routine, bulk"), ("overdue=yes", "overdue=yes"),
            ("orphan=1", "true or false"), ("limit=0", "1 to 1000"), ("limit=5000", "1 to 1000"), ("offset=-1", "offset"),
            ("limit=many", "limit=many"), ("states=allocated", "unknown query parameter 'states'"),
        ] {
            let answer = try await h.get("/api/v1/worklist?\(query)")
            #expect(answer.status == .badRequest, "\(query): \(answer.status)")
            #expect((answer.json["error"] as? String ?? "").contains(says), "\(query): \(answer.text)")
        }
        #expect(try await h.get("/api/v1/worklist/seven").status == .badRequest)
        #expect(try await h.get("/api/v1/worklist/999").status == .notFound)
        let window = try await h.get("/api/v1/worklist/turnaround?window=1y")
        #expect(window.status == .badRequest && window.text.contains("24h or 7d"), "\(window.text)")
    }

    @Test func theItemDetailEmbedsTheAllocatorsExplanationAndTheHistory() async throws {
        let h = try WorklistAPIHarness()
        let n = try Network(h)
        let decision = #"{"candidates":[{"capacity":12,"eligible":true,"has_skill":true,"in_hours":true,"load_after":0.25,"note":"chosen","open_effort":1.5,"passed_over":false,"preferred":true,"reachable":true,"site":"NEURO_HUB"},{"capacity":6,"eligible":false,"has_skill":true,"in_hours":false,"load_after":0.5,"note":"outside its hours (08:00-18:00)","open_effort":1.5,"passed_over":false,"preferred":false,"reachable":true,"site":"EAST_RAD"}],"chosen":"NEURO_HUB","decided_at":"2025-06-01T10:00:00Z","reason":"NEURO_HUB has the lowest load after taking it (0.25 of its 12 per hour)"}"#
        try h.index.assignWorklistItem(n.routine, WorklistAssignment(site: "NEURO_HUB", pushImages: false, edits: "{}", explanation: decision,
                                                                     event: "allocated", actor: "gateway", detail: "lowest load"),
                                       from: [.scheduled])
        let detail = try await h.get("/api/v1/worklist/\(n.routine)")
        #expect(detail.status == .ok, "\(detail.text)")
        #expect(detail.json["state"] as? String == "allocated" && detail.json["site"] as? String == "NEURO_HUB")
        let explanation = try #require(detail.json["explanation"] as? [String: Any], "\(detail.text)")
        #expect(explanation["chosen"] as? String == "NEURO_HUB" && explanation["decided_at"] as? String == "2025-06-01T10:00:00Z")
        let candidates = explanation["candidates"] as? [[String: Any]] ?? []
        #expect(candidates.map { $0["site"] as? String } == ["NEURO_HUB", "EAST_RAD"])
        #expect(candidates.last?["in_hours"] as? Bool == false && candidates.last?["load_after"] as? Double == 0.5, "\(candidates)")
        let history = detail.json["history"] as? [[String: Any]] ?? []
        #expect(history.map { $0["event"] as? String } == ["allocated"], "\(detail.text)")
        #expect(history.first?["actor"] as? String == "gateway" && history.first?["site"] as? String == "NEURO_HUB")
        #expect(history.first?["detail"] as? String == "lowest load" && history.first?["time"] is String)

        let never = try await h.get("/api/v1/worklist/\(n.orphan)")
        #expect(never.json["explanation"] is NSNull && (never.json["history"] as? [Any])?.isEmpty == true, "\(never.text)")
    }

    @Test func sitesSummaryAndTurnaroundAreNotTakenForAnItemID() async throws {
        let h = try WorklistAPIHarness()
        let now = Date()
        let n = try Network(h, now: now)
        // Two routine reports in the middle of the hour before this one: 100 s and 1000 s after arrival.
        let hour = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        for (uid, seconds) in [("1.2.826.0.1.3680043.10.1.201", 100.0), ("1.2.826.0.1.3680043.10.1.202", 1000.0)] {
            let reportedAt = Date(timeIntervalSince1970: hour - 1800)
            try h.item(uid, rank: 1, state: .returned, site: "EAST_RAD", deadlineIn: 3600,
                       arrivedAgo: now.timeIntervalSince(reportedAt) + seconds, reportedAt: reportedAt, now: now)
        }

        let sites = try await h.get("/api/v1/worklist/sites")
        #expect(sites.status == .ok, "\(sites.text)")
        let rows = sites.json["sites"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["site"] as? String } == ["NEURO_HUB", "EAST_RAD"], "\(sites.text)")
        let east = try #require(rows.last)
        #expect(east["open_effort"] as? Double == 1.5 && east["open_items"] as? Int == 1 && east["load"] as? Double == 0.25, "\(east)")
        #expect(east["on_demand"] as? Bool == true && east["hours"] is NSNull && east["organisation"] is NSNull && east["skills"] as? [String] == ["neuro", "msk"])
        #expect(rows.first?["hours"] as? String == "08:00-20:00" && rows.first?["in_hours_now"] as? Bool == true)

        let summary = try await h.get("/api/v1/worklist/summary")
        #expect(summary.status == .ok, "\(summary.text)")
        let byState = summary.json["by_state"] as? [String: Int] ?? [:]
        #expect(byState == ["scheduled": 2, "allocated": 1, "in_progress": 1, "reported": 1, "returned": 2, "cancelled": 0], "\(summary.text)")
        #expect(summary.json["by_class"] as? [String: Int] == ["stat": 1, "urgent": 1, "routine": 2, "bulk": 0], "open items only: \(summary.text)")
        #expect(summary.json["overdue"] as? Int == 1 && summary.json["orphans"] as? Int == 1, "\(summary.text)")
        #expect(summary.json["notifications_pending"] as? Int == 0)

        let turnaround = try await h.get("/api/v1/worklist/turnaround")
        #expect(turnaround.status == .ok, "\(turnaround.text)")
        #expect(turnaround.json["window"] as? String == "24h" && turnaround.json["bucket_seconds"] as? Int == 3600)
        let series = turnaround.json["series"] as? [[String: Any]] ?? []
        #expect(series.map { $0["class"] as? String } == ["routine"], "\(turnaround.text)")
        let points = series.first?["points"] as? [[String: Any]] ?? []
        // The item reported 400 s ago falls in this hour or the last; the two fixtures in the last.
        let last = points.first { $0["start"] as? String == ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: hour - 3600)) }
        #expect(points.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 3, "\(turnaround.text)")
        #expect((last?["count"] as? Int ?? 0) >= 2, "\(turnaround.text)")
        let week = try await h.get("/api/v1/worklist/turnaround?window=7d")
        #expect(week.json["bucket_seconds"] as? Int == 21_600, "\(week.text)")
        _ = n
    }

    @Test func aSecondClaimIsRefusedWith409AndTheRefusalIsAudited() async throws {
        let h = try WorklistAPIHarness()
        let n = try Network(h)
        let first = try await h.post("/api/v1/worklist/\(n.routine)/claim", #"{"site": "EAST_RAD", "reporter": "dr.khan"}"#)
        #expect(first.status == .ok, "\(first.text)")
        #expect(first.json["state"] as? String == "in_progress" && first.json["site"] as? String == "EAST_RAD")
        #expect(first.json["reporter"] as? String == "dr.khan" && first.json["started_at"] is String, "\(first.text)")

        let second = try await h.post("/api/v1/worklist/\(n.routine)/claim", #"{"site": "NEURO_HUB", "reporter": "dr.lee"}"#)
        #expect(second.status == .conflict, "\(second.text)")
        #expect((second.json["error"] as? String ?? "").contains("in_progress at EAST_RAD"), "\(second.text)")
        #expect(try h.index.worklistItem(id: n.routine)?.site == "EAST_RAD", "the refused claim changed nothing")

        h.index.flush()
        let studyUID = try #require(try h.index.worklistItem(id: n.routine)?.studyUID)
        let audit = try h.index.auditRecords(limit: 10, event: "worklist", studyUID: studyUID)
        #expect(audit.map(\.outcome).sorted() == ["claimed", "refused"], "\(audit)")
        let refused = try #require(audit.first { $0.outcome == "refused" })
        #expect(refused.actor == "http-api" && refused.detail.contains("claim of item \(n.routine) to NEURO_HUB refused"), "\(refused)")
        #expect(h.worklist.actors == ["http-api", "http-api"])
    }

    @Test func aSiteWithoutTheWorklistPermissionTakesNoClaimAndTheRefusalIsASecurityAlert() async throws {
        var east = NodeConfig(name: "EAST_RAD", aeTitle: "EAST_AE", host: "127.0.0.1", port: 4300, roles: [.reporter, .destination])
        east.access.allow = [.echo, .find, .move]
        let h = try WorklistAPIHarness(nodes: [east])
        let n = try Network(h)
        let claim = try await h.post("/api/v1/worklist/\(n.routine)/claim", #"{"site": "EAST_RAD", "reporter": "dr.khan"}"#)
        #expect(claim.status == .forbidden && claim.text.contains("may not take part in the worklist"), "\(claim.text)")
        let reassign = try await h.post("/api/v1/worklist/\(n.routine)/reassign", #"{"site": "EAST_RAD"}"#)
        #expect(reassign.status == .forbidden, "\(reassign.text)")
        #expect(h.worklist.actors.isEmpty, "nothing reached the worklist")
        // Sites the configuration does not restrict (here NEURO_HUB, not a node of it) are unaffected.
        #expect(try await h.post("/api/v1/worklist/\(n.routine)/claim", #"{"site": "NEURO_HUB"}"#).status == .ok)
        h.index.flush()
        let alerts = try h.index.auditRecords(limit: 10, event: "security-alert", studyUID: nil)
        #expect(alerts.map(\.outcome) == ["permission-denied", "permission-denied"], "\(alerts)")
        #expect(alerts.contains { $0.detail.hasPrefix("claim of item \(n.routine): node EAST_RAD may not take part") }, "\(alerts)")
    }

    @Test func changesNeedTheirFieldsAKnownItemAndARunningWorklist() async throws {
        let h = try WorklistAPIHarness()
        let n = try Network(h)
        let noReason = try await h.post("/api/v1/worklist/\(n.routine)/cancel", "{}")
        #expect(noReason.status == .badRequest && noReason.text.contains("reason"), "\(noReason.text)")
        #expect(try await h.post("/api/v1/worklist/\(n.routine)/reassign", "{}").status == .badRequest)
        let misspelt = try await h.post("/api/v1/worklist/\(n.routine)/claim", #"{"sites": "EAST_RAD"}"#)
        #expect(misspelt.status == .badRequest && misspelt.text.contains("unknown key 'sites'"), "\(misspelt.text)")
        #expect(try await h.post("/api/v1/worklist/999/claim", #"{"site": "EAST_RAD"}"#).status == .notFound)
        let nowhere = try await h.post("/api/v1/worklist/\(n.routine)/reassign", #"{"site": "NOWHERE"}"#)
        #expect(nowhere.status == .notFound && nowhere.text.contains("NOWHERE"), "\(nowhere.text)")

        let moved = try await h.post("/api/v1/worklist/\(n.stat)/reassign", #"{"site": "EAST_RAD"}"#)
        #expect(moved.status == .ok && moved.json["site"] as? String == "EAST_RAD" && moved.json["state"] as? String == "allocated", "\(moved.text)")
        #expect(moved.json["accession_number"] as? String == "ACC-9", "the answer is the item view: \(moved.text)")
        let released = try await h.post("/api/v1/worklist/\(n.stat)/release", "")
        #expect(released.status == .ok && released.json["state"] as? String == "scheduled" && released.json["site"] is NSNull, "\(released.text)")
        let cancelled = try await h.post("/api/v1/worklist/\(n.stat)/cancel", #"{"reason": "duplicate of an earlier study"}"#)
        #expect(cancelled.status == .ok && cancelled.json["state"] as? String == "cancelled" && cancelled.json["cancelled_at"] is String)
        let again = try await h.post("/api/v1/worklist/\(n.stat)/cancel", #"{"reason": "twice"}"#)
        #expect(again.status == .conflict, "\(again.text)")
        let events = try h.index.worklistHistory(id: n.stat).map(\.event)
        #expect(events == ["reassigned", "released", "cancelled"], "\(events)")

        let stopped = try WorklistAPIHarness(worklistRunning: false)
        let item = try stopped.item("1.2.826.0.1.3680043.10.1.301", rank: 1, state: .allocated, site: "GONE_SITE", deadlineIn: 3600)
        let unavailable = try await stopped.post("/api/v1/worklist/\(item)/claim", #"{"site": "EAST_RAD"}"#)
        #expect(unavailable.status == .serviceUnavailable && unavailable.text.contains("not running"), "\(unavailable.text)")
        let sites = try await stopped.get("/api/v1/worklist/sites").json["sites"] as? [[String: Any]] ?? []
        #expect(sites.count == 1 && sites.first?["site"] as? String == "GONE_SITE" && sites.first?["configured"] as? Bool == false, "\(sites)")
    }

    @Test func metricsCarryTheWorklistGaugesAndTheTurnaroundHistogram() async throws {
        let h = try WorklistAPIHarness()
        let now = Date()
        let n = try Network(h, now: now)
        try h.item("1.2.826.0.1.3680043.10.1.401", rank: 1, state: .returned, site: "EAST_RAD", deadlineIn: 3600,
                   arrivedAgo: 5000, reportedAt: now.addingTimeInterval(-4900), now: now)
        try h.index.markWorklistOverdue(n.stat)

        let page = try await h.get("/metrics")
        #expect(page.status == .ok)
        let lines = Set(page.text.split(separator: "\n").map(String.init))
        for expected in [
            #"dicom_gateway_worklist_items{state="allocated",class="stat",site="NEURO_HUB"} 1"#,
            #"dicom_gateway_worklist_items{state="in_progress",class="urgent",site="EAST_RAD"} 1"#,
            #"dicom_gateway_worklist_items{state="scheduled",class="routine",site=""} 2"#,
            #"dicom_gateway_worklist_overdue{origin="TRUST_A",site="NEURO_HUB",class="stat"} 1"#,
            #"dicom_gateway_worklist_orphans{origin="TRUST_B"} 1"#,
            "dicom_gateway_worklist_notifications_pending 1",
            // Routine reports: 3200 s (arrived an hour ago, reported 400 s ago) and 100 s.
            #"dicom_gateway_worklist_turnaround_seconds_bucket{class="routine",le="300"} 1"#,
            #"dicom_gateway_worklist_turnaround_seconds_bucket{class="routine",le="1800"} 1"#,
            #"dicom_gateway_worklist_turnaround_seconds_bucket{class="routine",le="3600"} 2"#,
            #"dicom_gateway_worklist_turnaround_seconds_bucket{class="routine",le="7200"} 2"#,
            #"dicom_gateway_worklist_turnaround_seconds_bucket{class="routine",le="604800"} 2"#,
            #"dicom_gateway_worklist_turnaround_seconds_bucket{class="routine",le="+Inf"} 2"#,
            #"dicom_gateway_worklist_turnaround_seconds_sum{class="routine"} 3300"#,
            #"dicom_gateway_worklist_turnaround_seconds_count{class="routine"} 2"#,
            "# TYPE dicom_gateway_worklist_turnaround_seconds histogram",
        ] {
            #expect(lines.contains(expected), "missing \(expected) in:\n\(page.text)")
        }
        #expect(!page.text.contains(#"class="stat",le="#), "no histogram for a class with no report")
        let declared = page.text.split(separator: "\n").filter { $0.hasPrefix("# TYPE dicom_gateway_worklist") }
        #expect(Set(declared).count == declared.count && declared.count == 5, "\(declared)")
    }
}
