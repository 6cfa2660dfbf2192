import Foundation

/// What the ingest path remembers of recent studies' worklist items, so a study's later
/// instances cost no rule matching, identity edits or index read: whether it has an item, its
/// class, and the site its images go to. Bounded (the oldest entries are forgotten; a forgotten
/// study is looked up again once). The index stays the truth: the transaction that files an
/// instance reads the item itself.
final class WorklistStudies: @unchecked Sendable {
    // Safe: `entries` and `order` are only touched under `lock`.
    struct Entry: Equatable {
        var rank: Int
        var site: String?
        var pushImages: Bool
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
        order.reserveCapacity(capacity)
    }

    func entry(_ studyUID: String) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        return entries[studyUID]
    }

    func remember(_ studyUID: String, _ entry: Entry) {
        lock.lock()
        defer { lock.unlock() }
        if entries.updateValue(entry, forKey: studyUID) != nil { return }
        if order.count < capacity {
            order.append(studyUID)
        } else {
            entries.removeValue(forKey: order[next])
            order[next] = studyUID
            next = (next + 1) % capacity
        }
    }
}
