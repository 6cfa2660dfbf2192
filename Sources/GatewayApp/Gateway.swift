import DicomCore
import DicomNetwork
import Foundation
import GatewayAdmin
import GatewayAudit
import GatewayConfig
import GatewayDICOMweb
import GatewayRetrieval
import GatewayRouting
import GatewayStore
import Logging
import Prometheus
import ServiceLifecycle

/// The composition root: builds the gateway's services from a configuration and runs them in a
/// `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT. A library, so tests boot it.
public final class Gateway: Sendable {
    public var configuration: GatewayConfiguration { holder.current }
    public let holder: ConfigurationHolder
    public let dicomServer: DicomServer
    public let index: CacheIndex
    let recovery: CacheRecovery
    let retention: RetentionService
    let delivery: DeliveryService
    /// Files prepared in advance for incoming instances: one flush per acknowledgement.
    let preparedFiles: PreparedFiles
    let pulls: PullScheduler
    let limitsCheck: CachedLimitsCheck
    /// The reporting worklist: its review and its webhook notifications.
    let worklist: WorklistCoordinator
    let worklistReview: WorklistService
    /// Whether this node runs the singletons; the leader lock when the index is on PostgreSQL.
    let leadership: Leadership
    let leaderLock: PostgresLeaderLock?
    let bell: PostgresWorkBell?
    let deliverySignal: DeliverySignal
    let worklistNotifier: WorklistNotifier
    /// The operators' HTTP API, dashboard and metrics; nil when `http.enabled` is false.
    let admin: AdminServer?
    /// PS3.15 audit messages to syslog and/or a file; nil when `audit:` names neither.
    public let auditTrail: AuditTrail?
    public let startedAt: Date
    let logger: Logger

