import Foundation

/// A mutex with a closure API (Foundation's NSLock, wrapped so call sites stay short).
final class NSLockShim: @unchecked Sendable {
    // Safe: NSLock is thread-safe; this type only forwards to it.
    private let lock = NSLock()
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// Runs blocking DCMTK calls on a thread of their own, never on Swift's cooperative pool.
public enum BlockingThread {
    public static func run<T: Sendable>(name: String = "dicom-scu", _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
    }
}
