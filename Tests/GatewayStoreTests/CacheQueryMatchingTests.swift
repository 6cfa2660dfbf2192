import DicomCore
import Foundation
import GRDB
import Testing
@testable import GatewayStore

/// C-FIND matching over the index (PS3.4 C.2.2.2), against studies indexed by hand.
@Suite struct CacheQueryMatchingTests {
    static let s1 = "1.2.826.0.1.3680043.8.1055.100.1"
    static let s2 = "1.2.826.0.1.3680043.8.1055.100.2"
    static let s3 = "1.2.826.0.1.3680043.8.1055.100.3"
    static let s4 = "1.2.826.0.1.3680043.8.1055.100.4"
    static let institutionName = DicomTag(0x0008, 0x0080)
    static let performingPhysician = DicomTag(0x0008, 0x1050)
    static let patientStudies = DicomTag(0x0020, 0x1200)
    static let studySeries = DicomTag(0x0020, 0x1206)
    static let seriesInstances = DicomTag(0x0020, 0x1209)

    /// S1: Doe^Jane, CT series (2 instances) + MR series (1). S2: SMITH^John, MR. S3: Doe^Jane again, CR.
    /// S4: no date, time or accession.
    static func populated() throws -> CacheFixture {
        let f = try CacheFixture("query")
        typealias F = CacheFixture
        try f.add(F.attributes(study: s1, series: s1 + ".1", sop: s1 + ".1.1", studyTime: "101500", accession: "ACC001"))
        try f.add(F.attributes(study: s1, series: s1 + ".1", sop: s1 + ".1.2", studyTime: "101500", accession: "ACC001", instanceNumber: "2"))
        try f.add(F.attributes(study: s1, series: s1 + ".2", sop: s1 + ".2.1", modality: "MR", studyTime: "101500", accession: "ACC001"))
        try f.add(F.attributes(
            study: s2, series: s2 + ".1", sop: s2 + ".1.1", patientID: "PID002", patientName: "SMITH^John", modality: "MR",
            studyDate: "20240215", studyTime: "143000", accession: "acc002", description: "head mri"))
        try f.add(F.attributes(
            study: s3, series: s3 + ".1", sop: s3 + ".1.1", modality: "CR", studyDate: "20231231", studyTime: "235959",
            accession: "ACC003", description: "Chest"))
        try f.add(F.attributes(
            study: s4, series: s4 + ".1", sop: s4 + ".1.1", patientID: "PID004", patientName: "Nobody^Known", modality: "OT",
            studyDate: "", studyTime: "", accession: "", description: ""))
        return f
    }

    /// Study Instance UIDs matched by a STUDY-level query with `keys` (plus StudyInstanceUID requested).
    static func studies(_ f: CacheFixture, _ keys: [DicomTag: String]) throws -> [String] {
        var keys = keys
        if keys[.studyInstanceUID] == nil { keys[.studyInstanceUID] = "" }
        return try f.find(.study, keys).values(.studyInstanceUID)
    }

    @Test func universalMatchingWithEmptyOrStarReturnsEveryStudy() throws {
        let f = try Self.populated()
        let all = [Self.s1, Self.s2, Self.s3, Self.s4]
        #expect(try Self.studies(f, [.patientID: ""]) == all)
        #expect(try Self.studies(f, [.patientID: "*"]) == all)
        #expect(try Self.studies(f, [.studyDate: "", .accessionNumber: "*", .patientName: ""]) == all)
    }

    @Test func singleValueMatchingIsExactAndCaseSensitiveForTextAttributes() throws {
        let f = try Self.populated()
        #expect(try Self.studies(f, [.accessionNumber: "ACC001"]) == [Self.s1])
        #expect(try Self.studies(f, [.accessionNumber: "acc001"]) == [], "SH/LO matching is case-sensitive")
        #expect(try Self.studies(f, [.accessionNumber: "ACC00"]) == [], "no implicit prefix matching")
        #expect(try Self.studies(f, [.patientID: "PID002"]) == [Self.s2])
        #expect(try Self.studies(f, [.studyDate: "20231231"]) == [Self.s3])
        #expect(try Self.studies(f, [.studyInstanceUID: Self.s2]) == [Self.s2])
    }

