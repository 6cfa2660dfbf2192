import Foundation
import GatewayConfig
import Logging
import Metrics
import ServiceLifecycle

/// The gateway's audit trail: takes PS3.15 audit messages from any thread (`record`), and on a
/// thread of its own writes them to `audit.file`, spools them and sends them to the syslog
/// collector in order. A collector outage keeps them in the spool (bounded; the oldest are dropped,
/// counted, beyond its limits) until it answers again.
///
/// As a `Service`, `run()` records Application Start, and on graceful shutdown Application Stop,
/// then drains the spool for up to `drainTimeout` (what is left stays in a spool directory for the
/// next start).
///
/// ```swift
/// let trail = try AuditTrail(settings: config.audit, gatewayAETitle: "NETGW", logger: logger)
/// trail.record(.query(outcome: .success, requestor: peer, responder: trail.gateway, ...))
/// ```
public final class AuditTrail: Service, @unchecked Sendable {
    // @unchecked Sendable: `pending`, `stopping` and `running` are guarded by `condition`; the
    // spool, channel and file sink are touched only by the sender thread.
    public let source: AuditSource
    /// The gateway as an active participant (process id, `AETITLES=`, host name).
    public let gateway: AuditNode
    public let settings: AuditSettings
    let format: SyslogFormat
    let logger: Logger
    let drainTimeout: TimeInterval
    private let condition = NSCondition()
    private var pending: [AuditMessage] = []
    private var stopping = false
    private var running = false
    private var finished = false
    private let spool: AuditSpool
    private let channel: SyslogTransportChannel?
    private let file: AuditFileSink?

    public init(settings: AuditSettings, gatewayAETitle: String, hostname: String = ProcessInfo.processInfo.hostName,
                drainTimeout: TimeInterval = 5, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        self.drainTimeout = drainTimeout
        let processID = String(ProcessInfo.processInfo.processIdentifier)
        source = AuditSource(id: settings.sourceID ?? "\(hostname)@\(gatewayAETitle)", enterpriseSiteID: settings.enterpriseSiteID)
        gateway = AuditNode(userID: processID, alternativeUserID: "AETITLES=" + gatewayAETitle, host: hostname)
        format = SyslogFormat(facility: settings.syslog?.facility ?? SyslogFormat.authpriv, hostname: hostname, processID: processID)
        spool = try AuditSpool(directory: settings.syslog == nil ? nil : settings.spool, limitBytes: settings.spoolLimit.bytes,
                               limitCount: settings.spoolMaxMessages, logger: logger)
        switch settings.syslog?.transport {
        case .udp: channel = UDPSyslogChannel(host: settings.syslog!.host, port: settings.syslog!.port)
        case .tls: channel = TLSSyslogChannel(target: settings.syslog!)
        case nil: channel = nil
        }
        file = settings.file.map(AuditFileSink.init(url:))
        Gauge(label: "dicom_gateway_audit_spool_messages").record(spool.count)
    }

    /// Queues a message; returns at once (the sender thread writes it).
    public func record(_ message: AuditMessage) {
        condition.lock()
        pending.append(message)
        condition.signal()
        condition.unlock()
    }

