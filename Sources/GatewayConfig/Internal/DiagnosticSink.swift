import Yams

/// Collects the diagnostics of one parse, so that every problem is reported in one pass.
/// Lives only for the duration of a single synchronous parse; never shared between tasks.
final class DiagnosticSink {
    let file: String
    private(set) var diagnostics: [ConfigDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    var isEmpty: Bool { diagnostics.isEmpty }

    func error(_ code: ConfigDiagnostic.Code, at mark: Mark?, path: String, _ message: String) {
        error(code, line: mark?.line, column: mark?.column, path: path, message)
    }

    func error(_ code: ConfigDiagnostic.Code, line: Int?, column: Int?, path: String, _ message: String) {
        diagnostics.append(ConfigDiagnostic(
            code: code, file: file, line: line, column: column, path: path, message: message))
    }

    /// The diagnostics ordered by position; file-level ones first.
    var sorted: [ConfigDiagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let ka = (a.element.line ?? 0, a.element.column ?? 0, a.offset)
            let kb = (b.element.line ?? 0, b.element.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }
}