    @Test func wildcardsAreCaseSensitiveForLOAndCS() throws {
        let f = try Self.populated()
        #expect(try Self.studies(f, [.studyDescription: "Head*"]) == [Self.s1])
        #expect(try Self.studies(f, [.studyDescription: "*ead*"]) == [Self.s1, Self.s2])
        #expect(try Self.studies(f, [.studyDescription: "h?ad*"]) == [Self.s2])
        #expect(try Self.studies(f, [.studyDescription: "HEAD*"]) == [])
        #expect(try Self.studies(f, [.accessionNumber: "ACC00?"]) == [Self.s1, Self.s3])
        #expect(try Self.studies(f, [.accessionNumber: "ACC0?"]) == [], "? matches exactly one character")

        let mr = try f.find(.series, [.seriesInstanceUID: "", .modality: "M*"])
        #expect(mr.values(.seriesInstanceUID) == [Self.s1 + ".2", Self.s2 + ".1"])
        #expect(mr.values(.modality) == ["MR", "MR"])
        #expect(try f.find(.series, [.seriesInstanceUID: "", .modality: "m*"]).isEmpty, "CS is case-sensitive")
        #expect(try f.find(.series, [.seriesInstanceUID: "", .modality: "?T"]).values(.modality) == ["CT", "OT"])
    }

    @Test func patientNameMatchingIsCaseInsensitiveWithAndWithoutWildcards() throws {
        let f = try Self.populated()
        #expect(try Self.studies(f, [.patientName: "doe^jane"]) == [Self.s1, Self.s3])
        #expect(try Self.studies(f, [.patientName: "DOE^JANE"]) == [Self.s1, Self.s3])
        #expect(try Self.studies(f, [.patientName: "smith*"]) == [Self.s2])
        #expect(try Self.studies(f, [.patientName: "*JOHN"]) == [Self.s2])
        #expect(try Self.studies(f, [.patientName: "d?e^*"]) == [Self.s1, Self.s3])
        #expect(try Self.studies(f, [.patientName: "Doe"]) == [], "no implicit prefix matching")
        let returned = try f.find(.study, [.patientName: "smith*", .studyInstanceUID: ""])
        #expect(returned.first?[.patientName] == "SMITH^John", "the stored name is returned as stored")
    }

    @Test func dateRangesClosedAndOpenEnded() throws {
        let f = try Self.populated()
        #expect(try Self.studies(f, [.studyDate: "20240101-"]) == [Self.s1, Self.s2])
        #expect(try Self.studies(f, [.studyDate: "-20240131"]) == [Self.s1, Self.s3], "a study without a date is not in a range")
        #expect(try Self.studies(f, [.studyDate: "20240101-20240131"]) == [Self.s1])
        #expect(try Self.studies(f, [.studyDate: "20240102-20240102"]) == [Self.s1], "bounds are inclusive")
        #expect(try Self.studies(f, [.studyDate: "20240301-"]) == [])
    }

    @Test func timeRangesIncludeTheWholeUpperBound() throws {
        let f = try Self.populated()
        #expect(try Self.studies(f, [.studyTime: "1000-1100"]) == [Self.s1])
        #expect(try Self.studies(f, [.studyTime: "1430-"]) == [Self.s2, Self.s3])
        #expect(try Self.studies(f, [.studyTime: "-1015"]) == [Self.s1], "1015 covers 101500")
        #expect(try Self.studies(f, [.studyTime: "-1014"]) == [])
        #expect(try Self.studies(f, [.studyTime: "143000"]) == [Self.s2])
    }

    @Test func uidListsMatchAnyOfTheirValues() throws {
        let f = try Self.populated()
        #expect(try Self.studies(f, [.studyInstanceUID: "\(Self.s1)\\\(Self.s3)"]) == [Self.s1, Self.s3])
        #expect(try Self.studies(f, [.studyInstanceUID: "\(Self.s2)\\9.9.9"]) == [Self.s2])
        let images = try f.find(.image, [.sopInstanceUID: "\(Self.s1).1.1\\\(Self.s1).2.1\\9.9.9"])
        #expect(images.values(.sopInstanceUID) == [Self.s1 + ".1.1", Self.s1 + ".2.1"])
    }

    @Test func modalitiesInStudyMatchesAStudyHavingAnySeriesOfThatModality() throws {
        let f = try Self.populated()
        let ct = try f.find(.study, [.studyInstanceUID: "", .modalitiesInStudy: "CT"])
        #expect(ct.values(.studyInstanceUID) == [Self.s1])
        #expect(ct.first?[.modalitiesInStudy] == "CT\\MR", "the answer lists all the study's modalities")
        #expect(try Self.studies(f, [.modalitiesInStudy: "MR"]) == [Self.s1, Self.s2])
        #expect(try Self.studies(f, [.modalitiesInStudy: "CT\\CR"]) == [Self.s1, Self.s3])
        #expect(try Self.studies(f, [.modalitiesInStudy: "US"]) == [])
    }

