import DicomCore
import Foundation
import Testing
@testable import GatewayDICOMweb

/// QIDO-RS parameters into a C-FIND identifier, and matches into the DICOM JSON model.
@Suite struct QIDOQueryTests {
    static func parse(_ level: QueryLevel, _ parameters: [(String, String)], fixed: [DicomTag: String] = [:]) throws -> QIDOQuery {
        try QIDOQuery.parse(level: level, parameters: parameters.map { (name: $0.0, value: $0.1) }, fixed: fixed)
    }

    @Test func ohifsStudyListRequestBecomesAStudyLevelIdentifier() throws {
        let q = try Self.parse(.study, [("limit", "101"), ("offset", "0"), ("fuzzymatching", "false"),
                                        ("includefield", "00081030,00080060"), ("PatientName", "doe*")])
        #expect(q.limit == 101 && q.offset == 0 && !q.fuzzyMatching)
        #expect(q.identifier[.patientName] == "doe*")
        #expect(q.identifier[.studyDescription] == "")
        #expect(q.identifier[.modality] == "")  // asked for: returned empty at study level
        #expect(q.identifier[.modalitiesInStudy] == "" && q.identifier[.numberOfStudyRelatedInstances] == "")
    }

    @Test func keysByTagOrKeywordUIDListsWithCommasAndPathUIDs() throws {
        let q = try Self.parse(.image, [("0020000E", "1.2.3,1.2.4"), ("StudyDate", "20240101-20240131")],
                               fixed: [.studyInstanceUID: "1.2"])
        #expect(q.identifier[.seriesInstanceUID] == "1.2.3\\1.2.4")
        #expect(q.identifier[.studyDate] == "20240101-20240131")
        #expect(q.identifier[.studyInstanceUID] == "1.2")
        #expect(q.identifier[.sopInstanceUID] == "")
    }

    @Test func includefieldAllAsksForEveryIndexedKeyOfTheLevel() throws {
        let q = try Self.parse(.series, [("includefield", "all")])
        #expect(q.identifier[.bodyPartExamined] == "")
        #expect(q.identifier[.studyDescription] == "")
        #expect(q.identifier[.sopInstanceUID] == nil)
    }

    @Test func whatCannotBeHonouredIsRefusedAndWhatNamesNothingIsIgnored() throws {
        #expect(throws: QIDOQuery.Invalid.self) { try Self.parse(.study, [("limit", "-1")]) }
        #expect(throws: QIDOQuery.Invalid.self) { try Self.parse(.study, [("offset", "x")]) }
        #expect(throws: QIDOQuery.Invalid.self) { try Self.parse(.study, [("fuzzymatching", "maybe")]) }
        #expect(throws: QIDOQuery.Invalid.self) { try Self.parse(.study, [("SOPInstanceUID", "1.2")]) }  // below the level
        #expect(throws: QIDOQuery.Invalid.self) { try Self.parse(.image, [("Rows", "512")]) }           // not matchable
        #expect(throws: QIDOQuery.Invalid.self) { try Self.parse(.study, [("NumberOfStudyRelatedInstances", "3")]) }
        let q = try Self.parse(.study, [("NoSuchKeyword", "x"), ("limit", "999999"), ("fuzzymatching", "true")])
        #expect(q.limit == QIDOQuery.maximumLimit && q.fuzzyMatching)
        #expect(q.identifier.tags == QIDOQuery.defaultKeys(.study).sorted())
    }

    @Test func dicomJSONModel() throws {
        var a = DicomAttributes()
        a[.patientName] = "Doe^Jane"
        a[.modalitiesInStudy] = "CT\\MR"
        a[.numberOfStudyRelatedInstances] = "12"
        a[.studyDescription] = ""
        a[.studyInstanceUID] = "1.2.3"
        let decoded = try #require(try JSONSerialization.jsonObject(with: DicomJSON.encode([a])) as? [[String: [String: Any]]])
        let o = try #require(decoded.first)
        #expect(o["00100010"]?["vr"] as? String == "PN")
        #expect((o["00100010"]?["Value"] as? [[String: String]])?.first?["Alphabetic"] == "Doe^Jane")
        #expect(o["00080061"]?["Value"] as? [String] == ["CT", "MR"])
        #expect(o["00201208"]?["vr"] as? String == "IS")
        #expect(o["00201208"]?["Value"] as? [Int] == [12])
        #expect(o["00081030"]?["vr"] as? String == "LO" && o["00081030"]?["Value"] == nil)
        #expect(o["0020000D"]?["Value"] as? [String] == ["1.2.3"])
    }
}
