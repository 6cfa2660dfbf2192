import DicomCore
import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// `RetentionRunner`: least-recently-used eviction by size, eviction by age, and the studies it
/// must never touch (protected, busy).
@Suite struct CacheRetentionTests {
    static func uid(_ n: Int) -> String { "1.2.826.0.1.3680043.8.1055.500.\(n)" }

    /// One study of one `size`-byte instance, last used at `at`.
    @discardableResult
    static func study(_ f: CacheFixture, _ n: Int, size: Int = 1000, at: Date, patient: String? = nil) throws -> InstanceMetadata {
        let s = uid(n)
        return try f.add(CacheFixture.attributes(study: s, series: s + ".1", sop: s + ".1.1", patientID: patient ?? "P\(n)"),
                         size: size, receivedAt: at)
    }

    static func runner(_ f: CacheFixture, maxBytes: Int64? = nil, maxAgeDays: Int? = nil, busy: Set<String> = []) -> RetentionRunner {
        RetentionRunner(index: f.index, paths: f.paths, limits: .init(maxBytes: maxBytes, maxAgeDays: maxAgeDays), logger: f.logger,
                        isBusy: { busy.contains($0) })
    }

    static func protect(_ f: CacheFixture, _ studyUID: String) throws {
        try f.index.write { db in try db.execute("UPDATE study SET protected = 1 WHERE studyUID = ?", [studyUID]) }
    }

    static func isGone(_ f: CacheFixture, _ m: InstanceMetadata) throws -> Bool {
        try f.study(m.studyUID) == nil && f.index.instance(sopUID: m.sopUID) == nil
            && f.count("SELECT COUNT(*) FROM series WHERE seriesUID = ?", [m.seriesUID]) == 0
            && !FileManager.default.fileExists(atPath: f.absolutePath(m))
    }

    static func isKept(_ f: CacheFixture, _ m: InstanceMetadata) throws -> Bool {
        try f.study(m.studyUID) != nil && f.index.instance(sopUID: m.sopUID) != nil
            && FileManager.default.fileExists(atPath: f.absolutePath(m))
    }

    @Test func eachEvictedStudyIsAnnouncedWithItsSeriesAfterItsRowsAndFilesAreGone() throws {
        let f = try CacheFixture("retention-announce")
        let t = Date(timeIntervalSince1970: 1_700_000_000)
        let old = try Self.study(f, 1, at: t)
        let recent = try Self.study(f, 2, at: t.addingTimeInterval(10))
        let announced = Announcements()
        let runner = RetentionRunner(index: f.index, paths: f.paths, limits: .init(maxBytes: 1500, maxAgeDays: nil), logger: f.logger,
                                     evicted: { study, series in announced.add(study, series, gone: (try? Self.isGone(f, old)) ?? false) })
        #expect(try runner.runOnce(now: t.addingTimeInterval(20)) == [old.studyUID])
        #expect(announced.all == [Announcements.Entry(study: old.studyUID, series: [old.seriesUID], goneBefore: true)])
        #expect(try Self.isKept(f, recent))
    }

    @Test func aStudyThatChangedAfterThePassChoseItIsKept() throws {
        let f = try CacheFixture("retention-race")
        let t = Date(timeIntervalSince1970: 1_700_000_000)
        let old = try Self.study(f, 1, at: t)
        let s = old.studyUID
        // A C-STORE of the same study commits (and is acknowledged) after the pass read its
        // candidates, just before it deletes: the study is no longer the one it chose.
        let arriving = CacheFixture.attributes(study: s, series: s + ".1", sop: s + ".1.2", patientID: "P1")
        let racing = RetentionRunner(index: f.index, paths: f.paths, limits: .init(maxBytes: 500, maxAgeDays: nil), logger: f.logger,
                                     isBusy: { [f] _ in
                                         _ = try? f.add(arriving, size: 1000, receivedAt: t.addingTimeInterval(5))
                                         return false
                                     })
        #expect(try racing.runOnce(now: t.addingTimeInterval(10)) == [])
        #expect(try f.index.instance(sopUID: s + ".1.2") != nil, "the instance acknowledged meanwhile is still indexed")
        #expect(try Self.isKept(f, old))
        #expect(try f.count("SELECT COUNT(*) FROM audit WHERE event = 'evict'") == 0)
        // The next pass, with nothing arriving, retires it whole.
        #expect(try Self.runner(f, maxBytes: 500).runOnce(now: t.addingTimeInterval(20)) == [s])
        #expect(try Self.isGone(f, old))
        #expect(try f.index.instance(sopUID: s + ".1.2") == nil)
    }

    final class Announcements: @unchecked Sendable {
        // @unchecked: `entries` is only touched under `lock`.
        struct Entry: Equatable { var study: String; var series: [String]; var goneBefore: Bool }
        private let lock = NSLock()
        private var entries: [Entry] = []
        func add(_ study: String, _ series: [String], gone: Bool) { lock.withLock { entries.append(Entry(study: study, series: series, goneBefore: gone)) } }
        var all: [Entry] { lock.withLock { entries } }
    }

