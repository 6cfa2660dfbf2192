import Foundation

/// Delivery leases across a cluster (PostgreSQL). A node takes deliveries in flight in its own
/// name until `leaseUntil`, and renews that every second while it lives; the deliveries of a
/// node that died go back to the queue once its leases expire, and another node sends them
/// (at-least-once: only the instances that node had in flight can arrive twice). A gateway alone
/// (SQLite) needs neither: its restart requeues what it had in flight.
extension CacheIndex {
    /// How long a lease holds without renewal: a dead node's work is taken over within this
    /// (plus a second for the reclaim and a worker's next look).
    public static let leaseDuration: TimeInterval = 6

    /// The holder and expiry written on newly leased deliveries.
    func leaseTerms(now: Date) -> (holder: String, until: Date) {
        (node, now.addingTimeInterval(Self.leaseDuration))
    }

    /// Extends this node's leases; returns how many it holds.
    @discardableResult
    public func renewDeliveryLeases(now: Date = Date()) throws -> Int {
        var renewed = 0
        try writeRelaxed { db in
            let until = now.addingTimeInterval(Self.leaseDuration)
            renewed = try db.execute("UPDATE delivery SET leaseUntil = ? WHERE state = 'inflight' AND leasedBy = ?", [until, node])
            // And its destinations' association slots (DeliverySlots).
            try db.execute("UPDATE delivery_slot SET leaseUntil = ? WHERE holder = ?", [until, node])
            // And the studies it is fetching from their sources (FetchClaims).
            try db.execute("UPDATE fetch_claim SET leaseUntil = ? WHERE holder = ?", [until, node])
        }
        return renewed
    }

    /// Puts back in the queue the deliveries whose lease expired (their node died or lost the
    /// index); returns how many. Their next send is of the current content.
    @discardableResult
    public func reclaimExpiredLeases(now: Date = Date()) throws -> Int {
        var reclaimed = 0
        try writeRelaxed { db in
            reclaimed = try db.execute("""
                UPDATE delivery SET state = 'queued', leasedBy = '', requeueAfterFlight = 0, updatedAt = ?
                WHERE state = 'inflight' AND leaseUntil < ?
                """, [now, now])
        }
        return reclaimed
    }
}
