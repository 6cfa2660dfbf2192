import DicomCore
import DicomNetwork
import Foundation
import Testing

/// `max_associations`: associations beyond the limit are rejected (transient, local limit
/// exceeded) so callers retry later, and the slot is usable again once one is released.
@Suite(.serialized) struct AssociationLimitTests {
    /// Opens a verification association to the gateway, as a modality that keeps its association open.
    static func hold(_ gw: GatewayUnderTest, as ae: AETitle) throws -> DicomAssociation {
        try DicomAssociation.open(
            to: gw.node, callingAE: ae, contexts: [PresentationContextProposal(SOPClass.verification)],
            timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 10))
    }

    @Test func thirdAssociationIsRejectedAsLocalLimitExceededUntilOneIsReleased() async throws {
        let gw = try GatewayUnderTest(label: "limit") { c in c.gateway.maxAssociations = 2 }
        let first = try Self.hold(gw, as: "HOLDER1")
        let second = try Self.hold(gw, as: "HOLDER2")
        try first.echo()
        try second.echo()

        let (status, out) = try DCMTK.run("echoscu", ["-aet", "THIRD", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
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
        #expect(await gw.answersEcho(), "after a release the gateway must accept again")
        let (after, afterOut) = try DCMTK.run("echoscu", ["-aet", "THIRD", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(after == 0, "\(afterOut)")
        try second.echo()
        second.release()
        await gw.stop()
    }

    @Test func abortedAssociationsFreeTheirSlots() async throws {
        let gw = try GatewayUnderTest(label: "limit") { c in c.gateway.maxAssociations = 2 }
        for round in 0..<3 {
            let a = try Self.hold(gw, as: "ABORTER")
            let b = try Self.hold(gw, as: "ABORTER")
            try a.echo()
            a.abort()
            b.abort()
            #expect(await gw.answersEcho(), "round \(round): slots of aborted associations must be freed")
        }
        await gw.stop()
    }
}
