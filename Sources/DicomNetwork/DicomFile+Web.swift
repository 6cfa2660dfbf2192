import CDcmtk
import DicomCore
import Foundation

extension DicomNetworkError.Code {
    /// DCMTK cannot do what was asked with this file (no codec for the transfer syntax, nothing to render).
    public static let notPossible = DicomNetworkError.Code(name: "not possible")
    /// The frame or attribute asked for is not in the file.
    public static let notFound = DicomNetworkError.Code(name: "not found")
}

/// What DICOMweb (WADO-RS) reads from a stored file. Every call blocks on file I/O and DCMTK's
/// codecs: call from a thread of your own, never Swift's cooperative pool.
extension DicomFile {
    /// The data set as DICOM JSON (PS3.18 F.2): one object, UTF-8, without the meta header. PixelData
    /// and top-level binary values over `inlineLimit` bytes are `BulkDataURI`s,
    /// `instanceURL + "/bulkdata/GGGGEEEE"`; the pixel data itself is never read.
    public static func metadataJSON(_ path: String, instanceURL: String, inlineLimit: Int = 1024)
        throws(DicomNetworkError) -> [UInt8]
    {
        var buffer = cdcm_buffer()
        var st = cdcm_status.empty()
        let result = cdcm_web_metadata(path, instanceURL, UInt32(clamping: inlineLimit), &buffer, &st)
        try check(result, st)
        defer { cdcm_buffer_free(&buffer) }
        return bytes(of: buffer)
    }

    /// The value of the top-level binary attribute `tag`, and the transfer syntax its bytes are in
    /// (encapsulated pixel data: its fragments one after another, in the file's transfer syntax).
    public static func bulkData(_ path: String, tag: DicomTag) throws(DicomNetworkError)
        -> (bytes: [UInt8], transferSyntaxUID: String)
    {
        var buffer = cdcm_buffer()
        var st = cdcm_status.empty()
        var ts = cdcm_file_info().transfer_syntax_uid
        let result = cdcm_web_bulkdata(path, tag.rawValue, &buffer, &ts.0, &st)
        try check(result, st)
        defer { cdcm_buffer_free(&buffer) }
        return (bytes(of: buffer), fixedCString(ts))
    }

    /// Frames `numbers` (1-based) of the pixel data, as stored (`transferSyntaxUID` nil or "*") or
    /// converted to `transferSyntaxUID`; with the transfer syntax the frames are in. Throws
    /// `.notPossible` when DCMTK cannot convert, `.notFound` for a frame the instance does not have.
    public static func frames(_ path: String, numbers: [Int], transferSyntaxUID: String? = nil)
        throws(DicomNetworkError) -> (frames: [[UInt8]], transferSyntaxUID: String)
    {
        guard !numbers.isEmpty else { return ([], "") }
        let wanted = numbers.map { UInt32(clamping: $0) }
        var outs = [cdcm_buffer](repeating: cdcm_buffer(), count: numbers.count)
        var st = cdcm_status.empty()
        var ts = cdcm_file_info().transfer_syntax_uid
        let result = wanted.withUnsafeBufferPointer { numbersPointer in
            outs.withUnsafeMutableBufferPointer { outsPointer in
                cdcm_web_frames(path, numbersPointer.baseAddress, numbers.count, transferSyntaxUID, outsPointer.baseAddress,
                                &ts.0, &st)
            }
        }
        try check(result, st)
        defer { for i in outs.indices { cdcm_buffer_free(&outs[i]) } }
        return (outs.map { bytes(of: $0) }, fixedCString(ts))
    }

    /// Writes `path` as a Part 10 file in `transferSyntaxUID` to `output`. Throws `.notPossible`
    /// when DCMTK has no codec for the conversion.
    public static func transcode(_ path: String, to transferSyntaxUID: String, output: String) throws(DicomNetworkError) {
        var st = cdcm_status.empty()
        try check(cdcm_web_transcode(path, transferSyntaxUID, output, &st), st)
    }

    /// One frame (1-based; 0 = the first) as a JPEG, scaled so no side exceeds `maxSide` (0: as is).
    public static func renderJPEG(_ path: String, frame: Int = 0, maxSide: Int = 0, quality: Int = 90)
        throws(DicomNetworkError) -> [UInt8]
    {
        var buffer = cdcm_buffer()
        var st = cdcm_status.empty()
        let result = cdcm_web_render_jpeg(path, UInt32(clamping: frame), UInt32(clamping: maxSide), Int32(quality),
                                          &buffer, &st)
        try check(result, st)
        defer { cdcm_buffer_free(&buffer) }
        return bytes(of: buffer)
    }

    private static func bytes(of buffer: cdcm_buffer) -> [UInt8] {
        guard let data = buffer.data, buffer.length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: buffer.length))
    }

    private static func check(_ result: Int32, _ st: cdcm_status) throws(DicomNetworkError) {
        switch result {
        case 0: return  // CDCM_WEB_OK
        case 1: throw DicomNetworkError(code: .notPossible, message: st.textString)  // CDCM_WEB_NOT_POSSIBLE
        case 2: throw DicomNetworkError(code: .notFound, message: st.textString)  // CDCM_WEB_NOT_FOUND
        default: throw DicomNetworkError(status: st)
        }
    }
}
