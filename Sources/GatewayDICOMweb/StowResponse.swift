import Foundation

/// The Store Instances Response Module (PS3.18 §10.5.3, Table 10.5.3-1) in the DICOM JSON model:
/// RetrieveURL (0008,1190) of the study, ReferencedSOPSequence (0008,1199) with each stored
/// instance's classes, UIDs and RetrieveURL, FailedSOPSequence (0008,1198) with each refused
/// instance's FailureReason (0008,1197).
public struct StowResponse: Sendable {
    public let outcomes: [StowInstanceOutcome]
    /// `{root}` as clients reach it, e.g. `http://host:8080/dicom-web`.
    public let baseURL: String

    public init(outcomes: [StowInstanceOutcome], baseURL: String) {
        self.outcomes = outcomes
        self.baseURL = baseURL
    }

    public var stored: [StowInstanceOutcome] { outcomes.filter(\.isStored) }
    public var failed: [StowInstanceOutcome] { outcomes.filter { !$0.isStored } }

    /// 200 when every instance was stored, 409 when none was (or the request held none),
    /// 202 when some were.
    public var status: Int {
        let (s, f) = (stored.count, failed.count)
        if s > 0 && f == 0 { return 200 }
        if s == 0 { return 409 }
        return 202
    }

    public func json() -> Data {
        var object: [String: Any] = [:]
        let studies = Set(stored.compactMap(\.studyUID))
        if studies.count == 1, let study = studies.first {
            object["00081190"] = Self.element("UR", [baseURL + "/studies/" + study])
        }
        let referenced = stored.map { o -> [String: Any] in
            var item = Self.identity(o)
            if let study = o.studyUID, let series = o.seriesUID, let sop = o.sopInstanceUID {
                item["00081190"] = Self.element("UR", ["\(baseURL)/studies/\(study)/series/\(series)/instances/\(sop)"])
            }
            return item
        }
        let failures = failed.map { o -> [String: Any] in
            var item = Self.identity(o)
            item["00081197"] = Self.element("US", [Int(o.failureReason ?? StowInstanceOutcome.Reason.processingFailure)])
            return item
        }
        if !referenced.isEmpty { object["00081199"] = ["vr": "SQ", "Value": referenced] }
        if !failures.isEmpty { object["00081198"] = ["vr": "SQ", "Value": failures] }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return data + Data([0x0A])
    }

    static func identity(_ o: StowInstanceOutcome) -> [String: Any] {
        var item: [String: Any] = [:]
        if let c = o.sopClassUID, !c.isEmpty { item["00081150"] = element("UI", [c]) }
        if let i = o.sopInstanceUID, !i.isEmpty { item["00081155"] = element("UI", [i]) }
        return item
    }

    static func element(_ vr: String, _ values: [Any]) -> [String: Any] { ["vr": vr, "Value": values] }
}
