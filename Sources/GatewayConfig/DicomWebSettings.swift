import Foundation

/// The `dicomweb:` section: DICOMweb (PS3.18) on the HTTP API's listener.
public struct DicomWebSettings: Sendable, Hashable {
    /// The path every DICOMweb resource is under (`root`, default `/dicom-web`).
    public var root = "/dicom-web"
    /// The largest STOW-RS request body (`stow_max_bytes`, default 4GB): a larger one is
    /// answered 413 and nothing of it is stored.
    public var stowMaxBytes = ByteCount.gigabytes(4)

    public init() {}

    static let keys = ["root", "stow_max_bytes"]

    static func read(_ section: ConfigMapping) -> DicomWebSettings {
        var s = DicomWebSettings()
        s.root = section.read("root", default: s.root) { value -> String? in
            guard let text = value.text("a path"), text.hasPrefix("/"), !text.hasSuffix("/"), !text.contains("?"), !text.contains(" ") else {
                value.error(.invalidValue, "root must be a path such as /dicom-web: starting with /, not ending with /, no spaces or ?")
                return nil
            }
            return text
        }
        s.stowMaxBytes = section.read("stow_max_bytes", default: s.stowMaxBytes) { $0.byteCount(minimum: 1 << 10) }
        return s
    }
}
