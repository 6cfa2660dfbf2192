import Foundation
@testable import GatewayStore
import Testing

/// One fetch per study across a cluster: the fetch claim in the index, on either engine (a node
/// alone on SQLite always fetches itself; on PostgreSQL two nodes share the index).
@Suite struct FetchClaimTests {
    @Test func oneNodeHoldsAStudysFetchUntilItReleasesOrItsLeaseExpires() throws {
        let dir = NSTemporaryDirectory() + "dgw-claim-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let place = try TestIndex.place(root: dir, label: "claim")
        let a = try TestIndex.open(place)
        a.node = "gw-a"
        defer { a.close() }
        guard TestIndex.dialect == .postgres else {
            // Alone: no claim is needed, and none is written.
            #expect(try a.claimFetch(studyUID: "1.2.3") == .ours)
            #expect(try a.read { db in try db.fetchValue(Int.self, "SELECT count(*) FROM fetch_claim") } == 0)
            return
        }
        let b = try TestIndex.open(place)
        b.node = "gw-b"
        defer { b.close() }

        #expect(try a.claimFetch(studyUID: "1.2.3") == .ours)
        #expect(try a.claimFetch(studyUID: "1.2.3") == .ours, "the holder may ask again")
        #expect(try b.claimFetch(studyUID: "1.2.3") == .heldBy("gw-a"))
        #expect(try b.claimFetch(studyUID: "9.9") == .ours, "another study is another claim")
        b.releaseFetch(studyUID: "1.2.3")  // not b's: changes nothing
        #expect(try b.claimFetch(studyUID: "1.2.3") == .heldBy("gw-a"))
        a.releaseFetch(studyUID: "1.2.3")
        #expect(try b.claimFetch(studyUID: "1.2.3") == .ours, "released: the next node fetches at once")

        // A node that stops renewing (dead) loses its claim when the lease runs out, not before.
        let later = Date().addingTimeInterval(CacheIndex.leaseDuration - 1)
        #expect(try a.claimFetch(studyUID: "1.2.3", now: later) == .heldBy("gw-b"))
        _ = try b.renewDeliveryLeases(now: later)  // renewed with its delivery leases
        let afterFirstLease = Date().addingTimeInterval(CacheIndex.leaseDuration + 1)
        #expect(try a.claimFetch(studyUID: "1.2.3", now: afterFirstLease) == .heldBy("gw-b"), "renewed: still held")
        let expired = later.addingTimeInterval(CacheIndex.leaseDuration + 1)
        #expect(try a.claimFetch(studyUID: "1.2.3", now: expired) == .ours, "expired: taken over")
    }
}
