import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Peers that leave Nagle on (Debian's DCMTK, many PACS) write each DIMSE message as two small
/// segments; unless our side ACKs at once (TCP_NODELAY + re-armed TCP_QUICKACK on every DICOM
/// socket), every instance stalls ~44 ms on the delayed-ACK timer: 200 instances take ~8.8 s.
/// Without the stall they take well under a second; 4 s leaves a 2x margin below the stall.
@Suite(.serialized) struct NaglePeerTests {
    static let instances = 200
    static let limit: Duration = .seconds(4)

    /// Measured against the same send with Nagle off, so that a slow disk (each acknowledgement
    /// waits for two flushes) is not taken for a stall: the stall adds ~8.8 s, the limit is 4 s.
    @Test func nagleOnStorescuSendsToGatewayWithoutDelayedAckStalls() async throws {
        let gw = try GatewayUnderTest(label: "nagle")
        #expect(await gw.answersEcho())
        func timedSend(_ label: String, nagle: Bool) async throws -> Duration {
            let files = try TestData.study(in: gw.directory.sub(label), count: Self.instances)
            let sender = PeerProcess("storescu", ["-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, nagle: nagle,
                                     logDirectory: gw.directory.path)
            let clock = ContinuousClock()
            let start = clock.now
            let (status, out) = try await sender.runOffPool(timeout: 60)
            #expect(status == 0, "\(out)")
            return clock.now - start
        }
        let baseline = try await timedSend("nodelay", nagle: false)
        let withNagle = try await timedSend("nagle", nagle: true)
        #expect(gw.storedFiles().count == 2 * Self.instances)
        #expect(withNagle - baseline < Self.limit,
                "\(Self.instances) instances from a Nagle-on storescu took \(withNagle), \(baseline) with Nagle off (more than \(Self.limit) apart): the gateway's ACKs wait for the delayed-ACK timer")
        await gw.stop()
    }

    @Test func ourClientSendsToNagleOnStorescpWithoutDelayedAckStalls() async throws {
        let dir = TestDirectory("nagle")
        let port = Net.freePort()
        let received = dir.sub("received")
        let scp = try PeerProcess("storescp", ["-aet", "STORESCP", "-od", received, "\(port)"], nagle: true,
                                  logDirectory: dir.path).start()
        #expect(Net.waitForListener(port))
        let files = try TestData.study(in: dir.sub("in"), count: Self.instances)
        try DicomRuntime.bootstrap()
        let node = DicomNode(aeTitle: "STORESCP", host: "127.0.0.1", port: port)
        let client = DicomClient(callingAE: "NETGW")
        try await client.echo(node)
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes = try await client.store(files: files, to: node)
        let elapsed = clock.now - start
        #expect(outcomes.filter { $0.succeeded }.count == Self.instances)
        #expect(try FileManager.default.contentsOfDirectory(atPath: received).count == Self.instances)
        #expect(elapsed < Self.limit,
                "\(Self.instances) instances to a Nagle-on storescp took \(elapsed) (limit \(Self.limit)): our ACKs wait for the delayed-ACK timer")
        scp.stop()
    }
}
