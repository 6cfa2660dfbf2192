import DicomCore
import Testing

/// `DicomTag(parsing:)`: the forms operators type on the command line and in config files.
@Suite struct DicomTagParsingTests {
    @Test(arguments: ["PatientID", "patientid", "0010,0020", "(0010,0020)", "00100020", "( 0010 , 0020 )"])
    func everyWrittenFormOfPatientIDGivesTheSameTag(_ text: String) {
        #expect(DicomTag(parsing: text) == DicomTag(0x0010, 0x0020))
    }

    @Test func hexGroupAndElementAreReadCaseInsensitively() {
        #expect(DicomTag(parsing: "0020,000d") == .studyInstanceUID)
        #expect(DicomTag(parsing: "(7FE0,0010)") == DicomTag(0x7FE0, 0x0010))
        #expect(DicomTag(parsing: "0009,10ff") == DicomTag(0x0009, 0x10FF))
    }

    @Test(arguments: ["", "PatientId2", "NoSuchKeyword", "0010,002", "0010,00200", "0010;0020", "0010,002G",
                      "0x0010,0x0020", "0010-0020", "0010,0020x"])
    func malformedTagTextIsRejected(_ text: String) {
        #expect(DicomTag(parsing: text) == nil, "'\(text)' must not parse")
    }

    @Test func descriptionAndKeywordRoundTrip() {
        let tag = DicomTag(0x0020, 0x000E)
        #expect(tag.description == "(0020,000E)")
        #expect(tag.keyword == "SeriesInstanceUID")
        #expect(DicomTag(parsing: tag.description) == tag)
        #expect(DicomTag(parsing: tag.keyword!) == tag)
        #expect(DicomTag(0x0009, 0x0010).keyword == nil)
    }

    @Test func rawValueOrdersGroupBeforeElement() {
        #expect(DicomTag(rawValue: 0x0010_0020) == .patientID)
        #expect(DicomTag.patientID.rawValue == 0x0010_0020)
        #expect(DicomTag(0x0008, 0xFFFF) < DicomTag(0x0010, 0x0000))
    }
}
