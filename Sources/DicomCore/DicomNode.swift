/// A DICOM network endpoint: AE title, host and port, written `AE@HOST:PORT`.
///
/// ```swift
/// let pacs = try DicomNode(parsing: "PACS_A@127.0.0.1:4242")
/// ```
public struct DicomNode: Hashable, Sendable, CustomStringConvertible {
    public let aeTitle: AETitle
    public let host: String
    public let port: Int
    /// Non-nil: associations to the node use DICOM TLS and its certificate must meet this.
    public var tls: TLSPeerRequirement?

    public init(aeTitle: AETitle, host: String, port: Int) {
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(DicomValueError) {
        guard let at = text.lastIndex(of: "@"), let colon = text.lastIndex(of: ":"), at < colon else {
            throw DicomValueError("'\(text)' is not of the form AE@HOST:PORT")
        }
        let ae = try AETitle(String(text[..<at]))
        var host = String(text[text.index(after: at)..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw DicomValueError("'\(text)' has no host") }
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw DicomValueError("'\(text)' has no valid port (1-65535)")
        }
        self.init(aeTitle: ae, host: host, port: port)
    }

    public var description: String { "\(aeTitle)@\(host):\(port)\(tls != nil ? " (TLS)" : "")" }
}
