import DicomCore
import Foundation
import GRDB
@testable import GatewayStore
import Testing

/// How workers take work: class first, aging, the stat/urgent lane, series kept on one
/// association, and operators' replay and cancel of dead deliveries.
@Suite struct DeliveryLeaseOrderTests {
    let dir: String
    let index: CacheIndex

    init() throws {
        dir = NSTemporaryDirectory() + "dgw-lease-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        index = try TestIndex.open(TestIndex.place(root: dir, label: "lease"))
    }

    /// Queues `count` instances of one series to HUB at `rank`, queued at `at`.
    func queue(series: String, count: Int, rank: Int, at: Date = Date()) throws {
        for n in 1...count {
            var a = DicomAttributes()
            a[.studyInstanceUID] = series + ".0"
            a[.seriesInstanceUID] = series
            a[.sopInstanceUID] = "\(series).\(n)"
            a[.instanceNumber] = "\(n)"
            a[.patientID] = "P1"
            var m = InstanceMetadata(attributes: a, sopClassUID: "1.2.840.10008.5.1.4.1.1.2", transferSyntax: "1.2.840.10008.1.2.1",
                                     path: "instances/x/\(series).\(n).dcm", sizeBytes: 10, sha256: "\(series).\(n)",
                                     origin: .init(callingAE: "A", peerHost: "127.0.0.1", node: "TRUST_A"))
            m.deliveries = [PendingDelivery(destination: "HUB", route: "r", priorityRank: rank)]
            try index.write { db in
                try CacheIndex.insert(m, into: db)
                try db.execute("UPDATE delivery SET createdAt = ?, nextAttemptAt = ? WHERE state = 'queued' AND createdAt > ?",
                               [at, at, at])
            }
        }
    }

    func lease(_ limit: Int = 100, minimumRank: Int = 0, agedBefore: Date? = nil, continuing: Int64? = nil) throws -> [DeliveryWork] {
        try index.leaseDeliveries(.init(destination: "HUB", limit: limit, minimumRank: minimumRank, agedBefore: agedBefore,
                                        continuingSeries: continuing))
    }

    @Test func highestClassFirstInInstanceOrderAndOneClassPerBatch() throws {
        try queue(series: "1.1", count: 3, rank: 1)
        try queue(series: "1.2", count: 12, rank: 3)
        let batch = try lease()
        #expect(batch.map(\.sopUID) == (1...12).map { "1.2.\($0)" }, "stat first, in InstanceNumber order (10 after 9)")
        #expect(Set(batch.map(\.priorityRank)) == [3])
        index.finishBatch(batch)
        #expect(try lease().map(\.sopUID) == ["1.1.1", "1.1.2", "1.1.3"])
    }

    @Test func priorityLaneTakesOnlyStatAndUrgent() throws {
        try queue(series: "2.1", count: 5, rank: 1)
        #expect(try lease(minimumRank: 2).isEmpty)
        try queue(series: "2.2", count: 2, rank: 2)
        #expect(try lease(minimumRank: 2).map(\.sopUID) == ["2.2.1", "2.2.2"])
    }

    @Test func waitingRoutineWorkAgesPastNewerUrgentWorkButNeverToStat() throws {
        let hourAgo = Date().addingTimeInterval(-3600)
        try queue(series: "3.1", count: 2, rank: 1, at: hourAgo)
        try queue(series: "3.2", count: 2, rank: 2)
        // Without aging urgent goes first; with 30 minutes' aging the hour-old routine work
        // counts as urgent and, being older, goes first.
        #expect(try lease(1).map(\.sopUID) == ["3.2.1"])
        try index.write { db in try db.execute("UPDATE delivery SET state = 'queued'") }
        let aged = try lease(agedBefore: Date().addingTimeInterval(-1800))
        #expect(aged.map(\.sopUID) == ["3.1.1", "3.1.2", "3.2.1", "3.2.2"], "aged routine shares the urgent class, older series first")
        #expect(aged.first { $0.sopUID == "3.1.1" }?.priorityRank == 1, "aging never changes the class sent")
        try index.write { db in try db.execute("UPDATE delivery SET state = 'queued'") }
        try queue(series: "3.3", count: 1, rank: 3)
        #expect(try lease(agedBefore: Date().addingTimeInterval(-1800)).map(\.sopUID) == ["3.3.1"], "stat stays ahead of aged work")
    }

    @Test func aSeriesInFlightOnOneAssociationIsNotSplitAcrossWorkers() throws {
        try queue(series: "4.1", count: 6, rank: 1)
        try queue(series: "4.2", count: 2, rank: 1)
        let first = try lease(3)
        #expect(first.map(\.sopUID) == ["4.1.1", "4.1.2", "4.1.3"])
        let second = try lease(3)
        #expect(second.map(\.sopUID) == ["4.2.1", "4.2.2"], "the other worker takes the next series, not the rest of 4.1")
        index.finishBatch(first)
        index.finishBatch(second)
        #expect(try lease(3, continuing: first[0].seriesRef).map(\.sopUID) == ["4.1.4", "4.1.5", "4.1.6"])
    }