    /// Prepares storage and binds the DICOM port (errors surface here, before `run`).
    /// - Parameter metrics: the registry `/metrics` exports; `serve` bootstraps swift-metrics
    ///   with it so the gateway's counters land there.
    public init(configuration: GatewayConfiguration, sourcePath: String? = nil, logger: Logger = Logger(label: "dicom-gateway"),
                metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                onHTTPListening: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        holder = ConfigurationHolder(configuration, sourcePath: sourcePath)
        let started = Date()
        startedAt = started
        self.logger = logger
        try DicomRuntime.bootstrap(logger: Logger(label: "dcmtk"), dcmtkLevel: configuration.logging.dcmtkLevel.swiftLogLevel)
        let paths = InstancePath(configuration)
        try DurableFile.makeDirectories(paths.incomingDirectory)
        Self.removeStaleIncoming(paths.incomingDirectory, logger: logger)
        Self.removeStaleOutgoing(paths.outgoingDirectory, logger: logger)
        index = try Self.openIndex(configuration, logger: logger)
        index.node = configuration.cluster.nodeID
        if let store = index.store as? PostgresIndexStore {
            leadership = Leadership(leading: false)
            leaderLock = PostgresLeaderLock(settings: store.settings, logger: logger)
            bell = PostgresWorkBell(settings: store.settings, node: configuration.cluster.nodeID, logger: logger)
        } else {
            leadership = .alone()
            leaderLock = nil
            bell = nil
        }
        // Before anything is audited: every entry recorded from here on also becomes its PS3.15 message.
        auditTrail = configuration.audit.isEnabled
            ? try AuditTrail(settings: configuration.audit, gatewayAETitle: configuration.gateway.aeTitle.value, logger: logger)
            : nil
        index.setAuditObserver(auditTrail.map(AuditTrailObserver.init(trail:)))
        // Before anything parses a file: what the previous run was doing if it crashed.
        AbnormalEnd.review(try CrashJournal.open(at: paths.local + "/.crash-journal"), index: index, paths: paths, logger: logger)
        // A start that fails from here on (a port in use...) is not an abnormal end of this run.
        var ready = false
        defer { if !ready { CrashJournal.close() } }
        recovery = CacheRecovery(index: index, paths: paths, logger: logger)
        let inputLimits = Self.inputLimits(configuration.limits)
        _ = try recovery.run { path in
            // Unindexed files are parsed only within the input limits, and announced in the crash journal.
            let verdict = DicomFile.checkLimits(path, inputLimits)
            if !verdict.isOK {
                let moved = (try? AbnormalEnd.quarantineFile(path, paths: paths)) ?? path
                throw DicomNetworkError(code: .file, message: "breaks the input limits (\(verdict.text)); moved to \(moved)")
            }
            let relative = path.hasPrefix(paths.root + "/") ? String(path.dropFirst(paths.root.count + 1)) : path
            let attributes = try CrashJournal.during(.recovery(path: relative)) { () throws(DicomNetworkError) in
                try DicomFile.readAttributes(path)
            }
            return (attributes, attributes.string(.sopClassUID) ?? "", attributes.string(.transferSyntaxUID) ?? TransferSyntax.explicitVRLittleEndian)
        }
        // Files cached before the input limits existed: those still to be sent are checked now,
        // before any delivery worker parses them; the rest in the background.
        limitsCheck = CachedLimitsCheck(index: index, paths: paths, limits: Self.inputLimits(configuration.limits), logger: logger)
        limitsCheck.pass(outstandingOnly: true)
        let limits = RetentionRunner.Limits(
            maxBytes: configuration.storage.retention.maxSize?.bytes, maxAgeDays: configuration.storage.retention.maxAgeDays)
        retention = RetentionService(
            runner: RetentionRunner(index: index, paths: paths, limits: limits, logger: logger,
                                    isBusy: { [index] in index.hasUndeliveredWork(studyUID: $0) },
                                    evicted: { [paths] study, series in
                                        MetadataCache.forget(in: DicomWebWADO.metadataDirectory(paths), studyUID: study, seriesUIDs: series)
                                    }),
            interval: .seconds(60), logger: logger,
            sweep: { [index, paths, logger] in
                let removed = MetadataCache.sweep(in: DicomWebWADO.metadataDirectory(paths)) { kind, uid in
                    kind == .series ? index.holds(seriesUID: uid) : index.holds(studyUID: uid)
                }
                if removed > 0 { logger.notice("removed the kept DICOMweb metadata of \(removed) series or stud(ies) no longer cached") }
            }, leadership: leadership)
        var ring: (@Sendable (String) -> Void)?
        if let bell { ring = { bell.ring($0) } }
        let signal = DeliverySignal(ring: ring)
        deliverySignal = signal
        delivery = DeliveryService(holder: holder, index: index, paths: paths, signal: signal, logger: logger)
        let sink = IngestSink()
        let access = DicomSourceAccess(holder: holder, sink: sink)
        let fetcher = StudyFetcher(configuration: { [holder] in holder.current }, index: index, retriever: access, logger: logger)
        pulls = PullScheduler(configuration: { [holder] in holder.current }, index: index, querier: access, fetcher: fetcher,
                              classify: { [holder] attributes in Self.classify(attributes, holder) }, leadership: leadership,
                              logger: logger)
        let federation = Federation(holder: holder, index: index, querier: access, fetcher: fetcher, logger: logger)
        let g = configuration.gateway
        worklist = WorklistCoordinator(holder: holder, index: index, signal: signal, logger: logger)
        preparedFiles = PreparedFiles(root: paths.root, runPrefix: paths.preparedRunPrefix, logger: logger)
        preparedFiles.start()  // now, so files are ready when the first association comes
        let provider = CacheServiceProvider(configuration: holder, index: index, deliverySignal: signal, federation: federation,
                                            worklist: worklist, preparedFiles: preparedFiles, logger: logger)
        sink.provider = provider
        worklistReview = WorklistService(coordinator: worklist, leadership: leadership, logger: logger)
        worklistNotifier = WorklistNotifier(holder: holder, index: index, logger: logger)
        admin = configuration.http.enabled
            ? try AdminServer(settings: configuration.http, index: index,
                              control: RunningGatewayControl(holder: holder, index: index, signal: signal, startedAt: started, logger: logger,
                                                             worklistCoordinator: worklist),
                              metrics: metrics, logger: logger,
                              mounts: !configuration.dicomweb.enabled ? [] : [
                                  DicomWebWADO.mount(configuration.dicomweb, holder: holder, index: index, paths: paths, logger: logger),
                                  DicomWebQIDO.mount(configuration.dicomweb, holder: holder, index: index, logger: logger),
                                  DicomWebMount.routes(configuration.dicomweb, provider: provider, worklist: worklist, logger: logger),
                              ],
                              onListening: onHTTPListening)
            : nil
        var listener = DicomServer.Configuration(
            port: g.port, bindAddress: g.bind, maxAssociations: g.maxAssociations, maxPDU: UInt32(g.maxPDU),
            acseTimeout: Int(g.acseTimeout.components.seconds), dimseTimeout: Int(g.dimseTimeout.components.seconds),
            temporaryDirectory: paths.incomingDirectory)
        let gate = configuration.limits
        let (requestSeconds, requestAttoseconds) = gate.associationRequestTimeout.components
        listener.associationRequestTimeoutMilliseconds = Int(requestSeconds) * 1000 + Int(requestAttoseconds / 1_000_000_000_000_000)
        listener.maxPendingPerAddress = gate.maxPendingPerAddress
        listener.maxPending = gate.maxPending
        listener.inputLimits = Self.inputLimits(gate)
        if let tls = try GatewayTLS.start(g.tls, logger: logger) {
            listener.tls = tls
            listener.tlsPort = g.tls?.port ?? 2762
            listener.plainListener = g.port != 0
        }
        dicomServer = try DicomServer(
            configuration: listener,
            provider: provider,
            logger: logger)
        ready = true
    }

