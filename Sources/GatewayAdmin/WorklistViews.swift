import Foundation
import GatewayStore

/// The JSON shapes of `/api/v1/worklist`. Unlike ``APIViews``, absent values are written as
/// `null` rather than left out, so a client sees every field of an item every time.
enum WorklistViews {
    /// One item as listings show it: its state, deadline and times, and its study when cached.
    struct Item: Encodable {
        var listing: WorklistListing
        var now: Date
        /// `http.patient_data`: whether `patient_id` carries the network Patient ID or null.
        var patientData: Bool

        enum Keys: String, CodingKey {
            case id, studyInstanceUid, origin, `class`, skill, effort, rule, site, state, deadline, secondsToDeadline, overdue
            case orphan, flag, arrivedAt, allocatedAt, startedAt, reportedAt, reportedBy, returnedAt, escalatedAt, cancelledAt
            case reporter, patientId, accessionNumber, studyDescription, modalities, instances
        }

        func encode(to encoder: any Encoder) throws {
            try encodeFields(into: encoder.container(keyedBy: Keys.self))
        }

        /// Writes the fields; `Detail` adds its own after them.
        func encodeFields(into container: KeyedEncodingContainer<Keys>) throws {
            var c = container
            let item = listing.item
            try c.encode(item.id, forKey: .id)
            try c.encode(item.studyUID, forKey: .studyInstanceUid)
            try c.encode(item.origin, forKey: .origin)
            try c.encode(CacheIndex.className(ofRank: item.priority), forKey: .class)
            try c.encode(item.skill, forKey: .skill)
            try c.encode(item.effort, forKey: .effort)
            try c.encode(item.rule, forKey: .rule)
            try c.encode(item.site, forKey: .site)
            try c.encode(item.state.rawValue, forKey: .state)
            try c.encode(item.deadline, forKey: .deadline)
            try c.encode(Int(item.deadline.timeIntervalSince(now).rounded(.down)), forKey: .secondsToDeadline)
            try c.encode(item.isOverdue(at: now), forKey: .overdue)
            try c.encode(item.orphan?.rawValue, forKey: .orphan)
            try c.encode(item.flag, forKey: .flag)
            try c.encode(item.arrivedAt, forKey: .arrivedAt)
            try c.encode(item.allocatedAt, forKey: .allocatedAt)
            try c.encode(item.startedAt, forKey: .startedAt)
            try c.encode(item.reportedAt, forKey: .reportedAt)
            try c.encode(item.reportedBy, forKey: .reportedBy)
            try c.encode(item.returnedAt, forKey: .returnedAt)
            try c.encode(item.escalatedAt, forKey: .escalatedAt)
            try c.encode(item.cancelledAt, forKey: .cancelledAt)
            try c.encode(item.reporter, forKey: .reporter)
            try c.encode(patientData ? item.patientID : nil, forKey: .patientId)
            let study = listing.study
            try c.encode(study?.accessionNumber, forKey: .accessionNumber)
            try c.encode(study?.studyDescription, forKey: .studyDescription)
            try c.encode(study?.modalities, forKey: .modalities)
            try c.encode(study?.instanceCount, forKey: .instances)
        }
    }

    /// `/worklist/{id}`: the item, the allocator's last decision and the history.
    struct Detail: Encodable {
        var item: Item
        var history: [WorklistEvent]

        enum Keys: String, CodingKey { case explanation, history }

        func encode(to encoder: any Encoder) throws {
            try item.encodeFields(into: encoder.container(keyedBy: Item.Keys.self))
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(JSONValue.parse(item.listing.item.explanation), forKey: .explanation)
            try c.encode(history.map(HistoryEntry.init), forKey: .history)
        }
    }

    struct HistoryEntry: Encodable {
        var time: Date
        var event: String
        var actor: String
        var site: String
        var detail: String

        init(_ e: WorklistEvent) {
            time = e.time
            event = e.event
            actor = e.actor
            site = e.site
            detail = e.detail
        }
    }

    struct Listing: Encodable {
        var items: [Item]
        var total: Int
        var limit: Int
        var offset: Int
    }

    /// A reporter site: its configuration, its hours now and its open work.
    struct Site: Encodable {
        var site: String
        /// False for a site that still has open items but is no longer in the configuration.
        var configured: Bool
        var skills: [String]
        var capacity: Double
        var hours: String?
        var inHoursNow: Bool
        var onDemand: Bool
        var organisation: String?
        var openEffort: Double
        var openItems: Int
        var failingItems: Int
        /// open effort / capacity; null without a capacity.
        var load: Double?

        enum Keys: String, CodingKey {
            case site, configured, skills, capacity, hours, inHoursNow, onDemand, organisation, openEffort, openItems, failingItems, load
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(site, forKey: .site)
            try c.encode(configured, forKey: .configured)
            try c.encode(skills, forKey: .skills)
            try c.encode(capacity, forKey: .capacity)
            try c.encode(hours, forKey: .hours)
            try c.encode(inHoursNow, forKey: .inHoursNow)
            try c.encode(onDemand, forKey: .onDemand)
            try c.encode(organisation, forKey: .organisation)
            try c.encode(openEffort, forKey: .openEffort)
            try c.encode(openItems, forKey: .openItems)
            try c.encode(failingItems, forKey: .failingItems)
            try c.encode(load, forKey: .load)
        }

