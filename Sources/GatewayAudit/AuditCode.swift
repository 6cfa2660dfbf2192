/// A coded value of the DICOM audit message schema (PS3.15 A.5.1, `CodedValueType`): written as
/// `csd-code`, `codeSystemName` and `originalText` attributes.
public struct AuditCode: Sendable, Hashable {
    /// The code value (`csd-code`), e.g. `110100`.
    public var code: String
    /// The coding scheme (`codeSystemName`): `DCM` for PS3.16 codes, `RFC-3881` for the schema's own.
    public var codeSystemName: String
    /// The code meaning (`originalText`).
    public var originalText: String

    public init(_ code: String, _ codeSystemName: String, _ originalText: String) {
        self.code = code
        self.codeSystemName = codeSystemName
        self.originalText = originalText
    }

    /// A PS3.16 code (`codeSystemName="DCM"`).
    public init(_ code: String, _ originalText: String) {
        self.init(code, "DCM", originalText)
    }
}

/// The PS3.16 (CID 400-405) and RFC 3881 codes the gateway's messages use.
extension AuditCode {
    // Event IDs (CID 400 Audit Event ID), PS3.15 A.5.3.
    public static let applicationActivity = AuditCode("110100", "Application Activity")
    public static let auditLogUsed = AuditCode("110101", "Audit Log Used")
    public static let instancesAccessed = AuditCode("110103", "DICOM Instances Accessed")
    public static let instancesTransferred = AuditCode("110104", "DICOM Instances Transferred")
    public static let studyDeleted = AuditCode("110105", "DICOM Study Deleted")
    public static let export = AuditCode("110106", "Export")
    public static let query = AuditCode("110112", "Query")
    public static let securityAlert = AuditCode("110113", "Security Alert")
    public static let userAuthentication = AuditCode("110114", "User Authentication")

    // Event type codes (CID 401, 402, 403).
    public static let applicationStart = AuditCode("110120", "Application Start")
    public static let applicationStop = AuditCode("110121", "Application Stop")
    public static let login = AuditCode("110122", "Login")
    public static let logout = AuditCode("110123", "Logout")
    public static let nodeAuthentication = AuditCode("110126", "Node Authentication")
    public static let networkConfiguration = AuditCode("110128", "Network Configuration")
    public static let securityConfiguration = AuditCode("110129", "Security Configuration")
    public static let softwareConfiguration = AuditCode("110131", "Software Configuration")
    public static let useOfRestrictedFunction = AuditCode("110132", "Use of Restricted Function")

    // Active participant roles (CID 402 Audit Active Participant Role ID Code).
    public static let application = AuditCode("110150", "Application")
    public static let applicationLauncher = AuditCode("110151", "Application Launcher")
    public static let destinationRole = AuditCode("110152", "Destination Role ID")
    public static let sourceRole = AuditCode("110153", "Source Role ID")

    // Participant object ID types (CID 404, and RFC 3881's own).
    public static let patientNumber = AuditCode("2", "RFC-3881", "Patient Number")
    public static let uri = AuditCode("12", "RFC-3881", "URI")
    public static let studyInstanceUID = AuditCode("110180", "Study Instance UID")
    public static let sopClassUID = AuditCode("110181", "SOP Class UID")
    public static let nodeID = AuditCode("110182", "Node ID")
}

/// `EventActionCode`: what was done to the participant objects.
public enum AuditEventAction: String, Sendable, Hashable {
    case create = "C", read = "R", update = "U", delete = "D", execute = "E"
}

/// `EventOutcomeIndicator`: success, or how bad the failure was.
public enum AuditOutcome: Int, Sendable, Hashable, Comparable {
    case success = 0
    case minorFailure = 4
    case seriousFailure = 8
    case majorFailure = 12

    public static func < (lhs: AuditOutcome, rhs: AuditOutcome) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// `NetworkAccessPointTypeCode`: what kind of address `NetworkAccessPointID` is.
public enum NetworkAccessPointType: Int, Sendable, Hashable {
    case machineName = 1, ipAddress = 2, telephone = 3, email = 4, uri = 5

    /// IP address (2) for a literal IPv4/IPv6 address, machine name (1) for anything else.
    public static func of(_ address: String) -> NetworkAccessPointType {
        let isIPv4 = address.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && address.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        return isIPv4 || address.contains(":") ? .ipAddress : .machineName
    }
}
