import DicomCore
import DicomNetwork
import Foundation
import Testing

/// The DIMSE Priority (0000,0700) our SCU puts in requests reaches the peer as sent: storescp -d
/// prints each incoming C-STORE-RQ with its priority.
@Suite(.serialized) struct PriorityTests {
    /// The "Priority : ..." values of the C-STORE-RQ messages in a storescp -d log, in order.
    static func priorities(in log: String) -> [String] {
        log.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("Priority"), let colon = line.lastIndex(of: ":") else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    @Test(arguments: [DIMSEPriority.high, .low, .medium])
    func storeRequestCarriesThePriorityAsked(_ priority: DIMSEPriority) async throws {
        let dir = TestDirectory("priority")
        let port = Net.freePort()
        let scp = try PeerProcess("storescp", ["-d", "-aet", "STORESCP", "-od", dir.sub("received"), "\(port)"],
                                  logDirectory: dir.path).start()
        #expect(Net.waitForListener(port))
        let files = try TestData.study(in: dir.sub("in"), count: 2)
        try DicomRuntime.bootstrap()
        let outcomes = try await DicomClient(callingAE: "NETGW")
            .store(files: files, to: DicomNode(aeTitle: "STORESCP", host: "127.0.0.1", port: port), priority: priority)
        #expect(outcomes.allSatisfy { $0.succeeded })
        let seen = await OffPool.waitUntil(timeout: 5) { Self.priorities(in: scp.output).count >= 2 }
        #expect(seen, "no C-STORE-RQ priority in the storescp log:\n\(scp.output.suffix(3000))")
        #expect(Self.priorities(in: scp.output) == [priority.rawValue, priority.rawValue], "\(Self.priorities(in: scp.output))")
        scp.stop()
    }
}
