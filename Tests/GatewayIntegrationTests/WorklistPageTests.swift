import DicomCore
import Foundation
import GatewayApp
import GatewayConfig
import GatewayReporting
import GRDB
import Logging
import Testing

/// The reporting worklist page in a real browser: a live gateway (in-process, its HTTP API on
/// loopback) holds known worklist items, headless Chromium loads `/dashboard/worklist`, runs its
/// scripts against the real API, and the test reads the DOM it leaves.
@Suite(.serialized) struct WorklistPageTests {
    static func yaml(_ dir: TestDirectory, dicomPort: Int, httpPort: Int) -> String {
        """
        gateway: { ae_title: NETGW, port: \(dicomPort), max_associations: 8 }
        storage: { path: \(dir.path)/storage, min_free_space: 0B }
        http: { port: \(httpPort) }
        nodes:
          TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
          TRUST_B: { ae_title: TRUSTB_PACS, roles: [source] }
          NEURO_HUB: { ae_title: NEURO_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination, reporter],
                       reporting: { skills: [neuro], capacity: 10 } }
          GENERAL_HUB: { ae_title: GEN_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [destination, reporter],
                         reporting: { skills: [chest, general], capacity: 20 } }
        reporting:
          review_interval: 1h
          rules:
            - { name: head, when: { BodyPartExamined: HEAD }, skill: neuro }
            - { name: chest, when: { BodyPartExamined: CHEST }, skill: chest }
        """
    }

    /// The items the page is shown. Written straight into the index: this fixture bypasses
    /// allocation on purpose (the page is under test, not the allocator), so every state, site,
    /// deadline and report time is exactly what the assertions expect. Items are in progress,
    /// allocated within `grace`, orphaned without a skill or returned, so the review pass the
    /// gateway makes at start cannot move them.
    struct Fixture {
        var overdue: Int64 = 0
        var orphan: Int64 = 0
        /// Routine items by deadline: a quarter or less of their time left, a third, six sevenths.
        var routine: [(id: Int64, site: String, urgency: String)] = []
        var returned: [Int64] = []
        var overdueUID = ""
    }

    static let day = 86_400.0