    /// Runs until SIGTERM/SIGINT (or cancellation), then stops gracefully.
    public func run() async throws {
        logger.info("dicom-gateway starting", metadata: [
            "ae_title": "\(configuration.gateway.aeTitle)", "port": "\(dicomServer.port)",
            "storage": "\(configuration.storage.path.path)",
        ])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: dicomServer), .init(service: delivery, successTerminationBehavior: .ignore),
            .init(service: pulls, successTerminationBehavior: .ignore),
            .init(service: limitsCheck, successTerminationBehavior: .ignore),
            .init(service: worklistReview, successTerminationBehavior: .ignore),
            .init(service: worklistNotifier, successTerminationBehavior: .ignore),
            .init(service: ClusterService(index: index, leadership: leadership, lock: leaderLock, node: configuration.cluster.nodeID,
                                          address: "\(configuration.gateway.bind):\(dicomServer.port)", logger: logger),
                  successTerminationBehavior: .ignore),
        ]
        if let admin { services.append(.init(service: admin)) }
        if let bell { services.append(.init(service: ClusterBellService(bell: bell, signal: deliverySignal))) }
        // Before the listeners, so it stops after them: no instance is received into a file it removes.
        services.insert(.init(service: PreparedFilesService(files: preparedFiles)), at: 0)
        // First, so it stops last: the other services' last entries (and Application Stop) are sent.
        if let auditTrail { services.insert(.init(service: auditTrail), at: 0) }
        if configuration.storage.retention.isEnabled {
            services.append(.init(service: retention, successTerminationBehavior: .ignore))
        }
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        signal(SIGHUP, SIG_IGN)
        hangup.setEventHandler { [holder, index, logger, dicomServer] in
            _ = RunningGatewayControl.reload(holder, index: index, actor: "SIGHUP", logger: logger)
            GatewayTLS.reload(holder.current.gateway.tls, server: dicomServer, index: index, logger: logger)
        }
        hangup.resume()
        defer { hangup.cancel() }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        shutDown()
    }

    /// After every service has stopped: flush the index and mark the shutdown clean, so the next
    /// start skips reconciliation.
    public func shutDown() {
        preparedFiles.close()  // after the listeners stopped: nothing receives into them any more
        index.close()
        recovery.markCleanShutdown()
        CrashJournal.close()
        logger.info("dicom-gateway stopped cleanly")
    }

    /// The class the `priorities` rules give a study (pulled studies have no DIMSE priority).
    static func classify(_ attributes: DicomAttributes, _ holder: ConfigurationHolder) -> PriorityClass {
        holder.router.classify(RoutedInstance(attributes: attributes, timeOfDay: .local())).priority
    }

    /// The `limits:` section as the DICOM layer takes it.
    static func inputLimits(_ settings: LimitsSettings) -> InputLimits {
        var limits = InputLimits()
        limits.maxSequenceDepth = settings.maxSequenceDepth
        limits.maxElements = settings.maxElements
        limits.maxValueLength = settings.maxValueLength.bytes
        limits.maxDatasetBytes = settings.maxDatasetSize.bytes
        return limits
    }

    /// Coerced copies made for sending (deliveries, retrieves) are made again when needed.
    static func removeStaleOutgoing(_ directory: String, logger: Logger) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory), !names.isEmpty else { return }
        for name in names where name.hasSuffix(".dcm") { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
        logger.info("removed \(names.count) outgoing cop(ies) left by an earlier run")
    }

    /// Partial files from a previous run were never acknowledged: remove them.
    static func removeStaleIncoming(_ directory: String, logger: Logger) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var removed = 0
        for name in names where name.hasSuffix(".part") {
            if (try? FileManager.default.removeItem(atPath: directory + "/" + name)) != nil { removed += 1 }
        }
        if removed > 0 { logger.notice("removed \(removed) partial incoming file(s) left by an earlier run") }
    }
}
