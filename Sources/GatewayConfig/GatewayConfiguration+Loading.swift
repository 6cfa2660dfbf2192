import Foundation
import Yams

extension GatewayConfiguration {
    /// The top-level sections. To add one: add a case, a `static let keys` on its model, and a
    /// line in `read(_:baseDirectory:)`. Any other top-level key is reported as unknown.
    enum Section: String, CaseIterable {
        case gateway, limits, storage, index, cluster, delivery, identity, priors, logging, http, dicomweb, audit, nodes, priorities, routes, reporting
    }

    /// Reads and validates the file at `url`. Relative paths in it resolve against the
    /// file's directory.
    ///
    /// - Throws: `ConfigError` with every problem found, each with file, line and column.
    public static func load(contentsOf url: URL) throws(ConfigError) -> GatewayConfiguration {
        let name = url.isFileURL ? url.relativePath : url.absoluteString
        let text: String
        do {
            let data = try Data(contentsOf: url)
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw ConfigError(diagnostics: [ConfigDiagnostic(
                    code: .unreadable, file: name, line: nil, column: nil, path: "",
                    message: "the file is not UTF-8 text; save it as UTF-8")])
            }
            text = decoded
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(diagnostics: [ConfigDiagnostic(
                code: .unreadable, file: name, line: nil, column: nil, path: "",
                message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(yaml: text, sourceName: name, baseDirectory: url.absoluteURL.deletingLastPathComponent())
    }

    /// Parses and validates configuration text.
    ///
    /// - Parameters:
    ///   - yaml: the YAML text; empty text gives the embedded defaults.
    ///   - sourceName: the name diagnostics carry, usually the file path.
    ///   - baseDirectory: the directory relative paths (such as `storage.path`) resolve against.
    /// - Throws: `ConfigError` with every problem found, each with line and column.
    public static func parse(yaml: String, sourceName: String, baseDirectory: URL) throws(ConfigError) -> GatewayConfiguration {
        let sink = DiagnosticSink(file: sourceName)
        if let problem = YAMLNesting.problem(in: yaml) {
            throw ConfigError(diagnostics: [ConfigDiagnostic(
                code: .syntax, file: sourceName, line: problem.line, column: problem.column, path: "", message: problem.message)])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            YAMLSyntax.report(error, in: yaml, to: sink)
            throw ConfigError(diagnostics: sink.sorted)
        }
        var config = GatewayConfiguration(baseDirectory: baseDirectory)
        if let root {
            let value = ConfigValue(node: root, path: "", keyMark: nil, sink: sink)
            let sections = Section.allCases.map(\.rawValue)
            if case .mapping = root, let top = value.mapping(keys: sections, noun: "section") {
                config.read(top, baseDirectory: baseDirectory)
            } else if !value.isNull {
                value.error(.wrongType, "the configuration must be a mapping of sections ("
                    + sections.joined(separator: ", ") + "), found \(value.shape)")
            }
        }
        guard sink.isEmpty else { throw ConfigError(diagnostics: sink.sorted) }
        return config
    }

    private mutating func read(_ top: ConfigMapping, baseDirectory: URL) {
        func section(_ name: Section, keys: [String]?) -> ConfigMapping? {
            top.optional(name.rawValue) { $0.mapping(keys: keys) }
        }
        if let s = section(.gateway, keys: GatewaySettings.keys) { gateway = .read(s, baseDirectory: baseDirectory) }
        if let s = section(.limits, keys: LimitsSettings.keys) { limits = .read(s) }
        if let s = section(.storage, keys: StorageSettings.keys) { storage = .read(s, baseDirectory: baseDirectory) }
        if let s = section(.index, keys: IndexSettings.keys) { index = .read(s, baseDirectory: baseDirectory) }
        if let s = section(.cluster, keys: ClusterSettings.keys) { cluster = .read(s) }
        if let s = section(.delivery, keys: DeliverySettings.keys) { delivery = .read(s) }
        if let s = section(.identity, keys: IdentitySettings.keys) { identity = .read(s) }
        if let s = section(.priors, keys: PriorsSettings.keys) { priors = .read(s) }
        if let s = section(.logging, keys: LoggingSettings.keys) { logging = .read(s) }
        if let s = section(.http, keys: HTTPSettings.keys) { http = .read(s, baseDirectory: baseDirectory) }
        if let s = section(.dicomweb, keys: DicomWebSettings.keys) { dicomweb = .read(s) }
        if let s = section(.audit, keys: AuditSettings.keys) { audit = .read(s, baseDirectory: baseDirectory) }
        let nodesSection = section(.nodes, keys: nil)
        if let s = nodesSection { nodes = NodesSection.read(s, gatewayAETitle: gateway.aeTitle) }
        checkNodeTLS(nodesSection, gatewaySection: top[Section.gateway.rawValue])
        let declared = nodesSection?.entries.map(\.key) ?? []
        let context = RoutingSection.Context(nodes: nodes, declaredNodeNames: Set(declared))
        checkTokenNodes(top[Section.http.rawValue], context: context)
        if let s = top[Section.priorities.rawValue] { priorities = RoutingSection.readPriorities(s, context: context) }
        if let s = top[Section.routes.rawValue] { routes = RoutingSection.readRoutes(s, context: context) }
        // After nodes: its rules need reporter sites with the skills they name.
        if let s = section(.reporting, keys: ReportingSettings.keys) { reporting = .read(s, context: context) }
    }
}
