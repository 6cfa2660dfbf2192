import CDcmtk
import DicomCore
import Logging

/// Process-wide DCMTK set-up: TCP_NODELAY, no reverse DNS per association, and DCMTK's own log
/// forwarded into swift-log. Call `bootstrap` once, early, before any association.
public enum DicomRuntime {
    /// Initialises DCMTK and routes its log to `logger` at `dcmtkLevel` and above.
    /// Throws when the DICOM data dictionary is missing (nothing would work).
    public static func bootstrap(logger: Logger = Logger(label: "dcmtk"), dcmtkLevel: Logger.Level = .warning)
        throws(DicomNetworkError)
    {
        var text = [CChar](repeating: 0, count: 512)
        if cdcm_global_init(&text, text.count) != 0 {
            throw DicomNetworkError(
                code: .internalError, message: String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        LogBridge.shared.install(logger: logger, level: dcmtkLevel)
    }
}

/// Holds the logger DCMTK's callback writes to. Its context pointer lives for the whole process.
final class LogBridge: @unchecked Sendable {
    // Safe: `logger` is replaced only under `lock`; the callback reads it under the same lock.
    static let shared = LogBridge()
    private let lock = NSLockShim()
    private var logger = Logger(label: "dcmtk")

    func install(logger: Logger, level: Logger.Level) {
        lock.withLock { self.logger = logger }
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        cdcm_set_log_handler(Int32(Self.cdcmLevel(level)), { ctx, level, loggerName, message in
            guard let ctx, let message else { return }
            let bridge = Unmanaged<LogBridge>.fromOpaque(ctx).takeUnretainedValue()
            let text = String(cString: message)
            let name = loggerName.map { String(cString: $0) } ?? "dcmtk"
            bridge.log(level: Int(level), name: name, text: text)
        }, ctx)
    }

    private func log(level: Int, name: String, text: String) {
        let logger = lock.withLock { self.logger }
        let swiftLevel: Logger.Level
        switch level {
        case 0: swiftLevel = .trace
        case 1: swiftLevel = .debug
        case 2: swiftLevel = .info
        case 3: swiftLevel = .warning
        case 4: swiftLevel = .error
        default: swiftLevel = .critical
        }
        logger.log(level: swiftLevel, "\(text)", metadata: ["dcmtk.logger": "\(name)"])
    }

    static func cdcmLevel(_ level: Logger.Level) -> Int {
        switch level {
        case .trace: return 0
        case .debug: return 1
        case .info, .notice: return 2
        case .warning: return 3
        case .error: return 4
        case .critical: return 5
        }
    }
}
