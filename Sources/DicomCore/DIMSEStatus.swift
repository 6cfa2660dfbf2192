/// A DIMSE status code (PS3.7 Annex C) with its category.
public struct DIMSEStatus: Hashable, Sendable, CustomStringConvertible {
    public let code: UInt16
    public init(_ code: UInt16) { self.code = code }

    public enum Category: Sendable { case success, pending, cancel, warning, failure }

    public var category: Category {
        switch code {
        case 0x0000: return .success
        case 0xFF00, 0xFF01: return .pending
        case 0xFE00: return .cancel
        case 0x0001, 0x0107, 0x0116, 0xB000...0xBFFF: return .warning
        default: return .failure
        }
    }

    public var isSuccess: Bool { category == .success }
    public var isPending: Bool { category == .pending }
    public var isFailure: Bool { category == .failure }

    public static let success = DIMSEStatus(0x0000)
    public static let pending = DIMSEStatus(0xFF00)
    public static let pendingWarning = DIMSEStatus(0xFF01)
    public static let cancelled = DIMSEStatus(0xFE00)
    public static let subOperationsCompleteWithFailures = DIMSEStatus(0xB000)
    public static let outOfResources = DIMSEStatus(0xA700)
    public static let outOfResourcesSubOperations = DIMSEStatus(0xA702)
    public static let moveDestinationUnknown = DIMSEStatus(0xA801)
    public static let dataSetDoesNotMatchSOPClass = DIMSEStatus(0xA900)
    public static let cannotUnderstand = DIMSEStatus(0xC000)
    public static let identifierDoesNotMatchSOPClass = DIMSEStatus(0xA900)
    public static let unableToProcess = DIMSEStatus(0xC211)
    public static let sopClassNotSupported = DIMSEStatus(0x0122)
    public static let duplicateSOPInstance = DIMSEStatus(0x0111)
    public static let processingFailure = DIMSEStatus(0x0110)
    public static let refusedNotAuthorized = DIMSEStatus(0x0124)

    public var hex: String { "0x" + DicomTag.hex4(code) }

    public var description: String {
        switch code {
        case 0x0000: return "success (0x0000)"
        case 0xFF00, 0xFF01: return "pending (\(hex))"
        case 0xFE00: return "cancelled (0xFE00)"
        case 0xB000: return "warning: sub-operations complete with one or more failures (0xB000)"
        case 0xA700...0xA7FF: return "refused: out of resources (\(hex))"
        case 0xA801: return "refused: move destination unknown (0xA801)"
        case 0xA900...0xA9FF: return "error: data set does not match SOP class (\(hex))"
        case 0xC000...0xCFFF: return "error: cannot understand (\(hex))"
        case 0x0122: return "refused: SOP class not supported (0x0122)"
        case 0x0124: return "refused: not authorized (0x0124)"
        case 0x0110: return "processing failure (0x0110)"
        case 0x0111: return "duplicate SOP instance (0x0111)"
        default: return category == .warning ? "warning (\(hex))" : "failure (\(hex))"
        }
    }
}
