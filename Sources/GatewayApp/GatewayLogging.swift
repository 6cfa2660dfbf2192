import Foundation
import GatewayConfig
import Logging

/// Sets up swift-log for the process from the `logging:` section (once per process).
public enum GatewayLogging {
    private static let once = OnceFlag()

    public static func bootstrap(_ settings: LoggingSettings) {
        once.run {
            let level = settings.level.swiftLogLevel
            LoggingSystem.bootstrap { label in
                var handler: LogHandler =
                    settings.format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

extension LogLevel {
    public var swiftLogLevel: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}

/// Runs a closure once per process.
final class OnceFlag: @unchecked Sendable {
    // Safe: `done` is read and written only under `lock`.
    private let lock = NSLock()
    private var done = false
    func run(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        body()
    }
}

/// One JSON object per line on stderr: time, level, label, message and metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        var object: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()), "level": level.rawValue, "label": label,
            "message": message.description,
        ]
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) { object[key] = value.description }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
           var text = String(data: data, encoding: .utf8) {
            text += "\n"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}
