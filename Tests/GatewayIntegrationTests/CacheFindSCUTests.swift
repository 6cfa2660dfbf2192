import DicomCore
import DicomNetwork
import Foundation
import Testing

/// DCMTK's findscu against the gateway's C-FIND SCP, in both information models, at every level,
/// with wildcard, range and UID-list keys; answers are checked against what was stored.
@Suite(.serialized) struct CacheFindSCUTests {
    static let patientStudies = DicomTag(0x0020, 0x1200)
    static let seriesInstances = DicomTag(0x0020, 0x1209)

    @Test func patientRootQueriesAtEveryLevel() async throws {
        let gw = try await CacheQR.boot("find")
        let f = try await CacheQR.sendQueryFixture(to: gw)

        // PATIENT: case-insensitive wildcard on the name; one answer per patient.
        let patients = try await CacheQR.findscu(gw, model: "-P", [
            "QueryRetrieveLevel=PATIENT", "PatientName=doe*", "PatientID", "NumberOfPatientRelatedStudies",
        ])
        #expect(patients.output.contains("Final Find Response (Success)"), "\(patients.output)")
        #expect(patients.matches.cacheValues(.patientID) == ["PID-A"], "\(patients.output)")
        #expect(patients.matches.first?.string(.patientName) == "Doe^Jane")
        #expect(patients.matches.first?.string(Self.patientStudies) == "2")

        // STUDY: open-ended date range under one patient.
        let studies = try await CacheQR.findscu(gw, model: "-P", [
            "QueryRetrieveLevel=STUDY", "PatientID=PID-A", "StudyDate=20240101-", "StudyInstanceUID",
            "NumberOfStudyRelatedInstances", "ModalitiesInStudy",
        ])
        #expect(studies.matches.cacheValues(.studyInstanceUID) == [f.a.uid], "\(studies.output)")
        #expect(studies.matches.first?.string(.numberOfStudyRelatedInstances) == "3")
        #expect(studies.matches.first?.string(.modalitiesInStudy) == "CT\\MR")

        // SERIES: `?` wildcard on the modality.
        let series = try await CacheQR.findscu(gw, model: "-P", [
            "QueryRetrieveLevel=SERIES", "PatientID=PID-A", "StudyInstanceUID=\(f.a.uid)", "SeriesInstanceUID", "Modality=M?",
            "NumberOfSeriesRelatedInstances",
        ])
        #expect(series.matches.cacheValues(.seriesInstanceUID) == [f.a.uid + ".2"], "\(series.output)")
        #expect(series.matches.first?.string(.modality) == "MR")
        #expect(series.matches.first?.string(Self.seriesInstances) == "1")

        // IMAGE: a list of SOP Instance UIDs, one of which is not cached.
        let images = try await CacheQR.findscu(gw, model: "-P", [
            "QueryRetrieveLevel=IMAGE", "PatientID=PID-A", "StudyInstanceUID=\(f.a.uid)", "SeriesInstanceUID=\(f.a.uid).1",
            "SOPInstanceUID=\(f.a.uid).1.1\\\(f.a.uid).1.2\\\(f.b.uid).1.1", "InstanceNumber", "SOPClassUID",
        ])
        #expect(images.matches.cacheValues(.sopInstanceUID) == [f.a.uid + ".1.1", f.a.uid + ".1.2"], "\(images.output)")
        #expect(images.matches.cacheValues(.instanceNumber) == ["1", "2"])
        #expect(images.matches.cacheValues(.sopClassUID) == [SOPClass.ctImageStorage, SOPClass.ctImageStorage])
        await gw.stop()
    }

