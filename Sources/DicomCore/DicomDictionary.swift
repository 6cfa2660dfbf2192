/// The attributes the gateway addresses by keyword: query/retrieve keys (PS3.4 C.6), routing
/// and identity attributes. Keywords are those of PS3.6; other tags are written as `gggg,eeee`.
public enum DicomDictionary {
    /// Keyword, tag and value representation of each known attribute.
    public static let entries: [(keyword: String, tag: DicomTag, vr: String)] = [
        ("SpecificCharacterSet", DicomTag(0x0008, 0x0005), "CS"),
        ("ImageType", DicomTag(0x0008, 0x0008), "CS"),
        ("InstanceCreationDate", DicomTag(0x0008, 0x0012), "DA"),
        ("InstanceCreationTime", DicomTag(0x0008, 0x0013), "TM"),
        ("SOPClassUID", DicomTag(0x0008, 0x0016), "UI"),
        ("SOPInstanceUID", DicomTag(0x0008, 0x0018), "UI"),
        ("StudyDate", DicomTag(0x0008, 0x0020), "DA"),
        ("SeriesDate", DicomTag(0x0008, 0x0021), "DA"),
        ("ContentDate", DicomTag(0x0008, 0x0023), "DA"),
        ("StudyTime", DicomTag(0x0008, 0x0030), "TM"),
        ("SeriesTime", DicomTag(0x0008, 0x0031), "TM"),
        ("ContentTime", DicomTag(0x0008, 0x0033), "TM"),
        ("AccessionNumber", DicomTag(0x0008, 0x0050), "SH"),
        ("QueryRetrieveLevel", DicomTag(0x0008, 0x0052), "CS"),
        ("RetrieveAETitle", DicomTag(0x0008, 0x0054), "AE"),
        ("InstanceAvailability", DicomTag(0x0008, 0x0056), "CS"),
        ("Modality", DicomTag(0x0008, 0x0060), "CS"),
        ("ModalitiesInStudy", DicomTag(0x0008, 0x0061), "CS"),
        ("SOPClassesInStudy", DicomTag(0x0008, 0x0062), "UI"),
        ("Manufacturer", DicomTag(0x0008, 0x0070), "LO"),
        ("InstitutionName", DicomTag(0x0008, 0x0080), "LO"),
        ("ReferringPhysicianName", DicomTag(0x0008, 0x0090), "PN"),
        ("StationName", DicomTag(0x0008, 0x1010), "SH"),
        ("StudyDescription", DicomTag(0x0008, 0x1030), "LO"),
        ("SeriesDescription", DicomTag(0x0008, 0x103E), "LO"),
        ("InstitutionalDepartmentName", DicomTag(0x0008, 0x1040), "LO"),
        ("PerformingPhysicianName", DicomTag(0x0008, 0x1050), "PN"),
        ("ManufacturerModelName", DicomTag(0x0008, 0x1090), "LO"),
        ("PatientName", DicomTag(0x0010, 0x0010), "PN"),
        ("PatientID", DicomTag(0x0010, 0x0020), "LO"),
        ("IssuerOfPatientID", DicomTag(0x0010, 0x0021), "LO"),
        ("PatientBirthDate", DicomTag(0x0010, 0x0030), "DA"),
        ("PatientSex", DicomTag(0x0010, 0x0040), "CS"),
        ("OtherPatientIDs", DicomTag(0x0010, 0x1000), "LO"),
        ("PatientAge", DicomTag(0x0010, 0x1010), "AS"),
        ("BodyPartExamined", DicomTag(0x0018, 0x0015), "CS"),
        ("ProtocolName", DicomTag(0x0018, 0x1030), "LO"),
        ("StudyInstanceUID", DicomTag(0x0020, 0x000D), "UI"),
        ("SeriesInstanceUID", DicomTag(0x0020, 0x000E), "UI"),
        ("StudyID", DicomTag(0x0020, 0x0010), "SH"),
        ("SeriesNumber", DicomTag(0x0020, 0x0011), "IS"),
        ("AcquisitionNumber", DicomTag(0x0020, 0x0012), "IS"),
        ("InstanceNumber", DicomTag(0x0020, 0x0013), "IS"),
        ("NumberOfPatientRelatedStudies", DicomTag(0x0020, 0x1200), "IS"),
        ("NumberOfPatientRelatedSeries", DicomTag(0x0020, 0x1202), "IS"),
        ("NumberOfPatientRelatedInstances", DicomTag(0x0020, 0x1204), "IS"),
        ("NumberOfStudyRelatedSeries", DicomTag(0x0020, 0x1206), "IS"),
        ("NumberOfStudyRelatedInstances", DicomTag(0x0020, 0x1208), "IS"),
        ("NumberOfSeriesRelatedInstances", DicomTag(0x0020, 0x1209), "IS"),
        ("Rows", DicomTag(0x0028, 0x0010), "US"),
        ("Columns", DicomTag(0x0028, 0x0011), "US"),
        ("RequestingPhysician", DicomTag(0x0032, 0x1032), "PN"),
        ("RequestedProcedureDescription", DicomTag(0x0032, 0x1060), "LO"),
        ("RequestedProcedureID", DicomTag(0x0040, 0x1001), "SH"),
        ("RequestedProcedurePriority", DicomTag(0x0040, 0x1003), "SH"),
        ("CompletionFlag", DicomTag(0x0040, 0xA491), "CS"),
        ("VerificationFlag", DicomTag(0x0040, 0xA493), "CS"),
        ("DocumentTitle", DicomTag(0x0042, 0x0010), "ST"),
        ("MIMETypeOfEncapsulatedDocument", DicomTag(0x0042, 0x0012), "LO"),
    ]

