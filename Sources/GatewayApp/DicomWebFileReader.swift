import DicomCore
import DicomNetwork
import GatewayDICOMweb

/// WADO-RS's file work (DICOM JSON, bulk data, frames, transcoding, rendering) done by DCMTK
/// through DicomNetwork, for GatewayDICOMweb, which never imports it.
struct DicomWebFileReader: WADOFileReader {
    /// Binary values up to this size are InlineBinary in metadata; larger ones are BulkDataURIs.
    var inlineLimit = 1024

    func metadata(path: String, instanceURL: String) throws(WADOError) -> [UInt8] {
        do { return try DicomFile.metadataJSON(path, instanceURL: instanceURL, inlineLimit: inlineLimit) } catch { throw Self.wado(error) }
    }

    func bulkData(path: String, tag: UInt32) throws(WADOError) -> (bytes: [UInt8], transferSyntaxUID: String) {
        do { return try DicomFile.bulkData(path, tag: DicomTag(rawValue: tag)) } catch { throw Self.wado(error) }
    }

    func frames(path: String, numbers: [Int], transferSyntaxUID: String?) throws(WADOError)
        -> (frames: [[UInt8]], transferSyntaxUID: String)
    {
        do { return try DicomFile.frames(path, numbers: numbers, transferSyntaxUID: transferSyntaxUID) } catch { throw Self.wado(error) }
    }

    func transcode(path: String, to transferSyntaxUID: String, output: String) throws(WADOError) {
        do { try DicomFile.transcode(path, to: transferSyntaxUID, output: output) } catch { throw Self.wado(error) }
    }

    func renderJPEG(path: String, frame: Int, maxSide: Int, quality: Int) throws(WADOError) -> [UInt8] {
        do { return try DicomFile.renderJPEG(path, frame: frame, maxSide: maxSide, quality: quality) } catch { throw Self.wado(error) }
    }

    private static func wado(_ error: DicomNetworkError) -> WADOError {
        switch error.code {
        case .notPossible: WADOError(.notAcceptable, error.message)
        case .notFound: WADOError(.notFound, error.message)
        default: WADOError(.failed, error.message)
        }
    }
}
