import CDcmtk
import DicomCore

/// What the gateway needs to know about a DICOM file before sending or filing it.
public struct DicomFileInfo: Sendable, Equatable {
    public let sopClassUID: String
    public let sopInstanceUID: String
    public let transferSyntaxUID: String
    public let studyInstanceUID: String
    public let seriesInstanceUID: String

    public init(sopClassUID: String, sopInstanceUID: String, transferSyntaxUID: String, studyInstanceUID: String = "",
                seriesInstanceUID: String = "") {
        self.sopClassUID = sopClassUID
        self.sopInstanceUID = sopInstanceUID
        self.transferSyntaxUID = transferSyntaxUID
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
    }
}

/// Reading DICOM files (Part 10, or raw datasets) through DCMTK.
public enum DicomFile {
    /// SOP class, instance and transfer syntax, read without the pixel data.
    public static func probe(_ path: String) throws(DicomNetworkError) -> DicomFileInfo {
        var info = cdcm_file_info()
        var st = cdcm_status.empty()
        guard cdcm_file_probe(path, &info, &st) == 0 else { throw DicomNetworkError(status: st) }
        return DicomFileInfo(
            sopClassUID: fixedCString(info.sop_class_uid),
            sopInstanceUID: fixedCString(info.sop_instance_uid),
            transferSyntaxUID: fixedCString(info.transfer_syntax_uid),
            studyInstanceUID: fixedCString(info.study_instance_uid),
            seriesInstanceUID: fixedCString(info.series_instance_uid))
    }

    /// Every top-level string attribute of the file's dataset (pixel data is not read).
    public static func readAttributes(_ path: String) throws(DicomNetworkError) -> DicomAttributes {
        var st = cdcm_status.empty()
        guard let pointer = cdcm_dataset_load(path, 1, &st) else { throw DicomNetworkError(status: st) }
        let handle = DatasetHandle(owning: pointer)
        var attributes = handle.attributes()
        if let ts = handle.string(.transferSyntaxUID) { attributes[.transferSyntaxUID] = ts }
        return attributes
    }

    /// The top-level string attributes, as `readAttributes(_:)`, plus the `keys` of each item of
    /// one top-level sequence, from a single read of the file.
    ///
    /// ```swift
    /// let (attributes, others) = try DicomFile.readAttributes(path, itemsOf: .otherPatientIDsSequence,
    ///                                                         keys: [.patientID, .issuerOfPatientID])
    /// ```
    public static func readAttributes(_ path: String, itemsOf sequence: DicomTag, keys: [DicomTag])
        throws(DicomNetworkError) -> (attributes: DicomAttributes, items: [DicomAttributes])
    {
        var st = cdcm_status.empty()
        guard let pointer = cdcm_dataset_load(path, 1, &st) else { throw DicomNetworkError(status: st) }
        let handle = DatasetHandle(owning: pointer)
        var attributes = handle.attributes()
        if let ts = handle.string(.transferSyntaxUID) { attributes[.transferSyntaxUID] = ts }
        return (attributes, handle.items(of: sequence, keys: keys))
    }

    /// Whether a SOP class UID is a storage SOP class DCMTK knows.
    public static func isStorageSOPClass(_ uid: String) -> Bool { cdcm_is_storage_sop_class(uid) != 0 }

    /// The storage SOP classes a C-GET requester proposes (DCMTK's list of common ones).
    public static var commonStorageSOPClasses: [String] {
        var pointer: UnsafePointer<UnsafePointer<CChar>?>?
        let count = Int(cdcm_common_storage_sop_classes(&pointer))
        guard let pointer else { return [] }
        return (0..<count).compactMap { pointer[$0].map { String(cString: $0) } }
    }
}

extension DicomFile {
    /// Writes a copy of `source` to `destination` with `changes` applied (an empty value sets an
    /// empty element; `nil` removes it), in the source's transfer syntax.
    public static func write(from source: String, to destination: String, setting changes: [DicomTag: String?])
        throws(DicomNetworkError)
    {
        var st = cdcm_status.empty()
        guard let pointer = cdcm_dataset_load(source, 0, &st) else { throw DicomNetworkError(status: st) }
        let handle = DatasetHandle(owning: pointer)
        for (tag, value) in changes {
            if let value {
                guard cdcm_dataset_put_string(handle.pointer, tag.rawValue, value, &st) == 0 else { throw DicomNetworkError(status: st) }
            } else {
                _ = cdcm_dataset_remove(handle.pointer, tag.rawValue)
            }
        }
        if changes.keys.contains(.sopInstanceUID), let uid = changes[.sopInstanceUID] ?? nil {
            _ = cdcm_dataset_put_string(handle.pointer, DicomTag(0x0002, 0x0003).rawValue, uid, &st)
        }
        guard cdcm_dataset_save(handle.pointer, destination, nil, &st) == 0 else { throw DicomNetworkError(status: st) }
    }
}