    private static let byKeyword: [String: DicomTag] = Dictionary(
        uniqueKeysWithValues: entries.map { ($0.keyword.lowercased(), $0.tag) })
    private static let byTag: [DicomTag: (keyword: String, vr: String)] = Dictionary(
        uniqueKeysWithValues: entries.map { ($0.tag, ($0.keyword, $0.vr)) })

    public static func tag(forKeyword keyword: String) -> DicomTag? { byKeyword[keyword.lowercased()] }
    public static func keyword(for tag: DicomTag) -> String? { byTag[tag]?.keyword }
    public static func vr(for tag: DicomTag) -> String? { byTag[tag]?.vr }
}

extension DicomTag {
    public init?(keyword: String) {
        guard let tag = DicomDictionary.tag(forKeyword: keyword) else { return nil }
        self = tag
    }

    public static let specificCharacterSet = DicomTag(0x0008, 0x0005)
    public static let sopClassUID = DicomTag(0x0008, 0x0016)
    public static let sopInstanceUID = DicomTag(0x0008, 0x0018)
    public static let studyDate = DicomTag(0x0008, 0x0020)
    public static let studyTime = DicomTag(0x0008, 0x0030)
    public static let accessionNumber = DicomTag(0x0008, 0x0050)
    public static let queryRetrieveLevel = DicomTag(0x0008, 0x0052)
    public static let retrieveAETitle = DicomTag(0x0008, 0x0054)
    public static let instanceAvailability = DicomTag(0x0008, 0x0056)
    public static let modality = DicomTag(0x0008, 0x0060)
    public static let modalitiesInStudy = DicomTag(0x0008, 0x0061)
    public static let studyDescription = DicomTag(0x0008, 0x1030)
    public static let seriesDescription = DicomTag(0x0008, 0x103E)
    public static let patientName = DicomTag(0x0010, 0x0010)
    public static let patientID = DicomTag(0x0010, 0x0020)
    public static let issuerOfPatientID = DicomTag(0x0010, 0x0021)
    public static let patientBirthDate = DicomTag(0x0010, 0x0030)
    /// A sequence: items of PatientID + IssuerOfPatientID (+ TypeOfPatientID), e.g. the NHS Number.
    public static let otherPatientIDsSequence = DicomTag(0x0010, 0x1002)
    public static let patientSex = DicomTag(0x0010, 0x0040)
    public static let bodyPartExamined = DicomTag(0x0018, 0x0015)
    public static let studyInstanceUID = DicomTag(0x0020, 0x000D)
    public static let seriesInstanceUID = DicomTag(0x0020, 0x000E)
    public static let studyID = DicomTag(0x0020, 0x0010)
    public static let seriesNumber = DicomTag(0x0020, 0x0011)
    public static let instanceNumber = DicomTag(0x0020, 0x0013)
    public static let numberOfStudyRelatedInstances = DicomTag(0x0020, 0x1208)
    public static let transferSyntaxUID = DicomTag(0x0002, 0x0010)
}