    @Test func overSizeEvictsLeastRecentlyUsedFirstSparingProtectedAndBusyStudies() throws {
        let f = try CacheFixture("retention")
        let t = Date(timeIntervalSince1970: 1_700_000_000)
        // Last use, oldest first: protected, A, busy, E, D.
        let protected = try Self.study(f, 1, at: t)
        let a = try Self.study(f, 2, at: t.addingTimeInterval(10))
        let busy = try Self.study(f, 3, at: t.addingTimeInterval(20))
        let e = try Self.study(f, 4, at: t.addingTimeInterval(30))
        let d = try Self.study(f, 5, at: t.addingTimeInterval(40))
        try Self.protect(f, protected.studyUID)

        // 5000 bytes cached, limit 3000: two unprotected, idle studies must go, the oldest ones.
        let evicted = try Self.runner(f, maxBytes: 3000, busy: [busy.studyUID]).runOnce(now: t.addingTimeInterval(50))
        #expect(evicted == [a.studyUID, e.studyUID])
        #expect(try Self.isGone(f, a))
        #expect(try Self.isGone(f, e))
        #expect(try Self.isKept(f, protected), "a protected study is never evicted")
        #expect(try Self.isKept(f, busy), "a study with undelivered work is never evicted")
        #expect(try Self.isKept(f, d), "the most recently used study is kept once the cache fits")
        #expect(try f.count("SELECT COALESCE(SUM(sizeBytes), 0) FROM study") == 3000)
        #expect(try f.count("SELECT COUNT(*) FROM patient WHERE patientID IN ('P2', 'P4')") == 0, "patients without studies go too")

        let audit = try f.audit().filter { $0.event == "evict" }
        #expect(Set(audit.compactMap(\.studyUID)) == [a.studyUID, e.studyUID])

        // A second pass has nothing left to do.
        #expect(try Self.runner(f, maxBytes: 3000, busy: [busy.studyUID]).runOnce(now: t.addingTimeInterval(60)) == [])
    }

    @Test func busyAndProtectedStudiesStayEvenWhenTheCacheCannotGetUnderTheLimit() throws {
        let f = try CacheFixture("retention")
        let t = Date(timeIntervalSince1970: 1_700_000_000)
        let protected = try Self.study(f, 1, at: t)
        let busy = try Self.study(f, 2, at: t.addingTimeInterval(10))
        try Self.protect(f, protected.studyUID)
        let evicted = try Self.runner(f, maxBytes: 1, busy: [busy.studyUID]).runOnce(now: t)
        #expect(evicted.isEmpty)
        #expect(try Self.isKept(f, protected))
        #expect(try Self.isKept(f, busy))
    }

    @Test func aRetrievedStudyCountsAsRecentlyUsed() throws {
        let f = try CacheFixture("retention")
        let t = Date(timeIntervalSince1970: 1_700_000_000)
        let older = try Self.study(f, 1, at: t)
        let newer = try Self.study(f, 2, at: t.addingTimeInterval(10))
        f.index.touch(studyUIDs: [older.studyUID])  // e.g. retrieved by a reporter just now
        let evicted = try Self.runner(f, maxBytes: 1000).runOnce(now: Date())
        #expect(evicted == [newer.studyUID])
        #expect(try Self.isKept(f, older))
    }

    @Test func maxAgeEvictsStudiesReceivedBeforeTheCutoffOnly() throws {
        let f = try CacheFixture("retention")
        let now = Date(timeIntervalSince1970: 1_710_000_000)
        let day: TimeInterval = 86_400
        let old = try Self.study(f, 1, at: now.addingTimeInterval(-40 * day))
        let oldProtected = try Self.study(f, 2, at: now.addingTimeInterval(-90 * day))
        let oldBusy = try Self.study(f, 3, at: now.addingTimeInterval(-35 * day))
        let recent = try Self.study(f, 4, at: now.addingTimeInterval(-29 * day))
        let fresh = try Self.study(f, 5, at: now.addingTimeInterval(-1 * day))
        try Self.protect(f, oldProtected.studyUID)

        let evicted = try Self.runner(f, maxAgeDays: 30, busy: [oldBusy.studyUID]).runOnce(now: now)
        #expect(evicted == [old.studyUID])
        #expect(try Self.isGone(f, old))
        for kept in [oldProtected, oldBusy, recent, fresh] { #expect(try Self.isKept(f, kept)) }
        #expect(try f.audit().filter { $0.event == "evict" }.compactMap(\.studyUID) == [old.studyUID])

        // Ten days later the 29-day-old study is over the limit as well.
        let later = try Self.runner(f, maxAgeDays: 30, busy: [oldBusy.studyUID]).runOnce(now: now.addingTimeInterval(10 * day))
        #expect(later == [recent.studyUID])
    }

    @Test func withoutLimitsNothingIsEvicted() throws {
        let f = try CacheFixture("retention")
        let s = try Self.study(f, 1, at: Date(timeIntervalSince1970: 0))
        #expect(try Self.runner(f).runOnce(now: Date()) == [])
        #expect(try Self.isKept(f, s))
    }

    /// The audit observer (the PS3.15 trail) hears of each eviction with the study's patient and
    /// instance counts per SOP class, as they were before the rows went.
    @Test func evictionTellsTheAuditObserverWhoseStudyWentAndWhatItHeld() throws {
        let f = try CacheFixture("retention")
        let heard = HeardAudits()
        f.index.setAuditObserver(heard)
        let old = try Self.study(f, 1, at: Date(timeIntervalSince1970: 0), patient: "EVICT-PID")
        #expect(try Self.runner(f, maxAgeDays: 30).runOnce(now: Date()) == [old.studyUID])
        let (record, context) = try #require(heard.all.first { $0.0.event == "evict" })
        #expect(record.studyUID == old.studyUID)
        #expect(context?.studies.map(\.uid) == [old.studyUID])
        #expect(context?.studies.first?.sopClasses.values.reduce(0, +) == 1)
        #expect(context?.patients.map(\.id) == ["EVICT-PID"])
    }
}

final class HeardAudits: AuditObserver, @unchecked Sendable {
    // Safe: `entries` is only touched under `lock`.
    private let lock = NSLock()
    private var entries: [(AuditRecord, AuditContext?)] = []
    func recorded(_ record: AuditRecord, context: AuditContext?) { lock.withLock { entries.append((record, context)) } }
    var all: [(AuditRecord, AuditContext?)] { lock.withLock { entries } }
}
