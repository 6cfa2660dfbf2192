import Foundation

/// A configuration that cannot be used, with every problem found in it (not only the first).
///
/// ```swift
/// do {
///     let config = try GatewayConfiguration.load(contentsOf: url)
/// } catch {
///     print(error)   // one `FILE:LINE:COLUMN: error: ...` line per problem
/// }
/// ```
public struct ConfigError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The problems, in the order they appear in the file.
    public let diagnostics: [ConfigDiagnostic]

    public init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One diagnostic per line.
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }

    /// The same as `description`, so `localizedDescription` shows the diagnostics too.
    public var errorDescription: String? { description }
}
