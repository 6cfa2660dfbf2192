/// How a WADO-RS resource is to be sent, chosen from the `Accept` header (PS3.18 8.7).
public enum Rendition: Sendable, Equatable {
    /// The stored bytes, in the stored transfer syntax (`transfer-syntax=*`, or the stored one asked for).
    case asStored
    /// Converted to this transfer syntax (answered 406 when DCMTK cannot).
    case transferSyntax(String)
}

/// Transfer syntax UIDs (PS3.5 Annex A) and media types of PS3.18 Table 8.7.3-2.
public enum TransferSyntaxUID {
    public static let implicitVRLittleEndian = "1.2.840.10008.1.2"
    public static let explicitVRLittleEndian = "1.2.840.10008.1.2.1"
    public static let jpegBaseline = "1.2.840.10008.1.2.4.50"
    public static let jpegLossless = "1.2.840.10008.1.2.4.70"
    public static let jpegLSLossless = "1.2.840.10008.1.2.4.80"
    public static let jpeg2000Lossless = "1.2.840.10008.1.2.4.90"
    public static let rleLossless = "1.2.840.10008.1.2.5"

    /// The default transfer syntax of a single-frame or bulk data media type (PS3.18 Table 8.7.3-2).
    static func defaultFor(mediaType: String) -> String? {
        switch mediaType {
        case "application/octet-stream", "application/dicom": explicitVRLittleEndian
        case "image/jpeg": jpegBaseline
        case "image/jls": jpegLSLossless
        case "image/jp2": jpeg2000Lossless
        case "image/dicom-rle": rleLossless
        default: nil
        }
    }

    /// Transfer syntaxes whose data is uncompressed (frames served as `application/octet-stream`).
    public static func isUncompressed(_ uid: String) -> Bool {
        uid == implicitVRLittleEndian || uid == explicitVRLittleEndian || uid == "1.2.840.10008.1.2.2"
            || uid == "1.2.840.10008.1.2.1.99"
    }

    /// The media type a frame in `uid` is sent as.
    public static func frameMediaType(_ uid: String) -> String {
        switch uid {
        case jpegBaseline, "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", jpegLossless: "image/jpeg"
        case jpegLSLossless, "1.2.840.10008.1.2.4.81": "image/jls"
        case jpeg2000Lossless, "1.2.840.10008.1.2.4.91": "image/jp2"
        case rleLossless: "image/dicom-rle"
        default: "application/octet-stream"
        }
    }
}

/// Choosing renditions from `Accept` ranges.
public enum WADONegotiation {
    /// For study, series and instance retrieve (`multipart/related; type="application/dicom"`): the
    /// renditions acceptable, most preferred first; empty means 406. `transfer-syntax` absent means
    /// Explicit VR Little Endian (PS3.18 8.7.3.5.2); `*/*` and `multipart/related` without `type`
    /// accept the stored bytes.
    public static func instances(_ accept: [AcceptedMediaType], stored: String) -> [Rendition] {
        var renditions: [Rendition] = []
        for range in accept {
            let rendition: Rendition
            if range.mediaType == "*/*" || (range.mediaType == "multipart/related" && range.partType == nil) {
                rendition = .asStored
            } else if range.mediaType == "multipart/related", range.partType == "application/dicom" {
                rendition = wanted(range.transferSyntax ?? TransferSyntaxUID.explicitVRLittleEndian, stored: stored)
            } else if range.mediaType == "multipart/*" || range.mediaType == "multipart/related" && range.partType == "*/*" {
                rendition = .asStored
            } else {
                continue
            }
            if !renditions.contains(rendition) { renditions.append(rendition) }
        }
        return renditions
    }

    /// For `/frames` and `/bulkdata` (`multipart/related; type="application/octet-stream"` or an image
    /// type): the renditions acceptable, most preferred first; empty means 406.
    public static func frames(_ accept: [AcceptedMediaType], stored: String) -> [Rendition] {
        var renditions: [Rendition] = []
        for range in accept {
            let rendition: Rendition
            if range.mediaType == "*/*" || range.mediaType == "multipart/*"
                || (range.mediaType == "multipart/related" && (range.partType == nil || range.partType == "*/*"))
            {
                rendition = .asStored
            } else if range.mediaType == "multipart/related", let part = range.partType {
                if let ts = range.transferSyntax {
                    rendition = wanted(ts, stored: stored)
                } else if part == "application/octet-stream" {
                    // No transfer-syntax: uncompressed; a stored uncompressed frame is fine as it is.
                    rendition = TransferSyntaxUID.isUncompressed(stored) ? .asStored : .transferSyntax(TransferSyntaxUID.explicitVRLittleEndian)
                } else if let ts = TransferSyntaxUID.defaultFor(mediaType: part) {
                    rendition = wanted(ts, stored: stored)
                } else {
                    continue
                }
            } else if range.mediaType == "application/octet-stream" {
                rendition = TransferSyntaxUID.isUncompressed(stored) ? .asStored : .transferSyntax(TransferSyntaxUID.explicitVRLittleEndian)
            } else {
                continue
            }
            if !renditions.contains(rendition) { renditions.append(rendition) }
        }
        return renditions
    }

    /// Whether DICOM JSON may be sent (`application/dicom+json`, `application/json`, wildcards).
    public static func acceptsJSON(_ accept: [AcceptedMediaType]) -> Bool {
        accept.contains { $0.matches("application/dicom+json") || $0.matches("application/json") }
    }

    /// Whether a JPEG may be sent for `/rendered` and `/thumbnail`.
    public static func acceptsJPEG(_ accept: [AcceptedMediaType]) -> Bool {
        accept.contains { $0.matches("image/jpeg") }
    }

    private static func wanted(_ ts: String, stored: String) -> Rendition {
        ts == "*" || ts == stored ? .asStored : .transferSyntax(ts)
    }
}
