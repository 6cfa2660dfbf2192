import Foundation

/// The `dicomweb:` section: DICOMweb (PS3.18) on the HTTP API's listener.
public struct DicomWebSettings: Sendable, Hashable {
    /// Whether DICOMweb and WADO-URI are served at all (`enabled`, default true when `http` is):
    /// false leaves the HTTP listener to the operators' API and pages.
    public var enabled = true
    /// The path every DICOMweb resource is under (`root`, default `/dicom-web`).
    public var root = "/dicom-web"
    /// The largest STOW-RS request body (`stow_max_bytes`, default 4GB): a larger one is
    /// answered 413 and nothing of it is stored.
    public var stowMaxBytes = ByteCount.gigabytes(4)
    /// The URL clients reach the HTTP listener by when it is behind a reverse proxy (`public_url`,
    /// e.g. `https://pacs.example.nhs.uk`): BulkDataURIs are then absolute, `public_url` + `root` + ...;
    /// without it they are paths from `root`.
    public var publicURL: String?
    /// Browser origins allowed to call DICOMweb and WADO-URI across origins (`cors_origins`, e.g.
    /// `[https://viewer.example.org]`, or `["*"]`); none by default.
    public var corsOrigins: [String] = []

    /// What BulkDataURIs and Content-Locations start with: `public_url` + `root`, or `root`.
    public var base: String { (publicURL ?? "") + root }

    public init() {}

    static let keys = ["enabled", "root", "stow_max_bytes", "public_url", "cors_origins"]

    static func read(_ section: ConfigMapping) -> DicomWebSettings {
        var s = DicomWebSettings()
        s.enabled = section.read("enabled", default: s.enabled) { $0.bool() }
        s.root = section.read("root", default: s.root) { value -> String? in
            guard let text = value.text("a path"), text.hasPrefix("/"), !text.hasSuffix("/"), !text.contains("?"), !text.contains(" ") else {
                value.error(.invalidValue, "root must be a path such as /dicom-web: starting with /, not ending with /, no spaces or ?")
                return nil
            }
            return text
        }
        s.stowMaxBytes = section.read("stow_max_bytes", default: s.stowMaxBytes) { $0.byteCount(minimum: 1 << 10) }
        s.publicURL = section.read("public_url", default: s.publicURL) { value -> String?? in
            guard let text = value.text("a URL") else { return nil }
            let lower = text.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), !text.hasSuffix("/"),
                  let url = URL(string: text), url.host != nil, url.query == nil, url.fragment == nil, !text.contains(" ")
            else {
                value.error(.invalidValue, "public_url must be an http or https URL such as https://pacs.example.org, "
                    + "without a trailing /, query or fragment")
                return nil
            }
            return .some(text)
        }
        s.corsOrigins = section.read("cors_origins", default: s.corsOrigins) { value -> [String]? in
            guard let items = value.list("a list of origins") else { return nil }
            var origins: [String] = []
            for item in items {
                guard let text = item.text("an origin") else { return nil }
                let lower = text.lowercased()
                guard text == "*" || ((lower.hasPrefix("http://") || lower.hasPrefix("https://")) && !text.hasSuffix("/")
                                      && URL(string: text)?.host != nil && URL(string: text)?.path.isEmpty == true) else {
                    item.error(.invalidValue, "cors_origins entries are origins such as https://viewer.example.org "
                        + "(scheme, host and port only, no path or trailing /), or \"*\" for any")
                    return nil
                }
                origins.append(text)
            }
            return origins
        }
        return s
    }
}
