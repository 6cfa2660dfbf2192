import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging

/// DICOM TLS for the running gateway: the listener's context and the client context its
/// outbound associations to nodes with `tls: required` use, made from `gateway.tls` at start and
/// again on SIGHUP (certificate rotation), so a bad file is named before anything listens.
enum GatewayTLS {
    static func configuration(_ settings: GatewayTLSSettings, role: TLSContext.Role) -> TLSContext.Configuration {
        TLSContext.Configuration(
            certificate: settings.certificate.path, privateKey: settings.privateKey.path, trusted: settings.trusted.path,
            crl: settings.crl?.path, profile: settings.profile == .bcp195Extended ? .bcp195Extended : .bcp195ND,
            requirePeerCertificate: role == .listener ? settings.requireClientCertificate : true)
    }

    /// Both contexts, or the error naming the file and what is wrong with it.
    static func contexts(_ settings: GatewayTLSSettings) throws(DicomNetworkError) -> (listener: TLSContext, client: TLSContext) {
        (try TLSContext(role: .listener, configuration(settings, role: .listener)),
         try TLSContext(role: .client, configuration(settings, role: .client)))
    }

    /// At start: the listener's context (nil without `gateway.tls`); the client context is installed.
    static func start(_ settings: GatewayTLSSettings?, logger: Logger) throws(DicomNetworkError) -> TLSContext? {
        guard let settings else { return nil }
        let (listener, client) = try contexts(settings)
        TLSContext.client = client
        for warning in settings.warnings { logger.warning("DICOM TLS: \(warning)") }
        logExpiry(settings, logger: logger)
        return listener
    }

    /// On SIGHUP: the certificate, key, trusted CA and CRL files read again; a bad file keeps the
    /// running contexts (and says why). Either way the audit trail gets a `config` entry (a
    /// Security Alert, Software Configuration), so a rotation that did not take is not only logged.
    static func reload(_ settings: GatewayTLSSettings?, server: DicomServer, index: CacheIndex, logger: Logger) {
        guard let settings, server.tlsPort != nil else { return }
        let record: AuditRecord
        do {
            let (listener, client) = try contexts(settings)
            try server.replaceTLS(listener)
            TLSContext.client = client
            for warning in settings.warnings { logger.warning("DICOM TLS: \(warning)") }
            logExpiry(settings, logger: logger)
            logger.notice("DICOM TLS certificates reloaded", metadata: ["certificate": "\(settings.certificate.path)"])
            let identity = (try? CertificateIdentity.read(path: settings.certificate.path))?.identity
            record = AuditRecord(event: "config", actor: "SIGHUP", outcome: "reloaded",
                                 detail: "DICOM TLS certificate \(identity.map { "\($0.subject), SHA-256 \($0.sha256)" } ?? settings.certificate.path)")
        } catch {
            logger.error("DICOM TLS reload refused; the running certificates are kept", metadata: ["error": "\(error.message)"])
            record = AuditRecord(event: "config", actor: "SIGHUP", outcome: "refused",
                                 detail: String("DICOM TLS certificates not reloaded, the running ones kept: \(error.message)".prefix(2000)))
        }
        index.audit(record)
    }

    private static func logExpiry(_ settings: GatewayTLSSettings, logger: Logger) {
        guard let (identity, notAfter) = try? CertificateIdentity.read(path: settings.certificate.path) else { return }
        let days = Int(notAfter.timeIntervalSinceNow / 86_400)
        let level: Logger.Level = days < 30 ? .warning : .info
        logger.log(level: level, "DICOM TLS certificate", metadata: [
            "subject": "\(identity.subject)", "sha256": "\(identity.sha256)", "expires_in_days": "\(days)"])
    }
}
