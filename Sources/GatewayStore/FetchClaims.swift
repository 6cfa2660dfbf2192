import Foundation

/// One fetch of a study from its source across a cluster (PostgreSQL): two reporters asking two
/// nodes for the same uncached study cause one retrieve. The node that fetches holds the study's
/// claim, renewed with its delivery leases (`renewDeliveryLeases`); the others wait until it is
/// released and then find the study cached. A dead node's claim expires within the lease, and
/// the next node to ask fetches. A gateway alone (SQLite) needs no claim: its fetcher already
/// shares one fetch per study.
extension CacheIndex {
    public enum FetchClaim: Sendable, Equatable {
        /// This node fetches the study.
        case ours
        /// Another node is fetching it.
        case heldBy(String)
    }

    /// Takes the study's fetch claim for this node, or says which node holds it.
    public func claimFetch(studyUID: String, now: Date = Date()) throws -> FetchClaim {
        guard dialect == .postgres else { return .ours }
        let node = node
        var claim = FetchClaim.ours
        try writeRelaxed { db in
            let changed = try db.execute("""
                INSERT INTO fetch_claim (studyUID, holder, leaseUntil) VALUES (?, ?, ?)
                ON CONFLICT (studyUID) DO UPDATE SET holder = excluded.holder, leaseUntil = excluded.leaseUntil
                WHERE fetch_claim.holder = excluded.holder OR fetch_claim.holder = '' OR fetch_claim.leaseUntil < ?
                """, [studyUID, node, now.addingTimeInterval(Self.leaseDuration), now])
            if changed == 0 {
                let holder = try db.fetchValue(String.self, "SELECT holder FROM fetch_claim WHERE studyUID = ?", [studyUID])
                claim = holder.map(FetchClaim.heldBy) ?? .ours
            }
        }
        return claim
    }

    /// Gives the claim up when the fetch ends (done or failed): a waiting node goes on at once.
    public func releaseFetch(studyUID: String) {
        guard dialect == .postgres else { return }
        let node = node
        try? writeRelaxed { db in
            try db.execute("DELETE FROM fetch_claim WHERE studyUID = ? AND holder = ?", [studyUID, node])
        }
    }
}
