/// The Query/Retrieve Level (0008,0052) of a C-FIND, C-MOVE or C-GET identifier.
public enum QueryLevel: String, Sendable, CaseIterable, Codable {
    case patient = "PATIENT", study = "STUDY", series = "SERIES", image = "IMAGE"

    /// Parses `study`, `STUDY`, `instance` (an alias of IMAGE) and so on.
    public init?(parsing text: String) {
        let upper = text.uppercased()
        if upper == "INSTANCE" { self = .image; return }
        self.init(rawValue: upper)
    }
}

/// The information model of a query or retrieve (PS3.4 C.6).
public enum QueryModel: String, Sendable, CaseIterable, Codable {
    case patientRoot = "patient", studyRoot = "study"

    public var findSOPClass: String {
        self == .patientRoot ? SOPClass.patientRootFind : SOPClass.studyRootFind
    }
    public var moveSOPClass: String {
        self == .patientRoot ? SOPClass.patientRootMove : SOPClass.studyRootMove
    }
    public var getSOPClass: String {
        self == .patientRoot ? SOPClass.patientRootGet : SOPClass.studyRootGet
    }

    public init?(sopClass: String) {
        switch sopClass {
        case SOPClass.patientRootFind, SOPClass.patientRootMove, SOPClass.patientRootGet: self = .patientRoot
        case SOPClass.studyRootFind, SOPClass.studyRootMove, SOPClass.studyRootGet: self = .studyRoot
        default: return nil
        }
    }
}

/// The sub-operation counts of a C-MOVE or C-GET (PS3.7 C.4.2.1.6-9).
public struct SubOperationCounts: Sendable, Equatable, CustomStringConvertible {
    public var remaining: Int
    public var completed: Int
    public var failed: Int
    public var warning: Int

    public init(remaining: Int = 0, completed: Int = 0, failed: Int = 0, warning: Int = 0) {
        self.remaining = remaining
        self.completed = completed
        self.failed = failed
        self.warning = warning
    }

    public var description: String {
        "remaining \(remaining), completed \(completed), failed \(failed), warning \(warning)"
    }
}
