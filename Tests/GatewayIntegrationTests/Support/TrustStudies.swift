import DicomCore
import DicomNetwork
import Foundation

/// A study as a trust PACS holds it: one patient (Patient ID local to that trust, optionally with
/// its IssuerOfPatientID), one series of `instances` CT-class images made from `TestData.template`.
///
/// ```swift
/// let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: "RTH", bodyPart: "HEAD", instances: 3)
/// try await orthancA.upload(files: try jane.write(in: dir.sub("a")))
/// ```
struct TrustStudy: Sendable {
    var patientID: String
    var patientName: String
    /// IssuerOfPatientID (0010,0021); nil leaves it out of the files, as many PACS do.
    var issuer: String?
    var studyUID: String = TestData.newUID()
    var modality = "CT"
    var studyDate = "20240102"
    var studyDescription = "Head stroke protocol"
    var bodyPart = "HEAD"
    var accessionNumber = "ACC001"
    var instances = 2

    /// The single series: `<study UID>.1`.
    var seriesUID: String { studyUID + ".1" }
    /// SOP Instance UIDs as written: `<series UID>.1` ... `.<instances>`.
    var sopUIDs: [String] { (1...instances).map { "\(seriesUID).\($0)" } }

    /// Writes the instances into `dir/<study UID>/` and returns their paths (in instance order).
    func write(in dir: String) throws -> [String] {
        let folder = dir + "/" + studyUID
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try TestData.study(
            in: folder, count: instances, studyUID: studyUID, patientID: patientID, modality: modality,
            description: studyDescription, studyDate: studyDate, seriesUID: seriesUID,
            extra: [.patientName: patientName, .issuerOfPatientID: issuer, .bodyPartExamined: bodyPart,
                    .accessionNumber: accessionNumber])
    }
}

extension OrthancPeer {
    /// Writes each study under `dir` and uploads it over REST; returns the files per study UID.
    @discardableResult
    func load(_ studies: [TrustStudy], writingIn dir: String) async throws -> [String: [String]] {
        var files: [String: [String]] = [:]
        for study in studies {
            let written = try study.write(in: dir)
            try await upload(files: written)
            files[study.studyUID] = written
        }
        return files
    }
}
