import Foundation

/// The `http:` section: the operators' HTTP API, dashboard page and Prometheus metrics.
///
/// On loopback (the default) no token is needed. Any other listen address requires bearer
/// tokens (`token_file`, `tokens`), so the API is never open on a network by accident; `tls`
/// serves HTTPS (see HTTPAccess.swift).
public struct HTTPSettings: Sendable, Hashable {
    /// Whether the HTTP listener runs (`enabled`, default true).
    public var enabled = true
    /// The listen address (`bind`, default `127.0.0.1`).
    public var bind = "127.0.0.1"
    /// The TCP port (`port`, default 8112).
    public var port = 8112
    /// A file whose first line is the bearer token every request must carry as
    /// `Authorization: Bearer <token>` (`token_file`, resolved against the config file's
    /// directory; required when `bind` is not a loopback address). `/health` needs no token.
    public var tokenFile: URL?
    /// Whether API answers and the dashboard may show patient names and IDs (`patient_data`,
    /// default false: studies are shown by UID, date, modality and description only).
    public var patientData = false
    /// Tokens with roles (`tokens`); each request needs one whose role covers it.
    public var tokens: [APIToken] = []
    /// HTTPS (`tls`); nil: plain HTTP.
    public var tls: HTTPTLSSettings?

    /// The embedded defaults.
    public init() {}

    static let keys = ["enabled", "bind", "port", "token_file", "patient_data", "tokens", "tls"]

    /// True for 127.0.0.0/8, ::1 and `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || (HostAddress.isIPv4(host) && host.hasPrefix("127."))
    }

    static func read(_ section: ConfigMapping, baseDirectory: URL) -> HTTPSettings {
        var settings = HTTPSettings()
        settings.enabled = section.read("enabled", default: settings.enabled) { $0.bool() }
        settings.bind = section.read("bind", default: settings.bind) { $0.host(noun: "a listen address") }
        settings.port = section.read("port", default: settings.port) { $0.int(in: 1...65535, noun: "a port") }
        settings.patientData = section.read("patient_data", default: settings.patientData) { $0.bool() }
        if let item = section["token_file"], !item.isNull, let path = item.filePath() {
            let url = StorageSettings.resolve(path, against: baseDirectory)
            if let problem = tokenProblem(at: url) {
                item.error(.invalidValue, problem)
            } else {
                settings.tokenFile = url
            }
        }
        settings.readAccess(section, baseDirectory: baseDirectory)
        if settings.enabled, !isLoopback(settings.bind), settings.allTokens.isEmpty, !section.isSet("token_file"), !section.isSet("tokens") {
            let where_ = section["bind"] ?? section.value
            where_.error(.missingKey, "http.bind \(settings.bind) is not a loopback address: set http.token_file "
                + "to a file holding the API token (or http.tokens), or bind to 127.0.0.1")
        }
        return settings
    }

    /// Why the token file cannot be used, or nil when it holds a token.
    static func tokenProblem(at url: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return "cannot read the token file \(url.path)"
        }
        guard token(from: data) != nil else {
            return "the token file \(url.path) is empty; write a long random token on its first line"
        }
        return nil
    }

    /// The token in a token file: its first line, trimmed; nil when empty.
    public static func token(from data: Data) -> String? {
        let text = String(decoding: data, as: UTF8.self)
        let first = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return first.isEmpty ? nil : first
    }
}
