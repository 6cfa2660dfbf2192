import Dispatch

/// Runs index reads and writes (SQLite, synchronous) on a dispatch thread, so a slow query never
/// holds one of the few threads of Swift's cooperative pool that the DICOM side shares.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .utility).async {
            continuation.resume(with: Result { try work() })
        }
    }
}