    @Test func studyRootQueriesAtEveryLevel() async throws {
        let gw = try await CacheQR.boot("find")
        let f = try await CacheQR.sendQueryFixture(to: gw)

        let dateAndName = try await CacheQR.findscu(gw, model: "-S", [
            "QueryRetrieveLevel=STUDY", "StudyDate=-20240131", "PatientName=*JANE", "StudyInstanceUID", "PatientID",
        ])
        #expect(dateAndName.output.contains("Final Find Response (Success)"), "\(dateAndName.output)")
        #expect(dateAndName.matches.cacheValues(.studyInstanceUID) == [f.a.uid, f.c.uid].sorted(), "\(dateAndName.output)")
        #expect(dateAndName.matches.cacheValues(.patientID) == ["PID-A", "PID-A"])

        let uidList = try await CacheQR.findscu(gw, model: "-S", [
            "QueryRetrieveLevel=STUDY", "StudyInstanceUID=\(f.a.uid)\\\(f.b.uid)", "AccessionNumber", "StudyDescription",
        ])
        #expect(uidList.matches.cacheValues(.studyInstanceUID) == [f.a.uid, f.b.uid].sorted(), "\(uidList.output)")
        #expect(uidList.matches.cacheValues(.accessionNumber) == ["ACC-A", "ACC-B"])
        #expect(uidList.matches.cacheValues(.studyDescription) == ["Head CT", "Knee MR"])

        let timeRange = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "StudyTime=1000-1500", "StudyInstanceUID"])
        #expect(timeRange.matches.cacheValues(.studyInstanceUID) == [f.a.uid, f.b.uid].sorted(), "\(timeRange.output)")

        let closedRange = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "StudyDate=20240201-20240229", "StudyInstanceUID"])
        #expect(closedRange.matches.cacheValues(.studyInstanceUID) == [f.b.uid], "\(closedRange.output)")

        let modality = try await CacheQR.findscu(gw, model: "-S", [
            "QueryRetrieveLevel=STUDY", "ModalitiesInStudy=MR", "StudyInstanceUID",
        ])
        #expect(modality.matches.cacheValues(.studyInstanceUID) == [f.a.uid, f.b.uid].sorted(), "\(modality.output)")
        #expect(modality.matches.cacheValues(.modalitiesInStudy) == ["CT\\MR", "MR"])

        let accession = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "AccessionNumber=ACC-?", "StudyInstanceUID"])
        #expect(accession.matches.count == 3, "\(accession.output)")
        let caseSensitive = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "AccessionNumber=acc-*", "StudyInstanceUID"])
        #expect(caseSensitive.matches.isEmpty, "SH matching is case-sensitive: \(caseSensitive.output)")

        let series = try await CacheQR.findscu(gw, model: "-S", [
            "QueryRetrieveLevel=SERIES", "StudyInstanceUID=\(f.b.uid)", "SeriesInstanceUID", "Modality", "NumberOfSeriesRelatedInstances",
        ])
        #expect(series.matches.cacheValues(.seriesInstanceUID) == [f.b.uid + ".1"], "\(series.output)")
        #expect(series.matches.first?.string(Self.seriesInstances) == "2")
        #expect(series.matches.first?.string(.modality) == "MR")

        let images = try await CacheQR.findscu(gw, model: "-S", [
            "QueryRetrieveLevel=IMAGE", "StudyInstanceUID=\(f.a.uid)", "SeriesInstanceUID=\(f.a.uid).1", "SOPInstanceUID", "InstanceNumber",
        ])
        #expect(images.matches.cacheValues(.sopInstanceUID) == [f.a.uid + ".1.1", f.a.uid + ".1.2"], "\(images.output)")

        // Every answer carries the level it was asked at.
        for match in dateAndName.matches + series.matches + images.matches {
            #expect(["STUDY", "SERIES", "IMAGE"].contains(match.string(.queryRetrieveLevel) ?? ""))
        }
        #expect(images.matches.allSatisfy { $0.string(.queryRetrieveLevel) == "IMAGE" })
        await gw.stop()
    }

    @Test func studyRootQueryAtPatientLevelFails() async throws {
        let gw = try await CacheQR.boot("find")
        _ = try await CacheQR.sendQueryFixture(to: gw)
        let result = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName"])
        #expect(result.matches.isEmpty, "\(result.output)")
        // 0xA900 Identifier does not match SOP Class (DCMTK prints it as an Error status).
        #expect(result.output.contains("Final Find Response (Failed") || result.output.contains("Final Find Response (Error"),
                "\(result.output)")
        #expect(!result.output.contains("Final Find Response (Success)"), "\(result.output)")
        // The same level in the Patient Root model is fine.
        let ok = try await CacheQR.findscu(gw, model: "-P", ["QueryRetrieveLevel=PATIENT", "PatientID", "PatientName"])
        #expect(ok.matches.cacheValues(.patientID) == ["PID-A", "PID-B"], "\(ok.output)")
        await gw.stop()
    }
}
