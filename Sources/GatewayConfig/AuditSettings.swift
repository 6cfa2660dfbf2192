import Foundation

/// The `audit:` section: where PS3.15 A.5 audit messages go (besides the index's `audit` table).
///
/// With neither `syslog` nor `file` set, no audit messages are written (the index still records
/// every event). Messages for syslog wait in the spool until the collector has them.
public struct AuditSettings: Sendable, Hashable {
    /// `syslog:` an RFC 5424 collector (an ATNA audit record repository), or nil.
    public var syslog: SyslogTarget?
    /// `file:` a file that gets one audit message (XML) per line, or nil.
    public var file: URL?
    /// `spool:` the directory that keeps messages the collector has not had yet; nil keeps them
    /// in memory only (lost on a restart).
    public var spool: URL?
    /// `spool_limit`: most bytes the spool holds; the oldest messages are dropped (and counted) beyond.
    public var spoolLimit = ByteCount.megabytes(256)
    /// `spool_max_messages`: most messages the spool holds.
    public var spoolMaxMessages = 1_000_000
    /// `enterprise_site_id`: AuditEnterpriseSiteID, e.g. the organisation's ODS code.
    public var enterpriseSiteID: String?
    /// `source_id`: AuditSourceID (default: this host's name and the gateway's AE title, `host@AE`).
    public var sourceID: String?

    /// Whether any audit message is written.
    public var isEnabled: Bool { syslog != nil || file != nil }

    public init() {}

    static let keys = ["syslog", "file", "spool", "spool_limit", "spool_max_messages", "enterprise_site_id", "source_id"]

    static func read(_ section: ConfigMapping, baseDirectory: URL) -> AuditSettings {
        var s = AuditSettings()
        if let syslog = section.optional("syslog", { $0.mapping(keys: SyslogTarget.keys) }) {
            s.syslog = SyslogTarget.read(syslog, baseDirectory: baseDirectory)
        }
        s.file = section.optional("file") { $0.filePath() }.map { StorageSettings.resolve($0, against: baseDirectory) }
        s.spool = section.optional("spool") { $0.filePath() }.map { StorageSettings.resolve($0, against: baseDirectory) }
        s.spoolLimit = section.read("spool_limit", default: s.spoolLimit) { $0.byteCount(minimum: 65_536) }
        s.spoolMaxMessages = section.read("spool_max_messages", default: s.spoolMaxMessages) {
            $0.int(in: 1...100_000_000, noun: "a number of messages")
        }
        s.enterpriseSiteID = section.optional("enterprise_site_id") { $0.text("an enterprise site ID") }
        s.sourceID = section.optional("source_id") { $0.text("an audit source ID") }
        if s.spool != nil, s.syslog == nil, let value = section["spool"] {
            value.error(.invalidValue, "audit.spool keeps messages for audit.syslog, which is not set: set audit.syslog or remove audit.spool")
        }
        return s
    }
}

/// `audit.syslog`: the collector and how to reach it.
public struct SyslogTarget: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// `transport`: `udp` (RFC 5426) or `tls` (RFC 5425, the default).
    public var transport: SyslogTransport
    /// `trusted`: CA certificate file or directory that the collector's certificate must chain to (tls).
    public var trusted: URL?
    /// `certificate` and `private_key`: the gateway's client certificate, when the collector asks for one.
    public var certificate: URL?
    public var privateKey: URL?
    /// `facility`: a name (`authpriv`, `local0` ...) or number 0-23; default authpriv (10).
    public var facility = 10

    static let keys = ["address", "transport", "trusted", "certificate", "private_key", "facility"]

    static let facilities = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
                             "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5",
                             "local6", "local7"]

    static func read(_ section: ConfigMapping, baseDirectory: URL) -> SyslogTarget? {
        let transport = section.read("transport", default: SyslogTransport.tls) { $0.choice() }
        let address = section.required("address", " (host:port of the syslog collector)") { value -> (String, Int)? in
            guard let text = value.text("host:port") else { return nil }
            let (host, portText): (Substring, Substring)
            if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                value.error(.invalidValue, "'\(text.printable)' is not host:port (e.g. 127.0.0.1:6514 or [::1]:514)")
                return nil
            }
            guard HostAddress.isValid(String(host)) else {
                value.error(.invalidValue, "'\(host)' is not a host (an IPv4 or IPv6 address or a host name)")
                return nil
            }
            guard let port = Int(portText), (1...65535).contains(port) else {
                value.error(.invalidValue, "'\(portText)' is not a port (1-65535)")
                return nil
            }
            return (String(host), port)
        }
        func file(_ key: String) -> URL? {
            guard let value = section[key], !value.isNull, let path = value.filePath() else { return nil }
            let url = StorageSettings.resolve(path, against: baseDirectory)
            guard FileManager.default.isReadableFile(atPath: url.path) else {
                value.error(.invalidValue, "cannot read audit.syslog.\(key) \(url.path)")
                return nil
            }
            return url
        }
        let trusted = file("trusted")
        let certificate = file("certificate")
        let privateKey = file("private_key")
        if transport == .tls, trusted == nil, !section.isSet("trusted") {
            section.reportMissing("trusted", " (the CA certificate the collector's certificate must chain to; required for transport: tls)")
        }
        if transport == .udp {
            for key in ["trusted", "certificate", "private_key"] where section.isSet(key) {
                section[key]?.error(.invalidValue, "audit.syslog.\(key) applies to transport: tls only (this one is udp)")
            }
        }
        if section.isSet("private_key") != section.isSet("certificate") {
            section.value.error(.missingKey, "audit.syslog needs both certificate and private_key, or neither")
        }
        var facility = 10
        if let value = section["facility"], !value.isNull {
            if let name = value.text("a facility"), let number = facilities.firstIndex(of: name) ?? Int(name).flatMap({ (0...23).contains($0) ? $0 : nil }) {
                facility = number
            } else {
                value.error(.invalidValue, "not a syslog facility: use a name (authpriv, auth, local0 ... local7) or a number 0-23")
            }
        }
        guard let (host, port) = address else { return nil }
        var target = SyslogTarget(host: host, port: port, transport: transport)
        target.trusted = trusted
        target.certificate = certificate
        target.privateKey = privateKey
        target.facility = facility
        return target
    }

    public init(host: String, port: Int, transport: SyslogTransport) {
        self.host = host
        self.port = port
        self.transport = transport
    }
}

/// How syslog messages travel.
public enum SyslogTransport: String, Sendable, CaseIterable, ConfigChoice {
    /// RFC 5426: one datagram a message; no delivery check, no encryption (loopback or a trusted LAN).
    case udp
    /// RFC 5425: TLS with the collector's certificate verified, octet-counted frames.
    case tls

    static let noun = "a syslog transport (udp or tls)"
}
