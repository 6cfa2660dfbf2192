import Foundation
import GatewayConfig
import GatewayStore
import Hummingbird
import HummingbirdTLS
import NIOCore
import NIOSSL
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP listener for operators: a Service that stops gracefully with the others. Tokens and
/// the TLS certificate and key are read once, at start; a listener that cannot bind stops the
/// gateway with the reason. Requests are held to ``HTTPLimits`` (head and body sizes; refused
/// connections are closed) and, when tokens are configured, to ``TokenAuthentication``.
public struct AdminServer: Service {
    let settings: HTTPSettings
    let api: AdminAPI
    let credentials: [TokenAuthentication<AdminRequestContext>.Credential]
    let tls: TLSConfiguration?
    let onListening: @Sendable (Int) -> Void
    /// More routes on the same listener (DICOMweb), with the largest request body they take.
    let mounts: [HTTPMount]

    /// - Throws: when a token file cannot be read or is empty, or the TLS certificate or key
    ///   cannot be loaded.
    public init(settings: HTTPSettings, index: CacheIndex, control: any GatewayControl, metrics: PrometheusCollectorRegistry,
                logger: Logger, mounts: [HTTPMount] = [], onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        self.settings = settings
        self.mounts = mounts
        api = AdminAPI(index: index, control: control, metrics: metrics, logger: logger)
        self.onListening = onListening
        credentials = try settings.allTokens.map { token in
            switch token.secret {
            case .sha256(let digest):
                return .init(name: token.name, role: token.role, digest: digest, node: token.node)
            case .file(let file):
                guard let data = FileManager.default.contents(atPath: file.path), let secret = HTTPSettings.token(from: data) else {
                    let key = token.name == "token_file" ? "http.token_file" : "the file of http.tokens \(token.name)"
                    throw AdminServerError(message: "\(key) \(file.path) cannot be read or holds no token")
                }
                return .init(name: token.name, role: token.role, digest: TokenAuthentication<AdminRequestContext>.digest(secret),
                             node: token.node)
            }
        }
        tls = try settings.tls.map(Self.tlsConfiguration)
    }

    /// HTTPS with the configured chain and key, TLS 1.2 at least (BCP 195).
    static func tlsConfiguration(_ tls: HTTPTLSSettings) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate.path).map { NIOSSLCertificateSource.certificate($0) }
            guard !chain.isEmpty else { throw AdminServerError(message: "no certificate in \(tls.certificate.path)") }
            let key = try NIOSSLPrivateKey(file: tls.privateKey.path, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        } catch let error as AdminServerError {
            throw error
        } catch {
            throw AdminServerError(message: "http.tls: cannot load the certificate \(tls.certificate.path) or the private key "
                + "\(tls.privateKey.path) (PEM files, the key unencrypted): \(error)")
        }
    }

    public func run() async throws {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: ErrorAnswers(logger: api.logger))
        // Before the tokens: a CORS preflight carries none.
        let cors = mounts.compactMap(\.cors)
        if !cors.isEmpty { router.add(middleware: CORSMiddleware<AdminRequestContext>(policies: cors)) }
        if !credentials.isEmpty {
            let index = api.index
            router.add(middleware: TokenAuthentication(credentials: credentials, logger: api.logger) { index.audit($0) })
        }
        api.addRoutes(to: router)
        for mount in mounts { mount.addRoutes(router) }
        let logger = api.logger
        let (bind, port, onListening) = (settings.bind, settings.port, self.onListening)
        let scheme = tls == nil ? "http" : "https"
        let tokens = credentials.isEmpty ? "none (loopback)" : "\(credentials.count) token(s)"
        let mounts = self.mounts
        let plain = HTTPLimits.http1Server(logger: logger) { head in
            mounts.lazy.compactMap { $0.bodyLimit(head) }.first ?? HTTPLimits.maxBodyBytes
        }
        let app = Application(
            router: router,
            server: try tls.map { try .tls(plain, tlsConfiguration: $0) } ?? plain,
            configuration: .init(address: .hostname(bind, port: port), serverName: "dicom-gateway"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("HTTP API listening", metadata: ["address": "\(scheme)://\(bind):\(bound)", "tokens": "\(tokens)"])
                onListening(bound)
            },
            logger: Self.quiet(logger))
        do {
            try await app.run()
        } catch {
            logger.critical("the HTTP API cannot listen on \(bind):\(port): \(error)")
            throw error
        }
    }

    /// Hummingbird logs every request at debug; the gateway's level applies, one notch up.
    static func quiet(_ logger: Logger) -> Logger {
        var l = logger
        if l.logLevel < .notice { l.logLevel = .notice }
        return l
    }
}

/// Routes another module adds to the HTTP listener (DICOMweb), behind the same tokens and limits.
public struct HTTPMount: Sendable {
    public let addRoutes: @Sendable (Router<AdminRequestContext>) -> Void
    /// The largest body of a request these routes take, or nil for ``HTTPLimits/maxBodyBytes``.
    public let bodyLimit: @Sendable (HTTPRequest) -> Int?
    /// Cross-origin access to these routes (none when nil).
    public let cors: CORSPolicy?

    public init(addRoutes: @escaping @Sendable (Router<AdminRequestContext>) -> Void,
                bodyLimit: @escaping @Sendable (HTTPRequest) -> Int? = { _ in nil }, cors: CORSPolicy? = nil) {
        self.addRoutes = addRoutes
        self.bodyLimit = bodyLimit
        self.cors = cors
    }
}

public struct AdminServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
