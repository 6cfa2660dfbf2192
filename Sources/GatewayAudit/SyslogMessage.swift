import Foundation

/// RFC 5424 syslog messages carrying DICOM audit messages, as IHE ATNA (ITI-20) sends them:
/// `<PRI>1 TIMESTAMP HOSTNAME dicom-gateway PROCID DICOM+RFC3881 - BOM<AuditMessage ...>`.
public struct SyslogFormat: Sendable, Hashable {
    /// The facility (default 10, authpriv): PRI is facility × 8 + severity.
    public var facility: Int
    /// HOSTNAME: this machine's name (printable US-ASCII, no spaces; `-` when unknown).
    public var hostname: String
    public var appName: String
    /// PROCID: the gateway's process id.
    public var processID: String
    public var messageID: String

    public static let authpriv = 10

    public init(facility: Int = SyslogFormat.authpriv, hostname: String, appName: String = "dicom-gateway",
                processID: String = String(ProcessInfo.processInfo.processIdentifier), messageID: String = "DICOM+RFC3881") {
        self.facility = facility
        self.hostname = Self.headerField(hostname, limit: 255)
        self.appName = Self.headerField(appName, limit: 48)
        self.processID = Self.headerField(processID, limit: 128)
        self.messageID = Self.headerField(messageID, limit: 32)
    }

    /// The severity for an outcome: notice on success, warning, error, critical as failures grow.
    public static func severity(_ outcome: AuditOutcome) -> Int {
        switch outcome {
        case .success: 5
        case .minorFailure: 4
        case .seriousFailure: 3
        case .majorFailure: 2
        }
    }

    /// The whole RFC 5424 message (no framing, no trailing newline): header, `-` for no structured
    /// data, then the UTF-8 BOM and the XML.
    public func message(_ audit: AuditMessage) -> Data {
        message(xml: audit.xml(), outcome: audit.event.outcome, at: audit.event.dateTime)
    }

    public func message(xml: String, outcome: AuditOutcome, at time: Date) -> Data {
        let pri = facility * 8 + Self.severity(outcome)
        let header = "<\(pri)>1 \(AuditDateTime.format(time)) \(hostname) \(appName) \(processID) \(messageID) - "
        var data = Data(header.utf8)
        data.append(contentsOf: [0xEF, 0xBB, 0xBF])
        data.append(contentsOf: Array(xml.utf8))
        return data
    }

    /// RFC 5425 (and RFC 6587) octet-counting framing: `MSG-LEN SP SYSLOG-MSG`.
    public static func octetCounted(_ message: Data) -> Data {
        var framed = Data("\(message.count) ".utf8)
        framed.append(message)
        return framed
    }

    /// A header field as RFC 5424 allows it: printable US-ASCII without spaces, at most `limit`
    /// characters, `-` (NILVALUE) when nothing is left.
    static func headerField(_ value: String, limit: Int) -> String {
        let kept = String(String.UnicodeScalarView(value.unicodeScalars.filter { $0.value >= 33 && $0.value <= 126 }).prefix(limit))
        return kept.isEmpty ? "-" : kept
    }
}
