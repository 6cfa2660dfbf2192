import CDcmtk
import DicomCore
import Foundation
import Logging
import ServiceLifecycle

/// The DICOM listener (SCP): accepts associations up to a limit, each on a thread of its own, and
/// hands every request to a `DicomServiceProvider`. A `Service`: on graceful shutdown it stops
/// accepting, lets in-flight commands finish (up to `shutdownGrace`), then joins every thread.
///
/// ```swift
/// let server = try DicomServer(configuration: .init(port: 11112, temporaryDirectory: tmp), provider: cache)
/// try await ServiceGroup(services: [server], logger: logger).run()
/// ```
public final class DicomServer: Service, @unchecked Sendable {
    // Safe: `handle` is set in init and freed in deinit only; the C acceptor is thread-safe for
    // stop/active-count calls, and `run` is entered once (guarded by `lock`).
    public struct Configuration: Sendable {
        public var port: Int
        /// IPv4 address to listen on; "", "0.0.0.0" or "::" listen on every interface.
        public var bindAddress: String
        public var maxAssociations: Int
        public var maxPDU: UInt32
        public var acseTimeout: Int
        public var dimseTimeout: Int
        public var temporaryDirectory: String
        public var shutdownGrace: Int
        /// Before association (see `LimitsSettings`): how long a connection may take to send its
        /// A-ASSOCIATE-RQ, and how many such connections may wait, per address and in all.
        public var associationRequestTimeoutMilliseconds = 5_000
        public var maxPendingPerAddress = 32
        public var maxPending = 512
        /// What a received data set may contain, checked before anything parses it.
        public var inputLimits = InputLimits()
        /// DICOM TLS: a listener context and the TLS port (0 = any free port); nil for none.
        public var tls: TLSContext?
        public var tlsPort = 2762
        /// False: no plain listener, TLS only (needs `tls`).
        public var plainListener = true

        public init(
            port: Int, bindAddress: String = "127.0.0.1", maxAssociations: Int = 32, maxPDU: UInt32 = 131_072, acseTimeout: Int = 30, dimseTimeout: Int = 60,
            temporaryDirectory: String, shutdownGrace: Int = 30
        ) {
            self.port = port
            self.bindAddress = bindAddress
            self.maxAssociations = maxAssociations
            self.maxPDU = maxPDU
            self.acseTimeout = acseTimeout
            self.dimseTimeout = dimseTimeout
            self.temporaryDirectory = temporaryDirectory
            self.shutdownGrace = shutdownGrace
        }
    }

    public let configuration: Configuration
    private let handle: OpaquePointer
    /// The TLS context new connections use (kept alive here; replaced by `replaceTLS`).
    private var tlsContext: TLSContext?
    private let box: Unmanaged<ProviderBox>
    private let lock = NSLockShim()
    private var started = false
    private let logger: Logger

    /// Binds the port now, so a port in use is reported here and not later.
    public init(configuration: Configuration, provider: some DicomServiceProvider, logger: Logger = Logger(label: "dicom.server"))
        throws(DicomNetworkError)
    {
        self.configuration = configuration
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: configuration.temporaryDirectory, withIntermediateDirectories: true)
        } catch {
            throw DicomNetworkError(code: .file, message: "cannot create \(configuration.temporaryDirectory): \(error.localizedDescription)")
        }
        let box = Unmanaged.passRetained(ProviderBox(provider))
        var handlers = ProviderBox.handlers(context: box.toOpaque())
        var st = cdcm_status.empty()
        let pointer: OpaquePointer? = configuration.temporaryDirectory.withCString { tmp in
            configuration.bindAddress.withCString { bind in
            var cfg = cdcm_scp_config(
                bind_address: bind, port: Int32(configuration.port), max_associations: Int32(configuration.maxAssociations),
                max_pdu: configuration.maxPDU, acse_timeout: Int32(configuration.acseTimeout),
                dimse_timeout: Int32(configuration.dimseTimeout), temp_dir: tmp,
                association_request_timeout_ms: Int32(clamping: configuration.associationRequestTimeoutMilliseconds),
                max_pending_per_address: Int32(clamping: configuration.maxPendingPerAddress),
                max_pending: Int32(clamping: configuration.maxPending),
                limits: configuration.inputLimits.c, tls: configuration.tls?.pointer,
                tls_port: Int32(configuration.tlsPort))
            if configuration.tls != nil, !configuration.plainListener { cfg.port = -1 }
            return cdcm_scp_create(&cfg, &handlers, &st)
            }
        }
        guard let pointer else {
            box.release()
            throw DicomNetworkError(code: .listen, message: st.textString)
        }
        self.handle = pointer
        self.box = box
        self.tlsContext = configuration.tls
    }

    deinit {
        cdcm_scp_free(handle)
        box.release()
    }

    /// The port actually listened on (differs from the configuration when it asked for port 0).
    public var port: Int { Int(cdcm_scp_port(handle)) }
    public var activeAssociations: Int { Int(cdcm_scp_active_associations(handle)) }
    /// The DICOM TLS port listened on, or nil without TLS.
    public var tlsPort: Int? {
        let p = Int(cdcm_scp_tls_port(handle))
        return p >= 0 ? p : nil
    }

    /// New TLS connections use `context` from now on (certificates reloaded); open ones keep theirs.
    public func replaceTLS(_ context: TLSContext) throws(DicomNetworkError) {
        guard context.role == .listener else {
            throw DicomNetworkError(code: .invalidArgument, message: "a client TLS context cannot serve the listener")
        }
        let done: Bool = lock.withLock {
            guard cdcm_scp_set_tls(handle, context.pointer) == 0 else { return false }
            tlsContext = context
            return true
        }
        if !done { throw DicomNetworkError(code: .invalidArgument, message: "the DICOM listener has no TLS port to reload") }
    }

    /// Stops accepting; in-flight commands finish within the grace period. Thread-safe, idempotent.
    public func stop(grace: Int? = nil) {
        cdcm_scp_stop(handle, Int32(grace ?? configuration.shutdownGrace))
    }

    public func run() async throws {
        let first = lock.withLock { () -> Bool in
            defer { started = true }
            return !started
        }
        guard first else { throw DicomNetworkError(code: .invalidArgument, message: "the DICOM server is already running") }
        var listening: Logger.Metadata = ["max_associations": "\(configuration.maxAssociations)"]
        if configuration.tls == nil || configuration.plainListener { listening["port"] = "\(port)" }
        if let tlsPort { listening["tls_port"] = "\(tlsPort)" }
        logger.info("DICOM listener started", metadata: listening)
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await BlockingThread.run(name: "dicom-acceptor") { [self] in acceptUntilStopped() }
            } onCancel: {
                self.stop(grace: 0)
            }
        } onGracefulShutdown: {
            self.stop()
        }
        logger.info("DICOM listener stopped", metadata: ["port": "\(port)"])
    }

    /// Accepts associations on the calling thread until `stop`: `run()` calls it on a thread of
    /// its own; a caller that must not wait for Swift's cooperative pool to start the acceptor (a
    /// test whose other tasks block that pool) may call it on its own thread instead of `run()`.
    public func acceptUntilStopped() {
        var st = cdcm_status.empty()
        if cdcm_scp_run(handle, &st) != 0 {
            logger.critical("the DICOM listener failed and stopped", metadata: ["port": "\(port)", "error": "\(st.textString)"])
        }
    }
}

/// An opaque C handle passed to the acceptor thread.
struct SendableHandle: @unchecked Sendable {
    // Safe: the acceptor functions of cdcm_scp are designed to be called from another thread.
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
