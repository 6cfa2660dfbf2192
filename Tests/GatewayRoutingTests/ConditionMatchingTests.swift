import DicomCore
import GatewayConfig
import GatewayRouting
import Testing

/// Every way a rule's condition can test an instance.
@Suite struct ConditionMatchingTests {
    @Test func exactValueMatchesOnlyThatValueIgnoringPadding() throws {
        let r = try matcher("{ Modality: CT }")
        #expect(r.forwards(instance(["Modality": "CT"])))
        #expect(r.forwards(instance(["Modality": "CT "])))
        #expect(!r.forwards(instance(["Modality": "MR"])))
        #expect(!r.forwards(instance(["Modality": "ct"])))
        #expect(!r.forwards(instance()))
    }

    @Test func listMatchesAnyOfItsValues() throws {
        let r = try matcher("{ Modality: [CT, MR, CR, DX] }")
        #expect(r.forwards(instance(["Modality": "MR"])))
        #expect(r.forwards(instance(["Modality": "DX"])))
        #expect(!r.forwards(instance(["Modality": "US"])))
    }

    @Test func exactValueMatchesOneOfSeveralValues() throws {
        let r = try matcher("{ ImageType: PRIMARY }")
        #expect(r.forwards(instance(["ImageType": "ORIGINAL\\PRIMARY\\AXIAL"])))
        #expect(!r.forwards(instance(["ImageType": "DERIVED\\SECONDARY"])))
    }

