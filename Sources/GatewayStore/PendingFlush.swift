import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A received file's bytes being made durable (fdatasync) on another thread while the caller
/// parses, routes and indexes it: on one association the sender waits for every acknowledgement,
/// so the device flush and the CPU work must overlap rather than follow each other.
public final class PendingFlush: @unchecked Sendable {
    // Safe: `outcome` is written once under `condition` and read under it.
    private let condition = NSCondition()
    private var outcome: Result<Void, StoreError>?
    public let path: String

    private static let queue = DispatchQueue(label: "dicom-gateway.file-flush", attributes: .concurrent)

    /// Starts flushing `path` now.
    public static func start(_ path: String) -> PendingFlush {
        let flush = PendingFlush(path: path)
        queue.async { flush.finish(Self.flush(path)) }
        return flush
    }

    private init(path: String) {
        self.path = path
    }

    /// Waits until the file's bytes are on the device; throws what the flush reported.
    public func wait() throws(StoreError) {
        condition.lock()
        while outcome == nil { condition.wait() }
        let result = outcome!
        condition.unlock()
        try result.get()
    }

    private func finish(_ result: Result<Void, StoreError>) {
        condition.lock()
        outcome = result
        condition.broadcast()
        condition.unlock()
    }

    private static func flush(_ path: String) -> Result<Void, StoreError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.io("cannot open \(path) to sync it", errno: errno)) }
        defer { close(fd) }
        // fdatasync covers the size and the blocks of a new file: what reading it back needs.
        guard fdatasync(fd) == 0 else { return .failure(.io("fdatasync of \(path) failed", errno: errno)) }
        return .success(())
    }
}
