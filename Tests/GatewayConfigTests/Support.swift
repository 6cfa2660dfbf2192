import Foundation
import Testing
import GatewayConfig

/// The repository root, found from this file's location.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let testBase = URL(fileURLWithPath: "/srv/gateway")

/// Parses `yaml` as if read from `test.yaml` in /srv/gateway.
func parse(_ yaml: String) throws(ConfigError) -> GatewayConfiguration {
    try GatewayConfiguration.parse(yaml: yaml, sourceName: "test.yaml", baseDirectory: testBase)
}

/// The diagnostics `yaml` produces; records a test failure when it parses.
func diagnostics(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigDiagnostic] {
    do {
        _ = try parse(yaml)
        Issue.record("expected configuration errors, but it parsed", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.diagnostics
    }
}

/// The only diagnostic `yaml` produces; records a failure when there is not exactly one.
func singleDiagnostic(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigDiagnostic? {
    let all = diagnostics(yaml, sourceLocation: sourceLocation)
    #expect(all.count == 1, "expected one diagnostic, got:\n\(ConfigError(diagnostics: all))", sourceLocation: sourceLocation)
    return all.first
}

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gwconfig-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The 1-based line and column of the `occurrence`-th appearance of `needle` in `text`.
func locate(_ needle: String, in text: String, occurrence: Int = 1) -> (line: Int, column: Int)? {
    var seen = 0
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var searchStart = line.startIndex
        while let range = line[searchStart...].range(of: needle) {
            seen += 1
            if seen == occurrence {
                return (index + 1, line.unicodeScalars.distance(from: line.startIndex, to: range.lowerBound) + 1)
            }
            searchStart = range.upperBound
        }
    }
    return nil
}

/// Expects `diagnostic` to have `code` and to point at `needle` in `yaml`.
func expect(_ diagnostic: ConfigDiagnostic?, _ code: ConfigDiagnostic.Code, at needle: String, in yaml: String,
            occurrence: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let diagnostic else { return }
    let position = locate(needle, in: yaml, occurrence: occurrence)
    #expect(diagnostic.code == code, "\(diagnostic)", sourceLocation: sourceLocation)
    #expect(diagnostic.line == position?.line && diagnostic.column == position?.column,
            "\(diagnostic) should point at '\(needle)' \(String(describing: position))", sourceLocation: sourceLocation)
}
