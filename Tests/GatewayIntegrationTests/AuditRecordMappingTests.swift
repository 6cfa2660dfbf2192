import Foundation
import GatewayApp
import GatewayAudit
import GatewayStore
import Testing

/// Each audit entry the gateway (and its TLS and permission checks) records becomes the PS3.15
/// message a reviewer expects; entries without a standard message stay in the index only.
@Suite struct AuditRecordMappingTests {
    static let gateway = AuditNode(userID: "1", alternativeUserID: "AETITLES=NETGW", host: "gw")
    static let source = AuditSource(id: "gw@NETGW")

    func message(_ record: AuditRecord, _ context: AuditContext? = nil) -> AuditMessage? {
        AuditTrailObserver.message(for: record, context: context, gateway: Self.gateway, source: Self.source)
    }

    @Test func securityRefusalsAreSecurityAlertsOfTheRightKind() throws {
        let authentication = ["certificate-mismatch", "tls-required", "tls-handshake-failed", "bad-certificate", "host-not-allowed", "unknown-caller"]
        for outcome in authentication + ["permission-denied", "move-destination-denied"] {
            let m = try #require(message(AuditRecord(event: "security-alert", actor: "TRUSTA_PACS", peer: "10.1.2.3", outcome: outcome,
                                                     detail: "certificate CN=trustb claims TRUSTA_PACS")))
            #expect(m.event.id == .securityAlert)
            #expect(m.event.outcome == .minorFailure)
            #expect(m.event.typeCodes == [authentication.contains(outcome) ? .nodeAuthentication : .useOfRestrictedFunction], "\(outcome)")
            #expect(m.event.outcomeDescription?.hasPrefix(outcome) == true)
            #expect(m.participants.contains { $0.userID == "TRUSTA_PACS" && $0.userIsRequestor && $0.networkAccessPointID == "10.1.2.3" })
            #expect(m.objects.first?.id == "TRUSTA_PACS@10.1.2.3")
        }
        let rejected = try #require(message(AuditRecord(event: "association", actor: "ANYONE", peer: "127.0.0.1", outcome: "rejected",
                                                        detail: "calling AE title not recognised")))
        #expect(rejected.event.id == .securityAlert && rejected.event.typeCodes == [.nodeAuthentication])
    }

    @Test func configurationChangesAuthenticationAndAbnormalEndsMap() throws {
        let reload = try #require(message(AuditRecord(event: "config", actor: "SIGHUP", outcome: "reloaded", detail: "taken")))
        #expect(reload.event.id == .securityAlert && reload.event.typeCodes == [.softwareConfiguration] && reload.event.outcome == .success)
        let refused = try #require(message(AuditRecord(event: "config", actor: "http-api", outcome: "refused", detail: "1 error(s)")))
        #expect(refused.event.outcome == .minorFailure)
        let login = try #require(message(AuditRecord(event: "authentication", actor: "", peer: "192.0.2.9", outcome: "failure",
                                                     detail: "bearer token is not this gateway's")))
        #expect(login.event.id == .userAuthentication && login.event.typeCodes == [.login] && login.event.outcome == .minorFailure)
        #expect(login.participants.first?.networkAccessPointID == "192.0.2.9")
        let crash = try #require(message(AuditRecord(event: "abnormal-end", actor: "gateway", outcome: "SIGKILL")))
        #expect(crash.event.id == .applicationActivity && crash.event.typeCodes == [.applicationStop] && crash.event.outcome == .majorFailure)
        for event in ["worklist", "repair", "duplicate", "route", "quarantine", "delivery"] {
            #expect(message(AuditRecord(event: event, actor: "x", outcome: "y")) == nil, "\(event)")
        }
    }

    @Test func dataEventsCarryTheirStudiesPatientsAndQuery() throws {
        let context = AuditContext(studies: [.init(uid: "1.2.3", accessionNumbers: ["A1"], sopClasses: ["1.2.840.10008.5.1.4.1.1.2": 4])],
                                   patients: [.init(id: "P1", issuer: "RTH", name: "Doe^J")])
        let stored = try #require(message(AuditRecord(event: "association", actor: "MOD", peer: "10.0.0.9", outcome: "released",
                                                      detail: "stored 4, refused 0"), context))
        #expect(stored.event.id == .instancesTransferred && stored.event.action == .create && stored.event.outcome == .success)
        #expect(stored.objects.map(\.id) == ["1.2.3", "P1^^^RTH"])
        #expect(message(AuditRecord(event: "association", actor: "MOD", outcome: "released", detail: "stored 0, refused 0")) == nil)
        let partly = try #require(message(AuditRecord(event: "association", actor: "MOD", outcome: "released", detail: "stored 4, refused 2"), context))
        #expect(partly.event.outcome == .minorFailure)

        let query = try #require(message(AuditRecord(event: "query", actor: "REP", outcome: "3 match(es)", detail: "level STUDY"),
                                         AuditContext(sopClassUID: "1.2.840.10008.5.1.4.1.2.2.1", queryIdentifier: Data([1, 2, 3]))))
        #expect(query.event.id == .query && query.objects.first?.query == Data([1, 2, 3]) && query.objects.first?.id == "1.2.840.10008.5.1.4.1.2.2.1")
        let refusedQuery = try #require(message(AuditRecord(event: "query", actor: "REP", outcome: "0xC000", detail: "too many keys")))
        #expect(refusedQuery.event.outcome == .minorFailure)

        let retrieve = try #require(message(AuditRecord(event: "retrieve", actor: "REP", studyUID: "1.2.3", outcome: "0x0000", detail: "C-GET"), context))
        #expect(retrieve.event.id == .instancesAccessed && retrieve.event.action == .read && retrieve.objects.count == 2)
        #expect(retrieve.event.outcome == .success)
        let evicted = try #require(message(AuditRecord(event: "evict", studyUID: "1.2.3", outcome: "removed", detail: "4 instance(s)"), context))
        #expect(evicted.event.id == .studyDeleted && evicted.event.action == .delete && evicted.objects.first?.dataLifeCycle == 14)
        let pulled = try #require(message(AuditRecord(event: "pull", actor: "TRUST_A", studyUID: "1.2.3", outcome: "complete", detail: "4 instance(s)")))
        #expect(pulled.event.id == .instancesTransferred && pulled.objects.map(\.id) == ["1.2.3"])
    }
}
