import Foundation
import GatewayStore
import Testing

@testable import GatewayDICOMweb

/// PS3.4 CC.1.1's state rules, workitem UIDs that name their item again, and the STOW-RS
/// response's status and sequences.
struct UPSRulesTests {
    @Test func claimingAnItemThatIsNotScheduledIsRefused() throws {
        #expect(try UPSService.transition(from: .scheduled, to: .inProgress, held: nil, presented: "1.2") == .change)
        #expect(throws: UPSRefusal.self) { try UPSService.transition(from: .inProgress, to: .inProgress, held: "1.2", presented: "1.2") }
        #expect(throws: UPSRefusal.self) { try UPSService.transition(from: .completed, to: .inProgress, held: nil, presented: "1.2") }
        #expect(throws: UPSRefusal.self) { try UPSService.transition(from: .canceled, to: .inProgress, held: nil, presented: "1.2") }
        #expect(throws: UPSRefusal.self) { try UPSService.transition(from: .scheduled, to: .scheduled, held: nil, presented: "1.2") }
    }

    @Test func completeAndCancelNeedTheClaimsTransactionUID() throws {
        #expect(try UPSService.transition(from: .inProgress, to: .completed, held: "1.2", presented: "1.2") == .change)
        #expect(try UPSService.transition(from: .inProgress, to: .canceled, held: "1.2", presented: "1.2") == .change)
        do {
            _ = try UPSService.transition(from: .inProgress, to: .completed, held: "1.2", presented: "1.3")
            Issue.record("a wrong Transaction UID completed the item")
        } catch let refusal as UPSRefusal {
            #expect(refusal.code == 0xC301 && refusal.httpStatus == 409)
        }
        // Started by a C-MOVE (no Transaction UID): no UPS client can complete it.
        #expect(throws: UPSRefusal.self) { try UPSService.transition(from: .inProgress, to: .completed, held: nil, presented: "1.2") }
        #expect(throws: UPSRefusal.self) { try UPSService.transition(from: .scheduled, to: .completed, held: nil, presented: "1.2") }
        if case .already = try UPSService.transition(from: .completed, to: .completed, held: nil, presented: "1.2") {} else {
            Issue.record("completing a completed item should be a warning")
        }
    }

    @Test func workitemUIDsNameTheirItemOnThisGatewayOnly() {
        for id: Int64 in [1, 42, 9_000_000_000] {
            let uid = UPSWorkitem.uid(itemID: id, aeTitle: "NETGW")
            #expect(uid.hasPrefix("2.25.") && uid.count <= 64 && uid.allSatisfy { $0 == "." || $0.isNumber })
            #expect(UPSWorkitem.itemID(uid: uid, aeTitle: "NETGW") == id)
            #expect(UPSWorkitem.itemID(uid: uid, aeTitle: "OTHER") == nil)
        }
        #expect(UPSWorkitem.itemID(uid: "2.25.1", aeTitle: "NETGW") == nil)
        #expect(UPSWorkitem.itemID(uid: "1.2.3", aeTitle: "NETGW") == nil)
        #expect(UPSWorkitem.State(.allocated) == .scheduled && UPSWorkitem.State(.returned) == .completed)
    }

    @Test func stateChangeBodiesAndDateRanges() throws {
        let body = #"{"00741000": {"vr": "CS", "Value": ["IN PROGRESS"]}, "00081195": {"vr": "UI", "Value": ["1.2.3"]}}"#
        let (state, uid) = try UPSService.stateChange(Data(body.utf8))
        #expect(state == .inProgress && uid == "1.2.3")
        #expect(throws: UPSRefusal.self) { try UPSService.stateChange(Data(#"{"00741000": {"vr": "CS", "Value": ["IN PROGRESS"]}}"#.utf8)) }
        #expect(throws: UPSRefusal.self) { try UPSService.stateChange(Data("not json".utf8)) }
        let range = try UPSService.dateTimeRange("20240101-20240131")
        #expect(range.contains("20240115120000") && !range.contains("20240201000000"))
        #expect(try UPSService.dateTimeRange("20240101-").contains("20991231235959"))
        #expect(throws: UPSRefusal.self) { try UPSService.dateTimeRange("yesterday") }
    }

    @Test func stowResponseStatusFollowsWhatWasStored() throws {
        let good = StowInstanceOutcome(sopClassUID: "1.2.840.10008.5.1.4.1.1.2", sopInstanceUID: "1.2.3.1", studyUID: "1.2.3", seriesUID: "1.2.3.0")
        let bad = StowInstanceOutcome(sopClassUID: "1.2.840.10008.5.1.4.1.1.2", sopInstanceUID: "1.9.1", failureReason: 0xA900)
        #expect(StowResponse(outcomes: [good, good], baseURL: "http://h/dw").status == 200)
        #expect(StowResponse(outcomes: [good, bad], baseURL: "http://h/dw").status == 202)
        #expect(StowResponse(outcomes: [bad], baseURL: "http://h/dw").status == 409)
        #expect(StowResponse(outcomes: [], baseURL: "http://h/dw").status == 409)
        let json = try #require(try JSONSerialization.jsonObject(with: StowResponse(outcomes: [good, bad], baseURL: "http://h/dw").json())
            as? [String: Any])
        let failed = ((json["00081198"] as? [String: Any])?["Value"] as? [[String: Any]])?.first
        #expect(((failed?["00081197"] as? [String: Any])?["Value"] as? [Int]) == [0xA900])
        let referenced = ((json["00081199"] as? [String: Any])?["Value"] as? [[String: Any]])?.first
        #expect(((referenced?["00081190"] as? [String: Any])?["Value"] as? [String]) == ["http://h/dw/studies/1.2.3/series/1.2.3.0/instances/1.2.3.1"])
        #expect(((json["00081190"] as? [String: Any])?["Value"] as? [String]) == ["http://h/dw/studies/1.2.3"])
    }
}
