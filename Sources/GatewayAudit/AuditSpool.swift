import Foundation
import Logging

/// A bounded FIFO of syslog messages waiting for the collector: one file per message in a
/// directory (`audit.spool`, kept across restarts), or memory only when no directory is set.
///
/// Beyond `limitBytes` or `limitCount` the oldest messages are dropped, counted in `dropped`
/// and logged: the audit trail never fills the disk or stops the gateway.
/// Not thread-safe: the audit sender's thread owns it.
final class AuditSpool {
    let directory: URL?
    let limitBytes: Int64
    let limitCount: Int
    let logger: Logger
    private var entries: [(sequence: UInt64, size: Int64, data: Data?)] = []
    private var nextSequence: UInt64 = 1
    private(set) var bytes: Int64 = 0
    private(set) var dropped = 0

    var count: Int { entries.count }

    init(directory: URL?, limitBytes: Int64, limitCount: Int, logger: Logger) throws {
        self.directory = directory
        self.limitBytes = limitBytes
        self.limitCount = limitCount
        self.logger = logger
        guard let directory else { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            if name.hasSuffix(".tmp") {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
                continue
            }
            guard name.hasSuffix(".syslog"), let sequence = UInt64(name.dropLast(7)) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? Int64) ?? 0
            entries.append((sequence, size, nil))
        }
        entries.sort { $0.sequence < $1.sequence }
        bytes = entries.reduce(0) { $0 + $1.size }
        nextSequence = (entries.last?.sequence ?? 0) + 1
        if !entries.isEmpty {
            logger.notice("audit spool holds messages from before the restart", metadata: ["messages": "\(entries.count)", "spool": "\(directory.path)"])
        }
        trim()
    }

    /// Appends messages, durable (fsync'd, with their directory) when the spool is a directory.
    func append(_ messages: [Data]) throws {
        guard !messages.isEmpty else { return }
        for data in messages {
            let sequence = nextSequence
            nextSequence += 1
            if let directory {
                let final = directory.appendingPathComponent(Self.name(sequence))
                let temporary = directory.appendingPathComponent(Self.name(sequence) + ".tmp")
                try Self.writeSynced(data, to: temporary)
                guard rename(temporary.path, final.path) == 0 else { throw AuditTransportError("cannot rename \(temporary.path): \(errnoText())") }
                entries.append((sequence, Int64(data.count), nil))
            } else {
                entries.append((sequence, Int64(data.count), data))
            }
            bytes += Int64(data.count)
        }
        if let directory { Self.syncDirectory(directory) }
        trim()
    }

    /// The oldest message, or nil when empty.
    func first() throws -> Data? {
        guard let entry = entries.first else { return nil }
        if let data = entry.data { return data }
        let url = directory!.appendingPathComponent(Self.name(entry.sequence))
        return try Data(contentsOf: url)
    }

    /// Removes the oldest message (sent).
    func removeFirst() {
        guard !entries.isEmpty else { return }
        let entry = entries.removeFirst()
        bytes -= entry.size
        if let directory { unlink(directory.appendingPathComponent(Self.name(entry.sequence)).path) }
    }

    private func trim() {
        var lost = 0
        while !entries.isEmpty, bytes > limitBytes || entries.count > limitCount {
            removeFirst()
            lost += 1
        }
        guard lost > 0 else { return }
        dropped += lost
        logger.error("audit spool full: oldest messages dropped", metadata: [
            "dropped": "\(lost)", "dropped_total": "\(dropped)", "limit_bytes": "\(limitBytes)", "limit_messages": "\(limitCount)",
        ])
    }

    static func name(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".syslog"
    }

    static func writeSynced(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditTransportError("cannot create \(url.path): \(errnoText())") }
        defer { close(fd) }
        try writeAll(fd, data, path: url.path)
        guard fsync(fd) == 0 else { throw AuditTransportError("cannot fsync \(url.path): \(errnoText())") }
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AuditTransportError("cannot write \(path): \(errnoText())")
                }
                offset += n
            }
        }
    }

    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// A transport or spool failure, with what failed and where.
public struct AuditTransportError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
