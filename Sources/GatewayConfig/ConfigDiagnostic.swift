/// One problem found in a configuration file, with where it is and what to do about it.
///
/// Its description reads like a compiler message, so editors and terminals can jump to it:
///
/// ```text
/// etc/gateway.yaml:31:48: error: nodes.HUB.port: 70000 is not a port (1-65535)
/// ```
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. An open set: new kinds can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file could not be read or is not UTF-8.
        public static let unreadable = Code("unreadable")
        /// The text is not valid YAML.
        public static let syntax = Code("syntax")
        /// A value has the wrong shape: text where a mapping is expected, a word where a number is.
        public static let wrongType = Code("wrongType")
        /// A key the gateway does not know (often a typo; the message suggests the closest key).
        public static let unknownKey = Code("unknownKey")
        /// The same key appears twice in one mapping.
        public static let duplicateKey = Code("duplicateKey")
        /// A key that must be present is missing.
        public static let missingKey = Code("missingKey")
        /// A value of the right type that breaks a rule: out of range, not an AE title, not a choice.
        public static let invalidValue = Code("invalidValue")
        /// Two entries claim something that must be unique, such as an AE title.
        public static let conflict = Code("conflict")
    }

    /// The kind of problem.
    public let code: Code
    /// The file (or source name) the problem is in.
    public let file: String
    /// 1-based line, or nil when the problem concerns the whole file.
    public let line: Int?
    /// 1-based column in Unicode scalars, or nil when the problem concerns the whole file.
    public let column: Int?
    /// The dotted key path of the offending value, e.g. `nodes.HUB.port`; empty for the file itself.
    public let path: String
    /// What is wrong and, where it helps, what to write instead.
    public let message: String

    public init(code: Code, file: String, line: Int?, column: Int?, path: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: PATH: MESSAGE`, leaving out the parts that are unknown.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        let subject = path.isEmpty ? "" : path + ": "
        return "\(location): error: \(subject)\(message)"
    }
}
