import DicomCore
import GatewayConfig

/// What the router knows about one received instance: its attributes and how it arrived.
///
/// ```swift
/// let instance = RoutedInstance(attributes: attributes, sendingNode: "TRUST_A",
///                               callingAE: "TRUSTA_PACS", dimsePriority: .high,
///                               timeOfDay: TimeOfDay(hour: 14, minute: 5))
/// ```
public struct RoutedInstance: Sendable {
    /// The instance's top-level attributes.
    public var attributes: DicomAttributes
    /// The SOP Class UID, which gives the category.
    public var sopClassUID: String
    /// The configured node it came from (by calling AE), or nil for an unknown sender.
    public var sendingNode: String?
    /// The calling AE title of the association it came on.
    public var callingAE: String?
    /// The priority of the C-STORE request that brought it.
    public var dimsePriority: DIMSEPriority
    /// When it arrived, in the gateway's local time.
    public var timeOfDay: TimeOfDay
    /// The node the study came from (the origin of its first cached instance), when the study
    /// was already cached; `origin` in a route means this node, else the sending node.
    public var studyOriginNode: String?

    /// `sopClassUID` defaults to the SOPClassUID attribute.
    public init(attributes: DicomAttributes, sopClassUID: String? = nil, sendingNode: String? = nil,
                callingAE: String? = nil, dimsePriority: DIMSEPriority = .medium, timeOfDay: TimeOfDay,
                studyOriginNode: String? = nil) {
        self.studyOriginNode = studyOriginNode
        self.attributes = attributes
        self.sopClassUID = sopClassUID ?? attributes.string(.sopClassUID) ?? ""
        self.sendingNode = sendingNode
        self.callingAE = callingAE
        self.dimsePriority = dimsePriority
        self.timeOfDay = timeOfDay
    }

    /// Image, report, presentation state or other, from the SOP class.
    public var category: InstanceCategory { InstanceCategory(sopClassUID: sopClassUID) }
}
