import DicomCore
import GatewayConfig
@testable import GatewayRetrieval
import Testing

@Suite struct PriorSelectionTests {
    func study(_ uid: String, _ date: String, modalities: String, bodyPart: String = "") -> DicomAttributes {
        var a = DicomAttributes()
        a[.studyInstanceUID] = uid
        a[.studyDate] = date
        a[.modalitiesInStudy] = modalities
        if !bodyPart.isEmpty { a[.bodyPartExamined] = bodyPart }
        return a
    }

    @Test func newestRelevantOlderStudiesWithinTheYearsUpToCount() {
        var settings = PriorsSettings()
        settings.count = 2
        settings.years = 5
        var new = study("new", "20260601", modalities: "")
        new[.modality] = "CT"
        new[.bodyPartExamined] = "HEAD"
        let candidates = [
            study("new", "20260601", modalities: "CT"),            // itself
            study("ct-2025", "20250101", modalities: "CT\\SR"),    // relevant, multi-valued
            study("ct-2024", "20240101", modalities: "CT"),        // relevant
            study("ct-2023", "20230101", modalities: "CT"),        // relevant but beyond count
            study("ct-2019", "20190101", modalities: "CT"),        // older than 5 years
            study("mr-2025", "20250601", modalities: "MR", bodyPart: "HEAD"),  // other modality
            study("ct-later", "20261201", modalities: "CT"),       // not a prior: after the new study
        ]
        #expect(PriorSelection.choose(from: candidates, newStudy: new, settings: settings).compactMap { $0.string(.studyInstanceUID) }
                == ["ct-2025", "ct-2024"])
        settings.match = [.bodyPart]
        #expect(PriorSelection.choose(from: candidates, newStudy: new, settings: settings).compactMap { $0.string(.studyInstanceUID) }
                == ["mr-2025"])
        settings.count = 0
        #expect(PriorSelection.choose(from: candidates, newStudy: new, settings: settings).isEmpty, "count 0 turns priors off")
    }
}
