import DicomCore
import Testing
@testable import GatewayStore

/// Keys past QueryKeyLimits are refused with a comment (at most 64 characters) before any SQL runs.
@Suite struct QueryKeyLimitsTests {
    @Test func aTextKeyIsBoundedAsOnePatternBackslashesIncluded() {
        // The fuzz finding: 1,600 parts of 32 wildcards each passed part by part, and SQLite
        // refused the 52,799-byte GLOB pattern with an internal error.
        let value = Array(repeating: String(repeating: "*a", count: 16), count: 1_600).joined(separator: "\\")
        for tag in [DicomTag.studyDescription, .patientName, .patientID] {
            let problem = QueryKeyLimits.problem(DicomAttributes([tag: value]))
            #expect(problem != nil, "\(tag)")
            #expect((problem ?? "").count <= 64, "\(problem ?? "")")
        }
    }

    @Test func aUIDListIsCountedByValues() {
        let list = (0..<10_000).map { "1.2.3.\($0)" }.joined(separator: "\\")
        #expect(QueryKeyLimits.problem(DicomAttributes([DicomTag.studyInstanceUID: list])) == nil)
        let tooMany = (0..<20_001).map { "1.2.3.\($0)" }.joined(separator: "\\")
        #expect(QueryKeyLimits.problem(DicomAttributes([DicomTag.studyInstanceUID: tooMany]))?.contains("at most 20000") == true)
    }

    @Test func ordinaryKeysPass() {
        let keys: [DicomTag: String] = [.patientName: "SMITH^J*", .patientID: "RTH-123", .modalitiesInStudy: "CT\\MR"]
        #expect(QueryKeyLimits.problem(DicomAttributes(keys)) == nil)
    }
}