    public func run() async throws {
        start()
        recordApplicationActivity(started: true)
        try? await gracefulShutdown()
        recordApplicationActivity(started: false)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.stopAndWait()
                done.resume()
            }
        }
    }

    /// Records Application Start or Stop (110100) for this gateway; `run()` does both.
    public func recordApplicationActivity(started: Bool) {
        record(.applicationActivity(started: started, gateway: gateway, source: source))
    }

    /// Starts the sender thread (idempotent); `run()` calls it.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return }
        running = true
        let thread = Thread { [self] in loop() }
        thread.name = "audit-sender"
        thread.start()
    }

    /// Asks the sender to write what is queued, drain the spool (up to `drainTimeout`) and stop; waits for it.
    public func stopAndWait() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running && !finished { condition.wait() }
        condition.unlock()
    }

    /// Messages waiting for the collector (spooled), for tests and the dashboard.
    public var spooledCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return spoolCountSnapshot
    }

    /// Messages dropped from a full spool since the start.
    public var droppedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedSnapshot
    }

    private var spoolCountSnapshot = 0
    private var droppedSnapshot = 0

    private func loop() {
        var retryAt: Date?
        var delay: TimeInterval = 0.25
        var failing = false
        var drainUntil: Date?
        while true {
            condition.lock()
            while pending.isEmpty && !stopping {
                guard channel != nil, spool.count > 0 else { condition.wait(); continue }
                guard let at = retryAt else { break }
                if !condition.wait(until: at) { break }
            }
            let batch = pending
            pending = []
            let stop = stopping
            condition.unlock()

            write(batch)
            if stop && drainUntil == nil { drainUntil = Date().addingTimeInterval(drainTimeout) }
            if let channel, retryAt.map({ $0 <= Date() }) ?? true {
                retryAt = nil
                do {
                    while let data = try spool.first() {
                        try channel.send(data)
                        spool.removeFirst()
                        Counter(label: "dicom_gateway_audit_messages_total", dimensions: [("transport", channel.name), ("outcome", "sent")]).increment()
                        if failing {
                            failing = false
                            delay = 0.25
                            logger.notice("audit collector reachable again", metadata: ["transport": "\(channel.name)", "spooled": "\(spool.count)"])
                        }
                    }
                } catch {
                    Counter(label: "dicom_gateway_audit_messages_total", dimensions: [("transport", channel.name), ("outcome", "failed")]).increment()
                    if !failing {
                        logger.error("audit collector unreachable: messages are kept in the spool", metadata: [
                            "transport": "\(channel.name)", "error": "\(error)", "spooled": "\(spool.count)",
                        ])
                    }
                    failing = true
                    retryAt = Date().addingTimeInterval(delay)
                    delay = min(delay * 2, 5)
                }
            }
            publish()
            if stop, let until = drainUntil {
                condition.lock()
                let more = !pending.isEmpty
                condition.unlock()
                if more { continue }
                if channel == nil || spool.count == 0 || Date() >= until { break }
                if let at = retryAt { Thread.sleep(until: min(at, until)) }
            }
        }
        if spool.count > 0 {
            logger.warning("audit sender stopped with messages not yet sent",
                           metadata: ["spooled": "\(spool.count)", "kept": "\(spool.directory != nil)"])
        }
        channel?.close()
        file?.close()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Writes new messages to the file and the spool.
    private func write(_ batch: [AuditMessage]) {
        guard !batch.isEmpty else { return }
        let lines = batch.map { $0.xml() }
        if let file {
            do {
                try file.append(lines)
                Counter(label: "dicom_gateway_audit_messages_total", dimensions: [("transport", "file"), ("outcome", "sent")]).increment(by: batch.count)
            } catch {
                Counter(label: "dicom_gateway_audit_messages_total", dimensions: [("transport", "file"), ("outcome", "failed")]).increment(by: batch.count)
                logger.error("cannot write the audit file", metadata: ["error": "\(error)"])
            }
        }
        guard channel != nil else { return }
        let messages = zip(batch, lines).map { format.message(xml: $1, outcome: $0.event.outcome, at: $0.event.dateTime) }
        let before = spool.dropped
        do {
            try spool.append(messages)
        } catch {
            logger.error("cannot write the audit spool", metadata: ["error": "\(error)"])
        }
        if spool.dropped > before {
            Counter(label: "dicom_gateway_audit_dropped_total").increment(by: spool.dropped - before)
        }
    }

    private func publish() {
        Gauge(label: "dicom_gateway_audit_spool_messages").record(spool.count)
        condition.lock()
        spoolCountSnapshot = spool.count
        droppedSnapshot = spool.dropped
        condition.unlock()
    }
}
