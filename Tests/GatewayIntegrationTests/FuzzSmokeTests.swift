import Foundation
import Testing

/// Bounded runs of the project's fuzzers (longer runs by hand: scripts/fuzz/README.md): the
/// input-limits scanner's self-test and libFuzzer target (clang, ASan + UBSan, DCMTK parsing
/// whatever the scanner passes), and the network fuzzer against a real gateway process.
@Suite(.serialized) struct FuzzSmokeTests {
    static let fuzz = PythonPeer.repositoryRoot + "/scripts/fuzz"

    @Test func scannerSelfTestPasses() async throws {
        let dir = TestDirectory("fuzz")
        let (status, output) = try await PeerProcess("/bin/bash", [Self.fuzz + "/run", "selftest"], logDirectory: dir.path)
            .runOffPool(timeout: 600)
        #expect(status == 0, "\(output.suffix(4000))")
    }

    @Test func scannerFuzzerFindsNothingIn20Seconds() async throws {
        let dir = TestDirectory("fuzz")
        let (status, output) = try await PeerProcess("/bin/bash", [Self.fuzz + "/run", "scanner", "20"], logDirectory: dir.path)
            .runOffPool(timeout: 600)
        #expect(status == 0, "\(output.suffix(4000))")
        #expect(output.contains("stat::number_of_executed_units"), "libFuzzer's final stats are missing: \(output.suffix(2000))")
    }

    /// The Swift targets (libFuzzer through -sanitize=fuzzer, ASan): the YAML config loader and the
    /// C-FIND identifier to index query translation. The first run builds them into
    /// .build-fuzz-swift (a few minutes); the HTTP target, which needs all of NIO and Hummingbird
    /// instrumented, runs by hand (scripts/fuzz/run-swift http SECONDS).
    @Test(arguments: ["config", "query"])
    func swiftFuzzTargetFindsNothingIn10Seconds(_ target: String) async throws {
        let dir = TestDirectory("fuzz")
        let (status, output) = try await PeerProcess("/bin/bash", [Self.fuzz + "/run-swift", target, "10"], logDirectory: dir.path)
            .runOffPool(timeout: 1500)
        #expect(status == 0, "\(output.suffix(4000))")
        #expect(output.contains("no crash in 10 s"), "\(output.suffix(2000))")
    }

    @Test func networkFuzzerLeavesTheGatewayUpWithoutLeaks() async throws {
        let dir = TestDirectory("fuzz")
        let gateway = try GatewayProcess(directory: dir)
        let process = try gateway.start()
        let (status, output) = try await PythonPeer.process(Self.fuzz + "/net-fuzz", [
            "--port", "\(gateway.port)", "--seed", "7", "--iterations", "400", "--seconds", "90",
            "--pid", "\(process.process.processIdentifier)",
        ], logDirectory: dir.path).runOffPool(timeout: 240)
        #expect(status == 0, "\(output.suffix(4000))\n--- gateway:\n\(process.output.suffix(2000))")
        #expect(output.contains("400 iterations"), "\(output.suffix(2000))")
        #expect(process.process.isRunning)
        #expect(gateway.terminate() == 0)
    }
}
