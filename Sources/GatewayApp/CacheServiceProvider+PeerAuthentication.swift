import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging

/// Authentication of callers by certificate (PS3.15 Annex B): over DICOM TLS, the certificate
/// must be the one the claimed node pins, and no other node's; a node with `tls: required` may
/// not call over plain TCP. Every refusal is a security alert in the audit trail.
extension CacheServiceProvider {
    /// nil when nothing about the transport or certificate stands against the association.
    func authenticatePeer(_ association: AssociationInfo) -> AssociationDecision? {
        let configuration = self.configuration
        let claimed = configuration.node(forCallingAE: association.callingAE)
        guard association.overTLS else {
            guard let claimed, claimed.security.required else { return nil }
            return refuse(association, code: "tls-required", decision: .rejectNoReason,
                          why: "node \(claimed.name) has tls: required but called over plain TCP")
        }
        guard let certificate = association.peerCertificate else {
            guard let claimed, claimed.security.isPinned else { return nil }
            return refuse(association, code: "certificate-mismatch", decision: .rejectCallingAETitle,
                          why: "node \(claimed.name) pins its certificate but the caller presented none")
        }
        let owners = configuration.nodes.filter { $0.security.pins(sha256: certificate.sha256, subject: certificate.subject) }
        if let claimed {
            if claimed.security.isPinned, !claimed.security.pins(sha256: certificate.sha256, subject: certificate.subject) {
                let whose = owners.first.map { " (it is node \($0.name)'s)" } ?? ""
                return refuse(association, code: "certificate-mismatch", decision: .rejectCallingAETitle,
                              why: "the certificate is not the one node \(claimed.name) pins\(whose)")
            }
            if let other = owners.first(where: { $0.name != claimed.name }) {
                return refuse(association, code: "certificate-mismatch", decision: .rejectCallingAETitle,
                              why: "the certificate is node \(other.name)'s, claiming node \(claimed.name)'s AE title")
            }
            return nil
        }
        if let owner = owners.first {
            return refuse(association, code: "certificate-mismatch", decision: .rejectCallingAETitle,
                          why: "the certificate is node \(owner.name)'s, claiming an AE title no node has")
        }
        // An unknown caller with a valid network certificate: the caller policy decides; its
        // certificate is recorded.
        logger.notice("unknown caller over DICOM TLS", metadata: meta(association, ["certificate_subject": "\(certificate.subject)"]))
        index.audit(AuditRecord(event: "association", actor: association.callingAE, peer: association.peerHost,
                                outcome: "unknown-caller-tls", detail: "certificate subject \(certificate.subject), SHA-256 \(certificate.sha256)"))
        return nil
    }

    private func refuse(_ association: AssociationInfo, code: String, decision: AssociationDecision, why: String) -> AssociationDecision {
        let subject = association.peerCertificate.map { "certificate subject \($0.subject), SHA-256 \($0.sha256)" } ?? "no certificate"
        let transport = association.overTLS ? "over DICOM TLS" : "over plain TCP"
        logger.warning("association rejected: \(why)", metadata: meta(association, ["security_alert": "\(code)"]))
        index.audit(AuditRecord(event: "security-alert", actor: association.callingAE, peer: association.peerHost, outcome: code,
                                detail: "AE \(association.callingAE) from \(association.peerHost) \(transport), \(subject): \(why)"))
        GatewayMetrics.association("rejected_\(code)")
        return decision
    }

    public func tlsHandshakeFailed(_ failure: TLSHandshakeFailure) {
        guard let suppressed = Self.handshakeAlerts.admit(ObjectIdentifier(self), failure.peerHost) else { return }
        let code = failure.badCertificate ? "bad-certificate" : "tls-handshake-failed"
        let subject = failure.certificateSubject.isEmpty ? "no certificate" : "certificate subject \(failure.certificateSubject)"
        let more = suppressed > 0 ? " (\(suppressed) more from this address in the last 10 s not recorded)" : ""
        logger.warning("DICOM TLS handshake failed", metadata: [
            "peer": "\(failure.peerHost)", "reason": "\(failure.reason)", "security_alert": "\(code)"])
        index.audit(AuditRecord(event: "security-alert", actor: "", peer: failure.peerHost, outcome: code,
                                detail: "TLS connection from \(failure.peerHost), \(subject): \(failure.reason)\(more)"))
        GatewayMetrics.association("rejected_\(code)")
    }

    static let handshakeAlerts = AlertRateLimiter(interval: 10)
}

/// At most one alert per gateway and address per interval; the ones left out are counted and
/// reported with the next.
final class AlertRateLimiter: @unchecked Sendable {
    // Safe: every access to `last` goes through `lock`.
    private let lock = NSLock()
    private let interval: TimeInterval
    private var last: [String: (time: Date, suppressed: Int)] = [:]

    init(interval: TimeInterval) { self.interval = interval }

    /// nil: leave this one out; otherwise how many were left out before it.
    func admit(_ owner: ObjectIdentifier, _ address: String, now: Date = Date()) -> Int? {
        let key = "\(owner.hashValue)|\(address)"
        lock.lock()
        defer { lock.unlock() }
        if last.count > 10_000 { last = last.filter { now.timeIntervalSince($0.value.time) < interval } }
        if let entry = last[key], now.timeIntervalSince(entry.time) < interval {
            last[key] = (entry.time, entry.suppressed + 1)
            return nil
        }
        let suppressed = last[key]?.suppressed ?? 0
        last[key] = (now, 0)
        return suppressed
    }
}
