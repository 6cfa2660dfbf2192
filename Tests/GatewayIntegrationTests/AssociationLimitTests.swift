import DicomCore
import DicomNetwork
import Foundation
import Testing

/// `max_associations`: associations beyond the limit are rejected (transient, local limit
/// exceeded) so callers retry later, and the slot is usable again once one is released.
@Suite(.serialized) struct AssociationLimitTests {
    /// Opens a verification association to the gateway, as a modality that keeps its association open.
    static func hold(_ gw: GatewayUnderTest, as ae: AETitle) async throws -> DicomAssociation {
        let node = gw.node
        return try await OffPool.run {
            try DicomAssociation.open(
                to: node, callingAE: ae, contexts: [PresentationContextProposal(SOPClass.verification)],
                timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 10))
        }
    }

    /// Lets the acceptor handle the readiness probe's bare TCP connection (see
    /// AcceptorRobustnessTests) so that it holds no slot when the test starts counting.
    static func warmUp(_ gw: GatewayUnderTest) async throws {
        try #require(await gw.answersEcho())
        try #require(await settle(gw, to: 0))
    }

    /// Waits until the gateway has finished with every association but `remaining`.
    static func settle(_ gw: GatewayUnderTest, to remaining: Int) async -> Bool {
        let server = gw.gateway.dicomServer
        return await OffPool.waitUntil(timeout: 5) { server.activeAssociations <= remaining }
    }

    @Test func thirdAssociationIsRejectedAsLocalLimitExceededUntilOneIsReleased() async throws {
        let gw = try GatewayUnderTest(label: "limit") { c in c.gateway.maxAssociations = 2 }
        try await Self.warmUp(gw)
        let first = try await Self.hold(gw, as: "HOLDER1")
        let second = try await Self.hold(gw, as: "HOLDER2")
        try first.echo()
        try second.echo()

        let (status, out) = try await DCMTK.runOffPool("echoscu", ["-aet", "THIRD", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status != 0, "echoscu must fail while both slots are held:\n\(out)")
        let lower = out.lowercased()
        #expect(lower.contains("rejected"), "\(out)")
        #expect(lower.contains("transient"), "\(out)")
        #expect(lower.contains("local limit exceeded"), "\(out)")

        let client = DicomClient(callingAE: "THIRD", timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 10))
        do {
            try await client.echo(gw.node)
            Issue.record("a third association must be rejected while the limit is reached")
        } catch let error as DicomNetworkError {
            #expect(error.code == .associationRejected, "\(error)")
            #expect(error.rejection?.isLocalLimitExceeded == true, "\(error) \(String(describing: error.rejection))")
            #expect(error.rejection?.isTransient == true, "\(String(describing: error.rejection))")
        }

        // The held associations were not disturbed by the rejections.
        try first.echo()
        try second.echo()

        first.release()
        #expect(await Self.settle(gw, to: 1), "the released association must free its slot")
        #expect(await gw.answersEcho(), "after a release the gateway must accept again")
        #expect(await Self.settle(gw, to: 1))
        let (after, afterOut) = try await DCMTK.runOffPool("echoscu", ["-aet", "THIRD", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(after == 0, "\(afterOut)")
        try second.echo()
        second.release()
        await gw.stop()
    }

    @Test func abortedAssociationsFreeTheirSlots() async throws {
        let gw = try GatewayUnderTest(label: "limit") { c in c.gateway.maxAssociations = 2 }
        try await Self.warmUp(gw)
        for round in 0..<3 {
            let a = try await Self.hold(gw, as: "ABORTER")
            let b = try await Self.hold(gw, as: "ABORTER")
            try a.echo()
            a.abort()
            b.abort()
            #expect(await Self.settle(gw, to: 0), "round \(round): slots of aborted associations must be freed")
            #expect(await gw.answersEcho(), "round \(round): the gateway must accept after aborts")
            #expect(await Self.settle(gw, to: 0))
        }
        await gw.stop()
    }
}
