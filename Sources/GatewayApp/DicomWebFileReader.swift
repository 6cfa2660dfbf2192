import DicomCore
import DicomNetwork
import GatewayDICOMweb

/// WADO-RS's file work (DICOM JSON, bulk data, frames, transcoding, rendering) done by DCMTK
/// through DicomNetwork, for GatewayDICOMweb, which never imports it. Work that decodes pixel
/// data runs inside the crash journal, so an instance whose file crashes a codec is quarantined
/// at the next start instead of crashing the gateway again and again.
struct DicomWebFileReader: WADOFileReader {
    /// Binary values up to this size are InlineBinary in metadata; larger ones are BulkDataURIs.
    var inlineLimit = 1024

    func metadata(_ instance: WADOInstance, instanceURL: String) throws(WADOError) -> [UInt8] {
        do { return try DicomFile.metadataJSON(instance.path, instanceURL: instanceURL, inlineLimit: inlineLimit) } catch {
            throw Self.wado(error)
        }
    }

    func bulkData(_ instance: WADOInstance, tag: UInt32) throws(WADOError) -> (bytes: [UInt8], transferSyntaxUID: String) {
        do { return try DicomFile.bulkData(instance.path, tag: DicomTag(rawValue: tag)) } catch { throw Self.wado(error) }
    }

    func frames(_ instance: WADOInstance, numbers: [Int], transferSyntaxUID: String?) throws(WADOError)
        -> (frames: [[UInt8]], transferSyntaxUID: String)
    {
        do {
            return try journaled(instance) { () throws(DicomNetworkError) in
                try DicomFile.frames(instance.path, numbers: numbers, transferSyntaxUID: transferSyntaxUID)
            }
        } catch { throw Self.wado(error) }
    }

    func transcode(_ instance: WADOInstance, to transferSyntaxUID: String, output: String) throws(WADOError) {
        do {
            try journaled(instance) { () throws(DicomNetworkError) in
                try DicomFile.transcode(instance.path, to: transferSyntaxUID, output: output)
            }
        } catch { throw Self.wado(error) }
    }

    func renderJPEG(_ instance: WADOInstance, frame: Int, maxSide: Int, quality: Int) throws(WADOError) -> [UInt8] {
        do {
            return try journaled(instance) { () throws(DicomNetworkError) in
                try DicomFile.renderJPEG(instance.path, frame: frame, maxSide: maxSide, quality: quality)
            }
        } catch { throw Self.wado(error) }
    }

    private func journaled<T>(_ instance: WADOInstance, _ body: () throws(DicomNetworkError) -> T) throws(DicomNetworkError) -> T {
        guard instance.instanceID > 0 else { return try body() }
        return try CrashJournal.during(.retrieve(instanceID: instance.instanceID, caller: "DICOMweb"), body)
    }

    private static func wado(_ error: DicomNetworkError) -> WADOError {
        switch error.code {
        case .notPossible: WADOError(.notAcceptable, error.message)
        case .notFound: WADOError(.notFound, error.message)
        default: WADOError(.failed, error.message)
        }
    }
}
