import DicomCore
import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// An instance replaced (duplicate policy `replace`) while a worker is sending the old content:
/// the new content must still reach that destination, whatever became of the send in flight.
@Suite struct DeliveryReplacedInFlightTests {
    static let study = "1.2.826.0.1.3680043.8.1055.310.1"
    static let series = study + ".1"
    static let sop = series + ".1"
    static let origin = InstanceMetadata.Origin(callingAE: "MODALITY", peerHost: "127.0.0.1", node: nil)
    static let original = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Jane"))
    static let corrected = CacheFixture.fakePart10(dataset: CacheFixture.dataset(patientName: "Doe^Janet", payload: 300))

    /// One delivery row as the tests look at it.
    struct Row: Equatable {
        var state: String
        var attempts: Int
        var requeueAfterFlight: Bool
        var due: Bool
        var lastError: String
    }

    /// Ingests `bytes` as the test instance under the `replace` policy, routed to `destinations`
    /// with `edits`, from `sender`.
    @discardableResult
    static func ingest(_ f: CacheFixture, _ bytes: Data, to destinations: [String] = ["HUB"], edits: String = "{}",
                       from sender: String? = nil) throws -> IngestResult {
        try FileManager.default.createDirectory(atPath: f.paths.incomingDirectory, withIntermediateDirectories: true)
        let temporary = f.paths.incomingDirectory + "/\(UUID().uuidString).part"
        FileManager.default.createFile(atPath: temporary, contents: bytes)
        return try InstanceIngestor(index: f.index, paths: f.paths, logger: f.logger).ingest(
            temporaryPath: temporary, attributes: CacheFixture.attributes(study: study, series: series, sop: sop),
            sopClassUID: "1.2.840.10008.5.1.4.1.1.2", transferSyntax: "1.2.840.10008.1.2.1",
            origin: InstanceMetadata.Origin(callingAE: "MODALITY", peerHost: "127.0.0.1", node: sender),
            duplicatePolicy: .replace,
            deliveries: destinations.map { PendingDelivery(destination: $0, route: "r", priorityRank: 1, editsJSON: edits) })
    }

    static func lease(_ f: CacheFixture, _ destination: String = "HUB") throws -> [DeliveryWork] {
        try f.index.leaseDeliveries(.init(destination: destination, limit: 10))
    }

    static func row(_ f: CacheFixture, _ destination: String = "HUB") throws -> Row {
        f.index.flush()
        let row = try f.index.read { db in
            try db.fetchOne("""
                SELECT state, attempts, requeueAfterFlight, nextAttemptAt <= ? AS due, lastError FROM delivery WHERE destination = ?
                """, [Date(), destination])
        }
        let r = try #require(row)
        return Row(state: r["state"], attempts: r["attempts"], requeueAfterFlight: r["requeueAfterFlight"], due: r["due"],
                   lastError: r["lastError"])
    }

    @Test func aDeliveryInFlightWhenItsInstanceIsReplacedGoesOutAgainAfterItsSendSucceeds() throws {
        let f = try CacheFixture("replace-inflight")
        #expect(try Self.ingest(f, Self.original) == .stored)
        let sending = try Self.lease(f)
        #expect(sending.map(\.sopUID) == [Self.sop])

        #expect(try Self.ingest(f, Self.corrected) == .replaced)
        #expect(try Self.row(f) == Row(state: "inflight", attempts: 0, requeueAfterFlight: true, due: true, lastError: ""),
                "the worker keeps its lease; the row is marked for the new content")

