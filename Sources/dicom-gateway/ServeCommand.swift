import ArgumentParser
import Foundation
import GatewayApp
import GatewayConfig
import Logging
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway. Without --config it uses the embedded default (NETGW on 127.0.0.1:11112, ./var/dicom-gateway).")

    @Option(help: "The YAML configuration file.") var config: String?
    @Option(help: "Override the DICOM port of the configuration.") var port: Int?

    func run() async throws {
        var configuration: GatewayConfiguration
        if let config {
            do {
                configuration = try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: config))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
        } else {
            configuration = .embeddedDefault
        }
        if let port { configuration.gateway.port = port }
        GatewayLogging.bootstrap(configuration.logging)
        let logger = Logger(label: "dicom-gateway")
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, sourcePath: config, logger: logger, metrics: Self.bootstrapMetrics())
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        try await gateway.run()
    }

    /// Counters and histograms go to one Prometheus registry, which `/metrics` exports.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Gateway.deliveryDelayMetric] = Gateway.deliveryDelayBuckets
        factory.durationHistogramBuckets[Gateway.allocationMetric] = Gateway.allocationBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