    static func insertFixture(_ gateway: Gateway, explanation: String) throws -> Fixture {
        let now = Date().timeIntervalSince1970
        var fixture = Fixture()
        try gateway.index.sqliteWrite { db in
            // Patients and studies as the ingest would file them: the page shows the study's
            // description and accession, never the patient's name.
            try db.execute(sql: "INSERT INTO patient(issuer, patientID, patientName) VALUES ('RTH', 'RTH-9001', 'Doe^Jane')")
            let patient = db.lastInsertedRowID
            func study(_ description: String, _ accession: String, _ modality: String) throws -> String {
                let uid = TestData.newUID()
                try db.execute(sql: """
                    INSERT INTO study(studyUID, patientRef, accessionNumber, studyDescription, modalities, instanceCount, originNode,
                                      receivedAt, updatedAt, lastAccessAt) VALUES (?, ?, ?, ?, ?, 3, 'TRUST_A', ?, ?, ?)
                    """, arguments: [uid, patient, accession, description, modality, Date(), Date(), Date()])
                return uid
            }
            func item(_ uid: String, origin: String, priority: Int, skill: String, effort: Double, rule: String?, arrived: Double,
                      deadline: Double, state: String, site: String?, allocated: Double? = nil, started: Double? = nil,
                      reported: Double? = nil, orphan: String? = nil, flag: String = "", explanation: String = "") throws -> Int64 {
                try db.execute(sql: """
                    INSERT INTO worklist_item(studyUID, origin, patientID, issuer, priority, skill, effort, rule, arrivedAt, deadline, state,
                                              site, reporter, allocatedAt, startedAt, reportedAt, reportedBy, returnedAt, orphan, flag,
                                              explanation, updatedAt)
                    VALUES (?, ?, 'RTH-9001', 'RTH', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [uid, origin, priority, skill, effort, rule, arrived, deadline, state, site,
                                     started == nil ? "" : "dr.lee", allocated, started, reported, reported == nil ? "" : "dr.lee",
                                     reported, orphan, flag, explanation, now])
                return db.lastInsertedRowID
            }
            func event(_ item: Int64, _ time: Double, _ name: String, site: String = "", _ detail: String) throws {
                try db.execute(sql: "INSERT INTO worklist_event(itemRef, time, event, actor, site, detail) VALUES (?, ?, ?, 'gateway', ?, ?)",
                               arguments: [item, time, name, site, detail])
            }

            // One stat stroke study, twenty minutes past its deadline, being reported at NEURO_HUB.
            fixture.overdueUID = try study("CT head STROKE pathway", "ACC-STROKE", "CT")
            fixture.overdue = try item(fixture.overdueUID, origin: "TRUST_A", priority: 3, skill: "neuro", effort: 1, rule: "head",
                                       arrived: now - 3000, deadline: now - 1200, state: "in_progress", site: "NEURO_HUB",
                                       allocated: now - 2940, started: now - 2700, explanation: explanation)
            try event(fixture.overdue, now - 3000, "created", "rule head")
            try event(fixture.overdue, now - 2940, "allocated", site: "NEURO_HUB", "NEURO_HUB has the lowest load after taking it")
            try event(fixture.overdue, now - 2700, "started", site: "NEURO_HUB", "retrieved by NEURO_READ")

            // A study that matched no rule and had no report for orphan_after: no skill, no site.
            fixture.orphan = try item(try study("US abdomen", "ACC-ORPHAN", "US"), origin: "TRUST_B", priority: 1, skill: "", effort: 1,
                                      rule: nil, arrived: now - 15 * day, deadline: now - day, state: "scheduled", site: nil,
                                      orphan: "no_rule", flag: "matched no reporting rule")

            // Three open routine items at two sites, created out of deadline order.
            let routine: [(String, String, String, Double, Double, String, String)] = [
                ("CR chest PA", "ACC-R1", "GENERAL_HUB", 1 * day, 6 * day, "allocated", "ok"),
                ("CR chest lateral", "ACC-R2", "GENERAL_HUB", 6.5 * day, 0.5 * day, "in_progress", "close"),
                ("MR brain", "ACC-R3", "NEURO_HUB", 4.5 * day, 2.5 * day, "in_progress", "soon"),
            ]
            for (description, accession, site, age, left, state, urgency) in routine {
                let skill = site == "NEURO_HUB" ? "neuro" : "chest"
                let id = try item(try study(description, accession, description.hasPrefix("MR") ? "MR" : "CR"), origin: "TRUST_A",
                                  priority: 1, skill: skill, effort: site == "NEURO_HUB" ? 1 : 0.5, rule: site == "NEURO_HUB" ? "head" : "chest",
                                  arrived: now - age, deadline: now + left, state: state, site: site, allocated: now - 600,
                                  started: state == "in_progress" ? now - 300 : nil)
                fixture.routine.append((id, site, urgency))
            }

            // Reports of the last day, three per class in three different hours: what the
            // turnaround chart draws (stat about 30 minutes, urgent 3 hours, routine 20 hours).
            for (priority, turnaround) in [(3, 1800.0), (2, 3 * 3600.0), (1, 20 * 3600.0)] {
                for (n, hoursAgo) in [2.0, 5.0, 9.0].enumerated() {
                    let reported = now - hoursAgo * 3600
                    fixture.returned.append(try item(TestData.newUID(), origin: "TRUST_A", priority: priority, skill: "neuro", effort: 1,
                                                     rule: "head", arrived: reported - turnaround * (0.8 + 0.2 * Double(n)),
                                                     deadline: reported + day, state: "returned", site: "NEURO_HUB",
                                                     allocated: reported - turnaround, started: reported - 60, reported: reported))
                }
            }
        }
        return fixture
    }

    @Test func coordinatorPageShowsOverdueOrphanOpenItemsSiteLoadsTurnaroundAndAnItemsCandidatesInChromium() async throws {
        let dir = TestDirectory("worklist-page")
        let httpPort = Net.freePort()
        let configuration = try GatewayConfiguration.parse(yaml: Self.yaml(dir, dicomPort: Net.freePort(), httpPort: httpPort),
                                                           sourceName: "worklist-page.yaml", baseDirectory: URL(fileURLWithPath: dir.path))
        var logger = Logger(label: "worklist-page")
        logger.logLevel = ProcessInfo.processInfo.environment["GATEWAY_TEST_LOG"] != nil ? .debug : .critical
        let gateway = try Gateway(configuration: configuration, logger: logger)
        let running = Task { try await gateway.run() }
        defer { running.cancel() }
        // Up to a minute: with the suites running in parallel, the gateway's task may wait for a
        // cooperative thread before it starts its HTTP server.
        let listening = try await OffPool.run { Net.waitForListener(httpPort, timeout: 60) }
        try #require(listening, "the gateway's HTTP API did not listen on \(httpPort)")

        // The explanation is the real allocator's, for this item on this configuration.
        let decision = Allocator(plan: ReportingPlan(configuration: configuration))
            .decide(.init(skill: "neuro", effort: 1, origin: "TRUST_A"), loads: ["NEURO_HUB": 1], failing: [], at: TimeOfDay(hour: 10, minute: 0))
        let fixture = try Self.insertFixture(gateway, explanation: decision.json)
        // The gateway's account of site loads reads rows written behind its back within 5 s.
        let loadsSeen = await OffPool.waitUntil(timeout: 15) {
            ((try? HTTPProbe(port: httpPort).get("/api/v1/worklist/sites").object()["sites"] as? [[String: Any]]) ?? [])?
                .contains { ($0["open_items"] as? Int ?? 0) > 0 } == true
        }
        #expect(loadsSeen, "the fixture's site loads never showed in /api/v1/worklist/sites")
        let home = try await OffPool.run { try HTTPProbe(port: httpPort).get("/") }
        #expect(home.text.contains("href=\"/dashboard/worklist\""), "the dashboard does not link to the worklist page")

        let page = "http://127.0.0.1:\(httpPort)/dashboard/worklist"
        let dom = try await HeadlessChromium.dumpDOM(page, in: dir)
        func context() -> String { "\n--- DOM ---\n\(dom.prefix(30_000))" }
        #expect(DOMElement.all(in: dom, "time", ["id": "last-updated"]).count == 1, "no 'last updated' stamp: the page did not finish a refresh\(context())")
        #expect(!dom.contains("Update failed"), "a request of the page failed\(context())")
        #expect(!dom.contains("Doe") && !dom.contains("Jane") && !dom.contains("RTH-9001"),
                "patient name or ID on the page (http.patient_data is off)\(context())")

        // Overdue and orphans: exactly the stat item (red, how late) and the orphan (amber, why).
        let attention = try #require(DOMElement.all(in: dom, "table", ["id": "attention-table"]).first, "no attention table\(context())")
        let flagged = attention.all("tr", class: "item")
        #expect(Set(flagged.compactMap { $0["data-item-id"] }) == [String(fixture.overdue), String(fixture.orphan)], "\(attention.inner)")
        let overdue = try #require(attention.first("tr", ["data-item-id": String(fixture.overdue)]), "\(attention.inner)")
        #expect(overdue["data-kind"] == "overdue" && overdue.classes.contains("overdue"))
        #expect(overdue["data-class"] == "stat" && overdue["data-site"] == "NEURO_HUB")
        #expect(overdue.text.contains("CT head STROKE pathway") && overdue.text.contains("Acc ACC-STROKE"), "\(overdue.text)")
        #expect(overdue.text.contains("20 min late") || overdue.text.contains("21 min late"), "\(overdue.text)")
        #expect(overdue.text.contains("in progress") && overdue.text.contains("TRUST_A"), "\(overdue.text)")
        let uid = try #require(overdue.first("span", class: "uid"), "\(overdue.inner)")
        #expect(uid["title"] == fixture.overdueUID && uid.text.count < fixture.overdueUID.count && uid.text.contains("…"),
                "the study UID is shortened with the full UID in its title: \(uid)")
        #expect(overdue.first("select", class: "reassign-site")?.all("option").contains { $0["value"] == "NEURO_HUB" && $0["disabled"] != nil } == true,
                "the reassign choice offers the sites with the skill, the current one disabled: \(overdue.inner)")
        #expect(overdue.first("button", class: "cancel") != nil)
        let orphan = try #require(attention.first("tr", ["data-item-id": String(fixture.orphan)]), "\(attention.inner)")
        #expect(orphan["data-kind"] == "orphan" && orphan["data-orphan"] == "no_rule" && orphan["data-overdue"] == "false", "\(orphan)")
        #expect(orphan.text.contains("orphan") && orphan.text.contains("matched no reporting rule") && !orphan.text.contains("overdue"),
                "\(orphan.text)")
        #expect(orphan.text.contains("US abdomen") && orphan.text.contains("TRUST_B"), "\(orphan.text)")

        // Open items, soonest deadline first: the three routine items at their sites, coloured
        // by the share of time left; nothing closed.
        let open = try #require(DOMElement.all(in: dom, "table", ["id": "open-table"]).first, "no open items table\(context())")
        let rows = open.all("tr", class: "item")
        for (id, site, urgency) in fixture.routine {
            let row = rows.first { $0["data-item-id"] == String(id) }
            #expect(row?["data-class"] == "routine" && row?["data-site"] == site, "item \(id): \(String(describing: row))")
            #expect(row?.first("td", class: "site")?.text == site, "item \(id) is not shown at \(site): \(String(describing: row?.inner))")
            #expect(row?.first("div", class: "dl")?["data-urgency"] == urgency, "item \(id): \(String(describing: row?.inner))")
        }
        let order = rows.compactMap { $0["data-item-id"].flatMap(Int64.init) }
        let routineByDeadline = [fixture.routine[1].id, fixture.routine[2].id, fixture.routine[0].id]
        #expect(order.filter(routineByDeadline.contains) == routineByDeadline, "not sorted by deadline: \(order)")
        #expect(order.first == fixture.overdue || order.first == fixture.orphan, "\(order)")
        #expect(Set(order).isDisjoint(with: fixture.returned), "returned items listed as open: \(order)")
        #expect(rows.first { $0["data-item-id"] == String(fixture.overdue) }?.first("div", class: "dl")?["data-urgency"] == "late")

        // Site load against capacity: a bar and a 100% marker per site (NEURO_HUB 2 of 10, GENERAL_HUB 1 of 20).
        for (site, load) in [("NEURO_HUB", "0.200"), ("GENERAL_HUB", "0.050")] {
            let bar = DOMElement.all(in: dom, "div", ["data-site": site], class: "site").first
            #expect(bar?["data-load"] == load, "\(site)\(context())")
            #expect(bar?.first("div", class: "load-bar") != nil && bar?.first("div", class: "cap-marker") != nil, "\(String(describing: bar))")
            #expect(bar?.text.contains("in hours") == true, "\(String(describing: bar?.text))")
        }

        // Turnaround over the last 24 h: one line per class that had reports, three hourly points each.
        let chart = try #require(DOMElement.all(in: dom, "svg", ["id": "turnaround-chart"]).first, "no turnaround chart\(context())")
        #expect(chart["data-window"] == "24h")
        for name in ["stat", "urgent", "routine"] {
            let line = chart.first("path", ["data-class": name], class: "series")
            let d = line?["d"] ?? ""
            #expect(line?["data-points"] == "3" && d.hasPrefix("M") && d.filter { $0 == "L" }.count == 2, "\(name): \(String(describing: line))")
            #expect(chart.all("circle", ["data-class": name]).count == 3)
        }
        #expect(chart.first("path", ["data-class": "bulk"]) == nil)
        #expect(chart.all("text").contains { $0.text == "1 h" } && chart.all("text").contains { $0.text.hasSuffix(":00") }, "axes without labels: \(chart.inner)")
        #expect(DOMElement.all(in: dom, "span", ["data-legend": "bulk"]).first?.text == "bulk (none)")

        // Filtered to one site with the overdue item's panel open, as a reload keeps them.
        let filtered = try await HeadlessChromium.dumpDOM(page + "#site=GENERAL_HUB&item=\(fixture.overdue)", in: dir)
        let filteredOpen = try #require(DOMElement.all(in: filtered, "table", ["id": "open-table"]).first, "\(filtered.prefix(20_000))")
        #expect(Set(filteredOpen.all("tr", class: "item").compactMap { $0["data-site"] }) == ["GENERAL_HUB"], "\(filteredOpen.inner)")
        #expect(filteredOpen.all("tr", class: "item").count == 2, "\(filteredOpen.inner)")
        let panel = try #require(DOMElement.all(in: filtered, "aside", ["id": "detail"]).first, "no detail panel")
        #expect(panel["data-detail-id"] == String(fixture.overdue) && panel["hidden"] == nil, "\(panel)")
        let chosen = panel.first("tr", ["data-candidate": "NEURO_HUB"])
        #expect(chosen?.classes.contains("chosen") == true && chosen?.text.contains("chosen") == true, "\(panel.inner)")
        let passed = panel.first("tr", ["data-candidate": "GENERAL_HUB"])
        #expect(passed?["data-eligible"] == "false" && passed?.text.contains("not eligible: does not report neuro") == true, "\(panel.inner)")
        let history = panel.first("table", ["id": "history"])?.all("tr").dropFirst().map { $0.text } ?? []
        #expect(history.count >= 3 && history[0].contains("created") && history[1].contains("allocated") && history[2].contains("started"),
                "\(history)")
        #expect(panel.text.contains("not shown (http.patient_data is off)"), "\(panel.text)")

        // WORKLIST_PAGE_SCREENSHOTS=DIR keeps what the page looked like, to judge it by eye.
        if let folder = ProcessInfo.processInfo.environment["WORKLIST_PAGE_SCREENSHOTS"] {
            try await HeadlessChromium.screenshot(page, to: folder + "/worklist.png", in: dir)
            try await HeadlessChromium.screenshot(page, to: folder + "/worklist-full.png", in: dir, height: 1500)
            try await HeadlessChromium.screenshot(page + "#item=\(fixture.overdue)", to: folder + "/worklist-detail.png", in: dir)
            try await HeadlessChromium.screenshot(page + "#class=routine&window=7d", to: folder + "/worklist-routine-7d.png", in: dir)
        }

        running.cancel()
        if case .failure = await running.result { gateway.shutDown() }
    }
}
