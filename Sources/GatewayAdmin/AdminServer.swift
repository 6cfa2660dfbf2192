import Foundation
import GatewayConfig
import GatewayStore
import Hummingbird
import NIOCore
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP listener for operators: a Service that stops gracefully with the others. The token
/// is read once, at start; a listener that cannot bind stops the gateway with the reason.
/// Requests are held to ``HTTPLimits`` (head and body sizes; refused connections are closed).
public struct AdminServer: Service {
    let settings: HTTPSettings
    let api: AdminAPI
    let token: String?
    let onListening: @Sendable (Int) -> Void

    /// - Throws: when `http.token_file` cannot be read or is empty.
    public init(settings: HTTPSettings, index: CacheIndex, control: any GatewayControl, metrics: PrometheusCollectorRegistry,
                logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        self.settings = settings
        api = AdminAPI(index: index, control: control, metrics: metrics, logger: logger)
        self.onListening = onListening
        if let file = settings.tokenFile {
            guard let data = FileManager.default.contents(atPath: file.path), let token = HTTPSettings.token(from: data) else {
                throw AdminServerError(message: "http.token_file \(file.path) cannot be read or holds no token")
            }
            self.token = token
        } else {
            token = nil
        }
    }

    public func run() async throws {
        let router = Router()
        router.add(middleware: ErrorAnswers(logger: api.logger))
        if let token { router.add(middleware: TokenAuthentication(token: token)) }
        api.addRoutes(to: router)
        let logger = api.logger
        let (bind, port, onListening) = (settings.bind, settings.port, self.onListening)
        let app = Application(
            router: router,
            server: HTTPLimits.http1Server(logger: logger),
            configuration: .init(address: .hostname(bind, port: port), serverName: "dicom-gateway"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("HTTP API listening", metadata: ["address": "\(bind):\(bound)", "token": "\(token == nil ? "none (loopback)" : "required")"])
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

public struct AdminServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