        /// The configured sites with their loads, then any site with open work that is no longer configured.
        static func merge(_ sites: [WorklistSiteView], _ loads: [WorklistSiteLoad]) -> [Site] {
            let byName = Dictionary(loads.map { ($0.site, $0) }, uniquingKeysWith: { a, _ in a })
            var views = sites.map { s -> Site in
                let load = byName[s.site]
                let effort = load?.openEffort ?? 0
                return Site(site: s.site, configured: true, skills: s.skills, capacity: s.capacity, hours: s.hours,
                            inHoursNow: s.inHoursNow, onDemand: s.onDemand, organisation: s.organisation, openEffort: effort,
                            openItems: load?.openItems ?? 0, failingItems: load?.failingItems ?? 0,
                            load: s.capacity > 0 ? effort / s.capacity : nil)
            }
            let configured = Set(sites.map(\.site))
            for load in loads where !configured.contains(load.site) {
                views.append(Site(site: load.site, configured: false, skills: [], capacity: 0, hours: nil, inHoursNow: false,
                                  onDemand: false, organisation: nil, openEffort: load.openEffort, openItems: load.openItems,
                                  failingItems: load.failingItems, load: nil))
            }
            return views
        }
    }

    struct Sites: Encodable {
        var sites: [Site]
    }

    /// `/worklist/summary`: counts for the dashboard.
    struct Summary: Encodable {
        var byState: [String: Int]
        /// Open items only.
        var byClass: [String: Int]
        var overdue: Int
        var orphans: Int
        var notificationsPending: Int

        init(_ counts: WorklistCounts, notificationsPending: Int) {
            var byState = Dictionary(uniqueKeysWithValues: WorklistState.allCases.map { ($0.rawValue, 0) })
            var byClass = Dictionary(uniqueKeysWithValues: AdminAPI.worklistClasses.map { ($0, 0) })
            for (key, n) in counts.items {
                byState[key.state, default: 0] += n
                if WorklistState(rawValue: key.state)?.isOpen == true {
                    byClass[CacheIndex.className(ofRank: key.priority), default: 0] += n
                }
            }
            self.byState = byState
            self.byClass = byClass
            overdue = counts.overdue.values.reduce(0, +)
            orphans = counts.orphans.values.reduce(0, +)
            self.notificationsPending = notificationsPending
        }
    }

    /// `/worklist/turnaround`: per class, reports per time bucket with their median and 90th percentile.
    struct Turnaround: Encodable {
        var window: String
        var bucketSeconds: Int
        var series: [Series]

        struct Series: Encodable {
            var `class`: String
            var points: [Point]
        }

        struct Point: Encodable {
            var start: Date
            var count: Int
            var medianSeconds: Double
            var p90Seconds: Double
        }

        /// Buckets aligned on multiples of `bucketSeconds` since 1970 (UTC), by when the report came;
        /// only buckets with reports; classes from stat down, only those with reports.
        init(window: String, bucketSeconds: Int, turnarounds: [WorklistTurnaround]) {
            self.window = window
            self.bucketSeconds = bucketSeconds
            let width = Double(bucketSeconds)
            var grouped: [Int: [Double: [Double]]] = [:]
            for t in turnarounds {
                let start = (t.reportedAt.timeIntervalSince1970 / width).rounded(.down) * width
                grouped[t.priority, default: [:]][start, default: []].append(t.seconds)
            }
            series = grouped.keys.sorted(by: >).map { rank in
                let buckets = grouped[rank]!
                return Series(class: CacheIndex.className(ofRank: rank), points: buckets.keys.sorted().map { start in
                    let seconds = buckets[start]!.sorted()
                    return Point(start: Date(timeIntervalSince1970: start), count: seconds.count,
                                 medianSeconds: Self.percentile(seconds, 0.5), p90Seconds: Self.percentile(seconds, 0.9))
                })
            }
        }

        /// The `p` quantile of sorted values, interpolated linearly between the nearest ranks.
        static func percentile(_ sorted: [Double], _ p: Double) -> Double {
            guard let first = sorted.first else { return 0 }
            guard sorted.count > 1 else { return first }
            let position = p * Double(sorted.count - 1)
            let lower = Int(position.rounded(.down))
            let upper = min(lower + 1, sorted.count - 1)
            let fraction = position - Double(lower)
            return ((sorted[lower] + (sorted[upper] - sorted[lower]) * fraction) * 1000).rounded() / 1000
        }
    }
}

/// Any JSON value: the stored explanation, embedded as an object rather than a string.
enum JSONValue: Encodable, Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// `text` parsed; null when empty or not JSON (an explanation is written by the gateway itself,
    /// so this is only an empty one in practice).
    static func parse(_ text: String) -> JSONValue {
        guard !text.isEmpty else { return .null }
        // A plain decoder: the explanation's keys are snake_case already and must stay as written.
        return (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            var c = encoder.singleValueContainer()
            try c.encode(n)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for v in a { try c.encode(v) }
        case .object(let o):
            // Keys written through a keyed container would pass through the encoder's snake_case
            // conversion; the explanation's keys are snake_case already, which that leaves as they are.
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in o.sorted(by: { $0.key < $1.key }) { try c.encode(v, forKey: Key(stringValue: k)) }
        }
    }
}