    @Test func keysBelowTheQueryLevelAreIgnoredForMatchingAndReturnedEmpty() throws {
        let f = try Self.populated()
        let matches = try f.find(.study, [
            .studyInstanceUID: "", .modality: "XX", .seriesInstanceUID: "9.9.9", .sopInstanceUID: "9.9.9.9",
        ])
        #expect(matches.values(.studyInstanceUID) == [Self.s1, Self.s2, Self.s3, Self.s4])
        for match in matches {
            #expect(match[.modality] == "")
            #expect(match[.seriesInstanceUID] == "")
            #expect(match[.sopInstanceUID] == "")
        }
        // The same at PATIENT level: study keys do not filter patients.
        let patients = try f.find(.patient, [.patientID: "", .studyDate: "19000101"])
        #expect(patients.values(.patientID) == ["PID001", "PID002", "PID004"])
    }

    @Test func unknownRequestedKeysComeBackEmptyAndAnswersCarryOnlyRequestedKeys() throws {
        let f = try Self.populated()
        let matches = try f.find(.study, [
            .studyInstanceUID: Self.s2, .patientName: "", Self.institutionName: "", Self.performingPhysician: "", .retrieveAETitle: "",
        ])
        #expect(matches.count == 1)
        let m = try #require(matches.first)
        #expect(m[Self.institutionName] == "")
        #expect(m[Self.performingPhysician] == "")
        #expect(m[.retrieveAETitle] == "NETGW")
        #expect(m[.patientName] == "SMITH^John")
        #expect(m[.queryRetrieveLevel] == "STUDY")
        #expect(Set(m.tags) == [.queryRetrieveLevel, .studyInstanceUID, .patientName, Self.institutionName,
                                Self.performingPhysician, .retrieveAETitle])
    }

    @Test func relatedCountsAreReportedAtEachLevel() throws {
        let f = try Self.populated()
        let study = try #require(try f.find(.study, [
            .studyInstanceUID: Self.s1, .numberOfStudyRelatedInstances: "", Self.studySeries: "",
        ]).first)
        #expect(study[.numberOfStudyRelatedInstances] == "3")
        #expect(study[Self.studySeries] == "2")

        let series = try f.find(.series, [.studyInstanceUID: Self.s1, .seriesInstanceUID: "", Self.seriesInstances: ""])
        #expect(series.count == 2)
        #expect(series.first { $0[.seriesInstanceUID] == Self.s1 + ".1" }?[Self.seriesInstances] == "2")
        #expect(series.first { $0[.seriesInstanceUID] == Self.s1 + ".2" }?[Self.seriesInstances] == "1")

        let patient = try f.find(.patient, [.patientID: "PID001", Self.patientStudies: ""])
        #expect(patient.count == 1, "one row per patient, not per study")
        #expect(patient.first?[Self.patientStudies] == "2")
    }

    @Test func samePatientIDFromTwoIssuersStaysTwoPatients() throws {
        let f = try CacheFixture("issuer")
        let a = "1.2.826.0.1.3680043.8.1055.200.1", b = "1.2.826.0.1.3680043.8.1055.200.2"
        try f.add(CacheFixture.attributes(study: a, series: a + ".1", sop: a + ".1.1", patientID: "12345", patientName: "Alpha^Ann", issuer: "TRUSTA"))
        try f.add(CacheFixture.attributes(study: b, series: b + ".1", sop: b + ".1.1", patientID: "12345", patientName: "Beta^Bob", issuer: "TRUSTB"))

        let rows = try f.index.read { db in try db.fetchAll(PatientRecord.self, "SELECT * FROM patient ORDER BY issuer") }
        #expect(rows.map(\.issuer) == ["TRUSTA", "TRUSTB"])
        #expect(rows.map(\.patientName) == ["Alpha^Ann", "Beta^Bob"], "a second issuer's patient must not rename the first")
        #expect(try f.study(a)?.patientRef != f.study(b)?.patientRef)

        let studies = try f.find(.study, [.patientID: "12345", .issuerOfPatientID: "", .studyInstanceUID: "", .patientName: ""])
        #expect(studies.count == 2)
        #expect(studies.first { $0[.studyInstanceUID] == a }?[.issuerOfPatientID] == "TRUSTA")
        #expect(studies.first { $0[.studyInstanceUID] == b }?[.issuerOfPatientID] == "TRUSTB")
        #expect(studies.first { $0[.studyInstanceUID] == b }?[.patientName] == "Beta^Bob")

        #expect(try f.find(.patient, [.patientID: "12345", .issuerOfPatientID: ""]).values(.issuerOfPatientID) == ["TRUSTA", "TRUSTB"])
        #expect(try f.find(.study, [.patientID: "12345", .issuerOfPatientID: "TRUSTB", .studyInstanceUID: ""]).values(.studyInstanceUID) == [b])
    }
}