        f.index.finishDelivery(id: try #require(sending.first).id, succeeded: true)
        #expect(try Self.row(f) == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: ""),
                "the old content went out: the delivery is queued again, due now, not done")
        #expect(try f.index.studyEvents(studyUID: Self.study).allSatisfy { $0.event != StudyEvent.delivered },
                "the study is not delivered while the new content has not gone out")

        let resend = try Self.lease(f)
        #expect(resend.map(\.id) == sending.map(\.id), "the same delivery is taken again, for the replaced content")
        #expect(resend.first?.attempts == 0)
        f.index.finishDelivery(id: try #require(resend.first).id, succeeded: true)
        #expect(try Self.row(f) == Row(state: "done", attempts: 1, requeueAfterFlight: false, due: true, lastError: ""),
                "the send of the new content completes the delivery")
        #expect(try Self.lease(f).isEmpty)
    }

    @Test func aFailedOrRefusedSendOfTheOldContentAlsoRequeuesWithAFreshBudget() throws {
        let f = try CacheFixture("replace-inflight")
        #expect(try Self.ingest(f, Self.original, to: ["HUB", "ARCHIVE"]) == .stored)
        let hub = try Self.lease(f, "HUB")
        let archive = try Self.lease(f, "ARCHIVE")
        #expect(try Self.ingest(f, Self.corrected, to: ["HUB", "ARCHIVE"]) == .replaced)

        // A refusal that would make it dead, and a failure to retry in an hour: neither was of the new content.
        f.index.finishDelivery(id: try #require(hub.first).id, succeeded: false, error: "A900 refused", retryAt: nil)
        f.index.finishDelivery(id: try #require(archive.first).id, succeeded: false, error: "timeout", retryAt: Date().addingTimeInterval(3600))
        #expect(try Self.row(f, "HUB") == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: "A900 refused"))
        #expect(try Self.row(f, "ARCHIVE") == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: "timeout"))

        // Once the flag is spent, outcomes are recorded as always.
        let again = try Self.lease(f, "HUB")
        f.index.finishDelivery(id: try #require(again.first).id, succeeded: false, error: "A900 refused", retryAt: nil)
        #expect(try Self.row(f, "HUB").state == "dead")
    }

    @Test func replacingAnInstanceNotInFlightRequeuesItsDeliveriesAsBefore() throws {
        let f = try CacheFixture("replace-inflight")
        #expect(try Self.ingest(f, Self.original, to: ["HUB", "ARCHIVE"]) == .stored)
        f.index.finishDelivery(id: try #require(try Self.lease(f, "HUB").first).id, succeeded: true)
        f.index.finishDelivery(id: try #require(try Self.lease(f, "ARCHIVE").first).id, succeeded: false, error: "busy",
                               retryAt: Date().addingTimeInterval(3600))
        #expect(try Self.row(f, "HUB").state == "done")
        #expect(try Self.row(f, "ARCHIVE") == Row(state: "failed", attempts: 1, requeueAfterFlight: false, due: false, lastError: "busy"))

        #expect(try Self.ingest(f, Self.corrected, to: ["HUB", "ARCHIVE"]) == .replaced)
        #expect(try Self.row(f, "HUB") == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: ""))
        #expect(try Self.row(f, "ARCHIVE") == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: "busy"))

        let resend = try Self.lease(f, "HUB")
        f.index.finishDelivery(id: try #require(resend.first).id, succeeded: true)
        #expect(try Self.row(f, "HUB").state == "done", "no flag: the success of the new content is final")
    }

    /// The new content's row and its requeued deliveries are one commit. Were they two, a failure
    /// (or a crash) between them would leave the sender retrying a copy the index already calls
    /// identical: acknowledged, with its deliveries still done.
    @Test func aReplacementWhoseDeliveriesCannotBeRequeuedIsNotRecordedEither() throws {
        let f = try CacheFixture("replace-inflight")
        #expect(try Self.ingest(f, Self.original) == .stored)
        f.index.finishDelivery(id: try #require(try Self.lease(f).first).id, succeeded: true)
        let before = try #require(try f.index.instance(sopUID: Self.sop))
        try f.index.write { db in
            if db.dialect == .sqlite {
                try db.execute("CREATE TRIGGER refuse_requeue BEFORE UPDATE OF state ON delivery BEGIN SELECT RAISE(ABORT, 'simulated'); END")
            } else {
                try db.execute("""
                    CREATE FUNCTION refuse_requeue() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'simulated'; END $$
                    """)
                try db.execute("CREATE TRIGGER refuse_requeue BEFORE UPDATE OF state ON delivery FOR EACH ROW EXECUTE FUNCTION refuse_requeue()")
            }
        }
        #expect(throws: StoreError.self) { try Self.ingest(f, Self.corrected) }
        #expect(try f.index.instance(sopUID: Self.sop) == before, "the index still describes the previous content")
        #expect(try Self.row(f).state == "done")

        try f.index.write { db in try db.execute(db.dialect == .sqlite ? "DROP TRIGGER refuse_requeue" : "DROP TRIGGER refuse_requeue ON delivery") }
        #expect(try Self.ingest(f, Self.corrected) == .replaced, "the sender's retry is a replacement, not an identical copy")
        #expect(try Self.row(f) == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: ""))
    }

    @Test func anIdenticalResendWhileInFlightChangesNothing() throws {
        let f = try CacheFixture("replace-inflight")
        #expect(try Self.ingest(f, Self.original) == .stored)
        let sending = try Self.lease(f)
        #expect(try Self.ingest(f, Self.original) == .identicalDuplicate)
        #expect(try Self.row(f).requeueAfterFlight == false)
        f.index.finishDelivery(id: try #require(sending.first).id, succeeded: true)
        #expect(try Self.row(f).state == "done")
    }

    /// A lease given back before its send (batch cut short, link lost, gateway restarted) sends
    /// whatever is cached when it is taken again: one more send after that would be a duplicate.
    @Test func aLeaseGivenBackUnsentDropsThePendingRequeue() throws {
        let f = try CacheFixture("replace-inflight")
        #expect(try Self.ingest(f, Self.original, to: ["HUB", "ARCHIVE", "REVIEW"]) == .stored)
        let hub = try Self.lease(f, "HUB")
        let archive = try Self.lease(f, "ARCHIVE")
        _ = try Self.lease(f, "REVIEW")
        #expect(try Self.ingest(f, Self.corrected, to: ["HUB", "ARCHIVE", "REVIEW"]) == .replaced)

        f.index.unleaseDeliveries(ids: hub.map(\.id))
        f.index.releaseDeliveries(ids: archive.map(\.id), error: "unreachable", retryAt: Date())
        try f.index.requeueInFlightDeliveries()
        for destination in ["HUB", "ARCHIVE", "REVIEW"] {
            #expect(try Self.row(f, destination).requeueAfterFlight == false, "\(destination)")
            let work = try Self.lease(f, destination)
            #expect(work.count == 1, "\(destination)")
            f.index.finishDelivery(id: try #require(work.first).id, succeeded: true)
            #expect(try Self.row(f, destination).state == "done", "\(destination)")
        }
    }

    /// An index from before the flag existed opens with it cleared on every delivery.
    @Test(.enabled(if: TestIndex.dialect == .sqlite, "an SQLite file from before the flag"))
    func anIndexWithoutTheFlagIsMigrated() throws {
        let f = try CacheFixture("replace-migration")
        let path = f.root + "/old-index.sqlite"
        do {
            let old = try DatabaseQueue(path: path)
            try IndexSchema.migrator.migrate(old, upTo: "v5-study-origin")
            try old.write { db in
                try db.execute(sql: """
                    INSERT INTO patient(id, patientID) VALUES (1, 'P');
                    INSERT INTO study(id, studyUID, patientRef, receivedAt, updatedAt, lastAccessAt) VALUES (1, '1.2', 1, 0, 0, 0);
                    INSERT INTO series(id, seriesUID, studyRef) VALUES (1, '1.2.1', 1);
                    INSERT INTO instance(id, sopUID, seriesRef, sopClassUID, transferSyntax, path, sizeBytes, sha256, receivedAt)
                        VALUES (1, '1.2.1.1', 1, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1', 'x.dcm', 1, 'h', 0);
                    INSERT INTO delivery(instanceRef, destination, priority, state, nextAttemptAt, createdAt, updatedAt)
                        VALUES (1, 'HUB', 1, 'inflight', 0, 0, 0);
                    """)
            }
            try old.close()
        }
        let index = try CacheIndex(path: path)
        defer { index.close() }
        let flags = try index.read { db in try db.fetchValues(Bool.self, "SELECT requeueAfterFlight FROM delivery") }
        #expect(flags == [false])
    }

    @Test func aReplacementThatNoRouteSendsStillGoesWhereTheOldContentWent() throws {
        let f = try CacheFixture("replace-unrouted")
        #expect(try Self.ingest(f, Self.original) == .stored)
        f.index.finishDelivery(id: try #require(Self.lease(f).first).id, succeeded: true)
        #expect(try Self.row(f).state == "done")
        #expect(try Self.ingest(f, Self.corrected, to: []) == .replaced)
        #expect(try Self.row(f) == Row(state: "queued", attempts: 0, requeueAfterFlight: false, due: true, lastError: ""),
                "HUB has the old content: the correction goes there too")
    }

    @Test func aCancelledDeliveryStaysCancelledWhenItsInstanceIsReplaced() throws {
        let f = try CacheFixture("replace-cancelled")
        #expect(try Self.ingest(f, Self.original) == .stored)
        #expect(try f.index.cancelDeliveries(DeliverySelection(states: ["queued"], destination: "HUB"), actor: "test") == 1)
        #expect(try Self.ingest(f, Self.corrected) == .replaced)
        #expect(try Self.row(f).state == "cancelled", "an operator's cancel is not undone by new content")
    }

    @Test func aReplacementsDeliveriesCarryTheNewContentsEditsAndSkipItsSender() throws {
        let f = try CacheFixture("replace-edits")
        #expect(try Self.ingest(f, Self.original, to: ["HUB", "TRUST_B"], edits: #"{"0010,0020":"RTH-12345"}"#) == .stored)
        for work in try Self.lease(f) + Self.lease(f, "TRUST_B") { f.index.finishDelivery(id: work.id, succeeded: true) }
        // TRUST_B sends a corrected copy (a new Patient ID): HUB gets it with the new identity edits; TRUST_B, which sent it, nothing.
        #expect(try Self.ingest(f, Self.corrected, to: ["HUB"], edits: #"{"0010,0020":"RTH-12346"}"#, from: "TRUST_B") == .replaced)
        #expect(try Self.row(f, "HUB").state == "queued")
        #expect(try Self.row(f, "TRUST_B").state == "done", "the sender of the new content is not sent it back")
        let resend = try Self.lease(f)
        #expect(resend.map(\.editsJSON) == [#"{"0010,0020":"RTH-12346"}"#], "the requeued delivery must carry the new content's edits")
    }
}
