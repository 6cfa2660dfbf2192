import DicomCore

/// How an attribute is matched (PS3.4 C.2.2.2) and where it lives in the index.
struct QueryAttribute: Sendable {
    enum Kind: Sendable { case text, personName, uid, date, time, modalities, count }
    let tag: DicomTag
    let level: QueryLevel
    /// SQL expression over the aliases p (patient), s (study), se (series), i (instance).
    let column: String
    let kind: Kind
}

enum QueryAttributes {
    static let all: [QueryAttribute] = [
        .init(tag: .patientName, level: .patient, column: "p.patientName", kind: .personName),
        .init(tag: .patientID, level: .patient, column: "p.patientID", kind: .text),
        .init(tag: .issuerOfPatientID, level: .patient, column: "p.issuer", kind: .text),
        .init(tag: .patientBirthDate, level: .patient, column: "p.birthDate", kind: .date),
        .init(tag: .patientSex, level: .patient, column: "p.sex", kind: .text),
        .init(tag: DicomTag(0x0020, 0x1200), level: .patient,
              column: "(SELECT COUNT(*) FROM study s2 WHERE s2.patientRef = p.id)", kind: .count),
        .init(tag: .studyInstanceUID, level: .study, column: "s.studyUID", kind: .uid),
        .init(tag: .studyDate, level: .study, column: "s.studyDate", kind: .date),
        .init(tag: .studyTime, level: .study, column: "s.studyTime", kind: .time),
        .init(tag: .accessionNumber, level: .study, column: "s.accessionNumber", kind: .text),
        .init(tag: .studyID, level: .study, column: "s.studyID", kind: .text),
        .init(tag: .studyDescription, level: .study, column: "s.studyDescription", kind: .text),
        .init(tag: DicomTag(0x0008, 0x0090), level: .study, column: "s.referringPhysician", kind: .personName),
        .init(tag: .modalitiesInStudy, level: .study, column: "s.modalities", kind: .modalities),
        .init(tag: DicomTag(0x0020, 0x1206), level: .study, column: "s.seriesCount", kind: .count),
        .init(tag: .numberOfStudyRelatedInstances, level: .study, column: "s.instanceCount", kind: .count),
        .init(tag: .seriesInstanceUID, level: .series, column: "se.seriesUID", kind: .uid),
        .init(tag: .modality, level: .series, column: "se.modality", kind: .text),
        .init(tag: .seriesNumber, level: .series, column: "se.seriesNumber", kind: .text),
        .init(tag: .seriesDescription, level: .series, column: "se.seriesDescription", kind: .text),
        .init(tag: .bodyPartExamined, level: .series, column: "se.bodyPart", kind: .text),
        .init(tag: DicomTag(0x0020, 0x1209), level: .series, column: "se.instanceCount", kind: .count),
        .init(tag: .sopInstanceUID, level: .image, column: "i.sopUID", kind: .uid),
        .init(tag: .sopClassUID, level: .image, column: "i.sopClassUID", kind: .uid),
        .init(tag: .instanceNumber, level: .image, column: "i.instanceNumber", kind: .text),
    ]

    static let byTag: [DicomTag: QueryAttribute] = Dictionary(uniqueKeysWithValues: all.map { ($0.tag, $0) })
}

extension QueryLevel {
    /// Depth: patient 0, study 1, series 2, image 3.
    var depth: Int {
        switch self {
        case .patient: return 0
        case .study: return 1
        case .series: return 2
        case .image: return 3
        }
    }
}
