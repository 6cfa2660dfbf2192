import Yams

/// Turns a Yams/libyaml error into a diagnostic at the line and column of the problem.
enum YAMLSyntax {
    static func report(_ error: any Error, in yaml: String, to sink: DiagnosticSink) {
        guard let error = error as? YamlError else {
            sink.error(.syntax, at: nil, path: "", "cannot parse the YAML: \(error)")
            return
        }
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if problem == "but found another document" {
                message = "the file holds more than one YAML document (a second '---'); keep only one"
            } else if let context {
                message += " (\(context.text) on line \(context.mark.line), column \(context.mark.column))"
            }
            if character(in: yaml, at: mark) == "\t" {
                message += "; YAML does not allow tabs for indentation, use spaces"
            }
            sink.error(.syntax, at: mark, path: "", message)
        case let .reader(problem, offset, _, _):
            let position = offset.map { self.position(atCharacterOffset: $0, in: yaml) }
            sink.error(.syntax, line: position?.line, column: position?.column, path: "",
                       "the text cannot be read as YAML: \(problem)")
        default:
            sink.error(.syntax, at: nil, path: "", "cannot parse the YAML: \(error)")
        }
    }

    /// The character at a 1-based line and column (counted in Unicode scalars).
    static func character(in yaml: String, at mark: Mark) -> Unicode.Scalar? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let scalars = Array(lines[mark.line - 1].unicodeScalars)
        return mark.column >= 1 && mark.column <= scalars.count ? scalars[mark.column - 1] : nil
    }

    static func position(atCharacterOffset offset: Int, in yaml: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for character in yaml.prefix(offset) {
            if character == "\n" { line += 1; column = 1 } else { column += character.unicodeScalars.count }
        }
        return (line, column)
    }
}
