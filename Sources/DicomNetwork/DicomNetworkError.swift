import DicomCore

/// A DICOM operation that did not complete: the association could not be set up, broke, or the
/// input was unusable. A DIMSE failure status that arrived is not an error of this kind; it is
/// returned as a `DIMSEStatus` so that callers decide.
public struct DicomNetworkError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. Extensible: new codes do not break callers that switch with a default.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let network = Code(name: "network")
        public static let associationRejected = Code(name: "association rejected")
        public static let associationAborted = Code(name: "association aborted")
        public static let protocolError = Code(name: "protocol error")
        public static let noPresentationContext = Code(name: "no presentation context")
        public static let file = Code(name: "file")
        public static let invalidArgument = Code(name: "invalid argument")
        public static let timeout = Code(name: "timeout")
        public static let internalError = Code(name: "internal error")
        public static let listen = Code(name: "listen")
        /// DICOM TLS: a context that cannot be made, a handshake that failed, or a peer whose
        /// certificate is not the one its node pins.
        public static let tls = Code(name: "TLS")
        public var description: String { name }
    }

    public let code: Code
    public let message: String
    public let rejection: AssociationRejection?

    public init(code: Code, message: String, rejection: AssociationRejection? = nil) {
        self.code = code
        self.message = message
        self.rejection = rejection
    }

    public var description: String { message }
}

/// Why a peer rejected an association (PS3.8 9.3.4): result 1 permanent / 2 transient,
/// source 1 service user / 2 provider ACSE / 3 provider presentation, and the reason code.
public struct AssociationRejection: Sendable, Equatable {
    public let result: Int
    public let source: Int
    public let reason: Int
    public var isTransient: Bool { result == 2 }
    public var isCallingAETitleNotRecognized: Bool { source == 1 && reason == 3 }
    public var isCalledAETitleNotRecognized: Bool { source == 1 && reason == 7 }
    public var isLocalLimitExceeded: Bool { source == 3 && reason == 2 }
}
