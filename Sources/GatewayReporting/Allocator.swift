import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GatewayConfig

/// Chooses the reporter site for a worklist item, and says why.
///
/// Eligible: the site has the skill, is within its hours and its deliveries are not failing.
/// Among eligible sites the one whose load after taking the item (open effort / capacity) is
/// lowest wins, so a burst spreads in proportion to capacity. With `prefer: origin`, sites of the
/// study's own organisation win while one of them stays within capacity. Sites the item was
/// already taken from (released, reallocated) are used only when no other site is eligible.
///
/// ```swift
/// let decision = Allocator(plan: plan).decide(request, loads: ["NEURO_HUB": 3.0], failing: [], at: TimeOfDay(hour: 9, minute: 0))
/// decision.chosen   // "NEURO_HUB", or nil: the item stays scheduled and is flagged with decision.reason
/// ```
public struct Allocator: Sendable {
    public let plan: ReportingPlan

    public init(plan: ReportingPlan) { self.plan = plan }

    /// What the allocator knows of one item.
    public struct Request: Sendable {
        public var skill: String
        public var effort: Double
        /// The study's origin node.
        public var origin: String?
        /// Sites it was taken from.
        public var passedOver: Set<String>
        /// A site to leave out entirely (the one it is being taken from now).
        public var excluding: String?

        public init(skill: String, effort: Double, origin: String? = nil, passedOver: Set<String> = [], excluding: String? = nil) {
            self.skill = skill
            self.effort = effort
            self.origin = origin
            self.passedOver = passedOver
            self.excluding = excluding
        }
    }

    /// One site considered, with the facts and the verdict.
    public struct Candidate: Sendable, Codable, Equatable {
        public var site: String
        public var hasSkill: Bool
        public var inHours: Bool
        public var reachable: Bool
        public var capacity: Double
        public var openEffort: Double
        /// (open effort + this item's effort) / capacity.
        public var loadAfter: Double
        public var preferred: Bool
        public var passedOver: Bool
        public var eligible: Bool
        /// Why it is not eligible, or how it ranked.
        public var note: String
    }

    public struct Decision: Sendable, Codable, Equatable {
        public var chosen: String?
        public var reason: String
        public var candidates: [Candidate]
        public var decidedAt: Date

        public init(chosen: String?, reason: String, candidates: [Candidate], decidedAt: Date) {
            self.chosen = chosen
            self.reason = reason
            self.candidates = candidates
            self.decidedAt = decidedAt
        }

        /// The decision as JSON, as the item keeps it (snake_case keys, ISO 8601 time). Written by
        /// hand: it is built for every allocation, and Foundation's JSONEncoder cost more than the
        /// decision itself.
        public var json: String {
            var out = "{\"candidates\":["
            for (i, c) in candidates.enumerated() {
                if i > 0 { out += "," }
                out += "{\"capacity\":\(Self.number(c.capacity)),\"eligible\":\(c.eligible),\"has_skill\":\(c.hasSkill)"
                out += ",\"in_hours\":\(c.inHours),\"load_after\":\(Self.number(c.loadAfter)),\"note\":\(Self.string(c.note))"
                out += ",\"open_effort\":\(Self.number(c.openEffort)),\"passed_over\":\(c.passedOver),\"preferred\":\(c.preferred)"
                out += ",\"reachable\":\(c.reachable),\"site\":\(Self.string(c.site))}"
            }
            out += "],\"chosen\":" + (chosen.map(Self.string) ?? "null")
            out += ",\"decided_at\":\(Self.string(Self.isoTime(decidedAt))),\"reason\":\(Self.string(reason))}"
            return out
        }

        /// `2026-12-04T11:45:03.250Z`.
        static func isoTime(_ date: Date) -> String {
            let seconds = date.timeIntervalSince1970.rounded(.down)
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let millis = min(999, Int((date.timeIntervalSince1970 - seconds) * 1000))
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
        }

        static func number(_ value: Double) -> String {
            value.isFinite ? "\(value)" : "null"
        }

        /// A JSON string literal (RFC 8259 escapes).
        static func string(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 {
                        out += String(format: "\\u%04x", scalar.value)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
    }

    /// `loads`: each site's open effort; `failing`: sites whose deliveries are failing now.
    public func decide(_ request: Request, loads: [String: Double], failing: Set<String>, at time: TimeOfDay,
                       now: Date = Date()) -> Decision {
        let originOrganisation = request.origin.flatMap { plan.organisations[$0] }
        var candidates: [Candidate] = []
        for site in plan.sites where site.name != request.excluding {
            let open = loads[site.name] ?? 0
            var candidate = Candidate(
                site: site.name, hasSkill: site.skills.contains(request.skill), inHours: site.isWorking(at: time),
                reachable: !failing.contains(site.name), capacity: site.capacity, openEffort: open,
                loadAfter: (open + request.effort) / site.capacity,
                preferred: plan.settings.prefer == .origin && originOrganisation != nil && site.organisation == originOrganisation,
                passedOver: request.passedOver.contains(site.name), eligible: false, note: "")
            if !candidate.hasSkill {
                candidate.note = "does not report \(request.skill)"
            } else if !candidate.inHours {
                candidate.note = "outside its hours (\(site.hours.map { "\($0)" } ?? ""))"
            } else if !candidate.reachable {
                candidate.note = "its deliveries are failing"
            } else {
                candidate.eligible = true
            }
            candidates.append(candidate)
        }
        let eligible = candidates.filter(\.eligible)
        guard !eligible.isEmpty else {
            let skilled = candidates.filter(\.hasSkill)
            let reason = skilled.isEmpty
                ? "no reporter site has the skill \(request.skill)"
                : "no site with the skill \(request.skill) can take it now: "
                    + skilled.map { "\($0.site) \($0.note)" }.joined(separator: "; ")
            return Decision(chosen: nil, reason: reason, candidates: candidates, decidedAt: now)
        }
        let fresh = eligible.filter { !$0.passedOver }
        let pool = fresh.isEmpty ? eligible : fresh
        let preferredWithRoom = pool.filter { $0.preferred && $0.loadAfter <= 1 }
        let tier = preferredWithRoom.isEmpty ? pool : preferredWithRoom
        let winner = tier.min { a, b in
            if a.loadAfter != b.loadAfter { return a.loadAfter < b.loadAfter }
            if a.capacity != b.capacity { return a.capacity > b.capacity }
            return a.site < b.site
        }!
        for i in candidates.indices where candidates[i].eligible {
            let c = candidates[i]
            if c.site == winner.site {
                candidates[i].note = "chosen"
            } else if c.passedOver && !fresh.isEmpty {
                candidates[i].note = "the item was already taken from it"
            } else if !preferredWithRoom.isEmpty && !c.preferred {
                candidates[i].note = "not of the origin's organisation, which has room"
            } else {
                candidates[i].note = String(format: "load after %.2f, above %.2f", c.loadAfter, winner.loadAfter)
            }
        }
        var reason = String(format: "%@ has the lowest load after taking it (%.2f of its %.4g per hour)",
                            winner.site, winner.loadAfter, winner.capacity)
        if !preferredWithRoom.isEmpty { reason += "; of the origin's organisation" }
        if fresh.isEmpty && eligible.contains(where: \.passedOver) { reason += "; every eligible site had given it up before" }
        if winner.loadAfter > 1 { reason += "; every eligible site is over capacity" }
        return Decision(chosen: winner.site, reason: reason, candidates: candidates, decidedAt: now)
    }
}