    @Test func deadDeliveriesAreListedReplayedWithAFreshBudgetOrCancelled() throws {
        try queue(series: "5.1", count: 3, rank: 1)
        let batch = try lease()
        for w in batch { index.finishDelivery(id: w.id, succeeded: false, error: "A900 refused", retryAt: nil) }
        index.flush()
        let dead = try index.deliveries(DeliverySelection())
        #expect(dead.count == 3)
        #expect(dead.allSatisfy { $0.state == "dead" && $0.attempts == 1 && $0.lastError == "A900 refused" && $0.studyUID == "5.1.0" })
        #expect(index.hasUndeliveredWork(studyUID: "5.1.0"), "retention keeps a study with dead deliveries")

        #expect(try index.replayDeliveries(DeliverySelection(ids: [dead[0].id]), actor: "test") == 1)
        let replayed = try lease()
        #expect(replayed.map(\.sopUID) == [dead[0].sopUID])
        #expect(replayed.first?.attempts == 0)

        #expect(try index.cancelDeliveries(DeliverySelection(destination: "HUB"), actor: "test") == 2)
        #expect(try index.deliveries(DeliverySelection()).isEmpty)
        #expect(try index.deliveries(DeliverySelection(states: ["cancelled"])).count == 2)
        #expect(try index.replayDeliveries(DeliverySelection(states: ["inflight"]), actor: "test") == 0,
                "in-flight work is never replayed by hand (it would be sent twice at once)")
        let audit = try index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit WHERE event = ? ORDER BY id", ["delivery"]) }
        #expect(audit.map(\.outcome).sorted() == ["cancel", "replay", "replay"])
        index.close()
    }

    @Test func aSelectionOfMoreIdsThanSQLiteHasVariablesIsListedReplayedAndAuditedBriefly() throws {
        try queue(series: "6.1", count: 3, rank: 1)
        for w in try lease() { index.finishDelivery(id: w.id, succeeded: false, error: "A900 refused", retryAt: nil) }
        index.flush()
        let dead = try index.deliveries(DeliverySelection()).map(\.id)
        // 40,000 ids: one `?` each would pass SQLite's 32,766 variables.
        let ids = dead + (1...40_000).map { Int64(1_000_000 + $0) }
        #expect(try index.deliveries(DeliverySelection(ids: ids)).map(\.id) == dead)
        #expect(try index.replayDeliveries(DeliverySelection(ids: ids), actor: "test") == 3)
        let detail = try index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit WHERE event = ? ORDER BY id", ["delivery"]) }.last?.detail ?? ""
        #expect(detail.hasPrefix("replay 3 deliveries (ids \(dead.map(String.init).joined(separator: ","))"), "\(detail)")
        #expect(detail.hasSuffix(" and 39983 more)") && detail.count < 300, "the audit names the first ids only: \(detail)")
        index.close()
    }

    @Test func aSelectionOfNoStateListsEveryDelivery() throws {
        try queue(series: "7.1", count: 2, rank: 1)
        let batch = try lease(1)
        index.finishBatch(batch)
        let all = try index.deliveries(DeliverySelection(states: []))
        #expect(all.map(\.state).sorted() == ["done", "queued"])
        index.close()
    }

    @Test func anEscalationRaisesWaitingWorkKeepsAnEarlierDueTimeAndMakesALaterOneDueNow() throws {
        let past = Date(timeIntervalSinceNow: -3600)
        try queue(series: "8.1", count: 2, rank: 0, at: past)
        let later = Date(timeIntervalSinceNow: 3600)
        try index.write { db in try db.execute("UPDATE delivery SET nextAttemptAt = ?, state = 'failed' WHERE id = (SELECT MAX(id) FROM delivery)", [later]) }
        let now = Date()
        #expect(try index.escalateStudy("8.1.0", to: 2, actor: "test", now: now) == 2)
        let due = try index.read { db in
            try db.fetchAll("SELECT priority, nextAttemptAt FROM delivery ORDER BY id").map { row -> (Int, Date) in
                (row["priority"], row["nextAttemptAt"])
            }
        }
        #expect(due.map(\.0) == [2, 2])
        #expect(abs(due[0].1.timeIntervalSince(past)) < 0.01, "an earlier due time stays: \(due[0].1)")
        #expect(abs(due[1].1.timeIntervalSince(now)) < 0.01, "a later one becomes now: \(due[1].1)")
        #expect(try lease().map(\.effectiveRank) == [2, 2])
        index.close()
    }

    @Test(.enabled(if: TestIndex.dialect == .sqlite))
    func anIndexErrorIsSummarisedWithoutItsStatement() throws {
        let failure = try #require(throws: DatabaseError.self) {
            try index.read { db in try db.fetchValue(Int.self, "SELECT nosuchcolumn FROM delivery WHERE id IN (?, ?)", [1, 2]) }
        }
        let summary = CacheIndex.summary(of: failure)
        #expect(summary.hasPrefix("SQLite error 1: no such column"), "\(summary)")
        #expect(!summary.contains("SELECT"), "\(summary)")
        #expect(CacheIndex.summary(of: StoreError(String(repeating: "x", count: 5000))).count <= 301)
        index.close()
    }
}

extension CacheIndex {
    func finishBatch(_ batch: [DeliveryWork]) {
        for w in batch { finishDelivery(id: w.id, succeeded: true) }
        flush()
    }
}
