import Foundation

/// A destination's association slots across a cluster (PostgreSQL): every node runs a worker per
/// slot of `max_associations`, but only the node holding a slot's lease sends on it, so the
/// destination sees at most `max_associations` associations from the whole cluster, and the
/// stat/urgent lane (slot 0) stays one. The lease is renewed with the node's delivery leases
/// (`renewDeliveryLeases`); a dead node's slots are free again when they expire. A gateway alone
/// (SQLite) holds every slot.
extension CacheIndex {
    /// Takes (or keeps) the slot for this node; true when this node holds it now.
    public func holdDeliverySlot(destination: String, slot: Int, now: Date = Date()) throws -> Bool {
        guard dialect == .postgres else { return true }
        let node = node
        var held = false
        try writeRelaxed { db in
            let changed = try db.execute("""
                INSERT INTO delivery_slot (destination, slot, holder, leaseUntil) VALUES (?, ?, ?, ?)
                ON CONFLICT (destination, slot) DO UPDATE SET holder = excluded.holder, leaseUntil = excluded.leaseUntil
                WHERE delivery_slot.holder = excluded.holder OR delivery_slot.holder = '' OR delivery_slot.leaseUntil < ?
                """, [destination, slot, node, now.addingTimeInterval(Self.leaseDuration), now])
            held = changed == 1
        }
        return held
    }

    /// Gives the slot up (the worker stops): another node may take it at once.
    public func releaseDeliverySlot(destination: String, slot: Int) {
        guard dialect == .postgres else { return }
        let node = node
        try? writeRelaxed { db in
            try db.execute("UPDATE delivery_slot SET holder = '' WHERE destination = ? AND slot = ? AND holder = ?",
                           [destination, slot, node])
        }
    }
}
