import DicomNetwork
import Foundation

/// Runs blocking work (DCMTK calls, waiting for a child process) on a thread of its own, so a
/// test never holds one of Swift's few cooperative threads: the in-process gateway's own task
/// needs one to start, and suites run in parallel.
enum OffPool {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingThread.run(name: "test-off-pool", body)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass; returns its last value.
    static func waitUntil(timeout: Double, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }
}

extension PeerProcess {
    /// `wait(timeout:)` off the cooperative pool.
    func finish(timeout: Double = 60) async -> Int32 {
        (try? await OffPool.run { self.wait(timeout: timeout) }) ?? -1
    }

    /// Starts, waits off the cooperative pool, and returns (status, output).
    func runOffPool(timeout: Double = 60) async throws -> (status: Int32, output: String) {
        try start()
        let status = await finish(timeout: timeout)
        return (status, output)
    }
}

extension DCMTK {
    /// `run` without blocking a cooperative thread.
    static func runOffPool(_ tool: String, _ args: [String], in dir: TestDirectory, nagle: Bool = false, timeout: Double = 120)
        async throws -> (status: Int32, output: String)
    {
        try await PeerProcess(tool, args, nagle: nagle, logDirectory: dir.path).runOffPool(timeout: timeout)
    }
}
