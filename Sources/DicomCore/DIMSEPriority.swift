/// The Priority (0000,0700) of a DIMSE request: LOW = 0x0002, MEDIUM = 0x0000, HIGH = 0x0001.
public enum DIMSEPriority: String, Sendable, CaseIterable, Codable {
    case low, medium, high

    public var code: UInt16 {
        switch self {
        case .low: return 0x0002
        case .medium: return 0x0000
        case .high: return 0x0001
        }
    }

    public init(code: UInt16) {
        switch code {
        case 0x0001: self = .high
        case 0x0002: self = .low
        default: self = .medium
        }
    }
}