    @Test func regexIsSearchedAnywhereInTheValue() throws {
        let r = try matcher(#"{ StudyDescription: "~(?i)stroke" }"#)
        #expect(r.forwards(instance(["StudyDescription": "CT HEAD STROKE PROTOCOL"])))
        #expect(r.forwards(instance(["StudyDescription": "code stroke"])))
        #expect(!r.forwards(instance(["StudyDescription": "CT CHEST"])))
        let anchored = try matcher(#"{ AccessionNumber: "~^RTH[0-9]+$" }"#)
        #expect(anchored.forwards(instance(["AccessionNumber": "RTH123"])))
        #expect(!anchored.forwards(instance(["AccessionNumber": "XRTH123"])))
    }

    @Test func wildcardMatchesTheWholeValue() throws {
        let r = try matcher(#"{ StudyDescription: "CT*HEAD?" }"#)
        #expect(r.forwards(instance(["StudyDescription": "CT HEAD1"])))
        #expect(r.forwards(instance(["StudyDescription": "CTHEADS"])))
        #expect(!r.forwards(instance(["StudyDescription": "CT HEAD"])))
        #expect(!r.forwards(instance(["StudyDescription": "MR CT HEAD1"])))
        let dots = try matcher(#"{ StationName: "a.b*" }"#)
        #expect(dots.forwards(instance(["StationName": "a.bc"])))
        #expect(!dots.forwards(instance(["StationName": "axbc"])))
    }

    @Test func presentAndAbsentTestExistence() throws {
        let present = try matcher("{ PatientID: present }")
        #expect(present.forwards(instance(["PatientID": "123"])))
        #expect(!present.forwards(instance(["PatientID": "  "])))
        #expect(!present.forwards(instance()))
        let absent = try matcher("{ AccessionNumber: absent }")
        #expect(absent.forwards(instance()))
        #expect(absent.forwards(instance(["AccessionNumber": ""])))
        #expect(!absent.forwards(instance(["AccessionNumber": "A1"])))
    }

    @Test func equalsSignForcesAnExactMatchOfAKeyword() throws {
        let r = try matcher(#"{ StudyDescription: "=present" }"#)
        #expect(r.forwards(instance(["StudyDescription": "present"])))
        #expect(!r.forwards(instance(["StudyDescription": "CT"])))
    }

    @Test func dateRangeIsInclusiveAndMayBeOpen() throws {
        let r = try matcher("{ StudyDate: 20240101-20241231 }")
        #expect(r.forwards(instance(["StudyDate": "20240101"])))
        #expect(r.forwards(instance(["StudyDate": "20241231"])))
        #expect(!r.forwards(instance(["StudyDate": "20231231"])))
        #expect(!r.forwards(instance(["StudyDate": "20250101"])))
        #expect(!r.forwards(instance()))
        let from = try matcher("{ StudyDate: 20240601- }")
        #expect(from.forwards(instance(["StudyDate": "20300101"])))
        #expect(!from.forwards(instance(["StudyDate": "20240531"])))
        let until = try matcher("{ StudyDate: -20240601 }")
        #expect(until.forwards(instance(["StudyDate": "19990101"])))
        #expect(!until.forwards(instance(["StudyDate": "20240602"])))
    }

    @Test func timeRangeTakesTheWholeLastMinute() throws {
        let r = try matcher("{ StudyTime: 0800-1800 }")
        #expect(r.forwards(instance(["StudyTime": "080000"])))
        #expect(r.forwards(instance(["StudyTime": "180059.123"])))
        #expect(!r.forwards(instance(["StudyTime": "075959"])))
        #expect(!r.forwards(instance(["StudyTime": "1801"])))
    }

    @Test func dashInANonDateAttributeIsAnExactValue() throws {
        let r = try matcher("{ AccessionNumber: 2024-17 }")
        #expect(r.forwards(instance(["AccessionNumber": "2024-17"])))
        #expect(!r.forwards(instance(["AccessionNumber": "2024-16"])))
    }

    @Test func tagWrittenAsGroupElementMatches() throws {
        let r = try matcher(#"{ "0009,0010": PRIVATE_CREATOR }"#)
        var i = instance()
        i.attributes[DicomTag(0x0009, 0x0010)] = "PRIVATE_CREATOR"
        #expect(r.forwards(i))
        #expect(!r.forwards(instance()))
    }

    @Test func everyAttributeMustMatch() throws {
        let r = try matcher(#"{ Modality: CT, StudyDescription: "~(?i)stroke" }"#)
        #expect(r.forwards(instance(["Modality": "CT", "StudyDescription": "Stroke"])))
        #expect(!r.forwards(instance(["Modality": "MR", "StudyDescription": "Stroke"])))
        #expect(!r.forwards(instance(["Modality": "CT", "StudyDescription": "Chest"])))
    }

    @Test func fromMatchesTheSendingNode() throws {
        let r = try matcher("{}", extra: "from: [TRUST_A], ")
        #expect(r.forwards(instance(from: "TRUST_A")))
        #expect(!r.forwards(instance(from: "TRUST_B")))
        #expect(!r.forwards(instance(from: nil)))
    }

    @Test func callingAEMatchesTheAssociationsCaller() throws {
        let r = try matcher("{}", extra: "calling_ae: [TRUSTA_CT1, TRUSTA_MR1], ")
        #expect(r.forwards(instance(callingAE: "TRUSTA_MR1")))
        #expect(r.forwards(instance(callingAE: "TRUSTA_CT1 ")))
        #expect(!r.forwards(instance(callingAE: "TRUSTA_PACS")))
        #expect(!r.forwards(instance(callingAE: nil)))
    }

    @Test(arguments: [
        (SOPClass.ctImageStorage, InstanceCategory.image),
        (SOPClass.mrImageStorage, .image),
        ("1.2.840.10008.5.1.4.1.1.1.1", .image),            // digital X-ray
        ("1.2.840.10008.5.1.4.1.1.481.1", .image),          // RT image
        (SOPClass.basicTextSR, .report),
        (SOPClass.comprehensiveSR, .report),
        (SOPClass.keyObjectSelection, .report),
        (SOPClass.encapsulatedPDF, .report),
        ("1.2.840.10008.5.1.4.1.1.104.2", .report),         // encapsulated CDA
        ("1.2.840.10008.5.1.4.1.1.11.1", .presentation_state),
        ("1.2.840.10008.5.1.4.1.1.9.1.1", .other),          // 12-lead ECG
        ("1.2.840.10008.5.1.4.1.1.481.3", .other),          // RT structure set
        ("1.2.840.10008.5.1.4.1.1.104.3", .other),          // encapsulated STL
        ("1.2.3.4", .other),
    ])
    func categoryComesFromTheSOPClass(uid: String, category: InstanceCategory) {
        #expect(InstanceCategory(sopClassUID: uid) == category)
    }

    @Test func categoryConditionSelectsReports() throws {
        let r = try matcher("{ category: report }")
        #expect(r.forwards(instance(sopClass: SOPClass.encapsulatedPDF)))
        #expect(r.forwards(instance(sopClass: SOPClass.enhancedSR)))
        #expect(r.forwards(instance(sopClass: SOPClass.keyObjectSelection)))
        #expect(!r.forwards(instance(sopClass: SOPClass.ctImageStorage)))
        let either = try matcher("{ category: [image, presentation_state] }")
        #expect(either.forwards(instance(sopClass: "1.2.840.10008.5.1.4.1.1.11.2")))
        #expect(either.forwards(instance()))
        #expect(!either.forwards(instance(sopClass: SOPClass.basicTextSR)))
    }

    @Test func timeWindowIncludesItsStartAndExcludesItsEnd() throws {
        let r = try matcher("{}", extra: #"time: "08:00-18:00", "#)
        #expect(r.forwards(instance(at: "08:00")))
        #expect(r.forwards(instance(at: "17:59")))
        #expect(!r.forwards(instance(at: "18:00")))
        #expect(!r.forwards(instance(at: "07:59")))
    }

    @Test func timeWindowMayWrapMidnight() throws {
        let r = try matcher("{}", extra: #"time: "22:00-06:00", "#)
        #expect(r.forwards(instance(at: "22:00")))
        #expect(r.forwards(instance(at: "23:59")))
        #expect(r.forwards(instance(at: "00:00")))
        #expect(r.forwards(instance(at: "05:59")))
        #expect(!r.forwards(instance(at: "06:00")))
        #expect(!r.forwards(instance(at: "12:00")))
        let allDay = try #require(TimeWindow(parsing: "00:00-24:00"))
        #expect(allDay.contains(TimeOfDay(hour: 23, minute: 59)) && allDay.contains(TimeOfDay(hour: 0, minute: 0)))
    }

    @Test func emptyConditionMatchesEverything() throws {
        let r = try router("routes:\n  - { name: all, to: [HUB] }\n")
        #expect(r.route(instance(from: nil, callingAE: nil)).destinations == ["HUB"])
    }
}
