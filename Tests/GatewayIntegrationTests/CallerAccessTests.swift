import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import Testing

/// `accept_unknown_callers: false`: only AE titles listed under `nodes` may associate, and the
/// called AE title must be the gateway's own.
@Suite(.serialized) struct CallerAccessTests {
    static func closedGateway() throws -> GatewayUnderTest {
        try GatewayUnderTest(label: "access") { c in
            c.gateway.acceptUnknownCallers = false
            c.nodes = [NodeConfig(name: "CT_SCANNER", aeTitle: "CT01", roles: [.source])]
        }
    }

    @Test func unknownCallingAETitleIsRejectedAndConfiguredOneAccepted() async throws {
        let gw = try Self.closedGateway()
        let (status, out) = try await DCMTK.runOffPool("echoscu", ["-aet", "STRANGER", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status != 0, "\(out)")
        #expect(out.lowercased().contains("calling ae title not recogni"), "\(out)")
        #expect(out.lowercased().contains("permanent"), "\(out)")

        let (okStatus, okOut) = try await DCMTK.runOffPool("echoscu", ["-aet", "CT01", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(okStatus == 0, "\(okOut)")
        await gw.stop()
    }

    @Test func ourClientReportsCallingAETitleRejectionReadably() async throws {
        let gw = try Self.closedGateway()
        do {
            try await DicomClient(callingAE: "STRANGER").echo(gw.node)
            Issue.record("STRANGER is not a configured node and must be rejected")
        } catch let error as DicomNetworkError {
            #expect(error.code == .associationRejected)
            #expect(error.rejection?.isCallingAETitleNotRecognized == true, "\(String(describing: error.rejection))")
            #expect(error.rejection?.isTransient == false)
            #expect(error.message.contains("calling AE title not recognised"), "\(error.message)")
        }
        try await DicomClient(callingAE: "CT01").echo(gw.node)
        await gw.stop()
    }

    @Test func wrongCalledAETitleIsRejected() async throws {
        let gw = try Self.closedGateway()
        let (status, out) = try await DCMTK.runOffPool("echoscu", ["-aet", "CT01", "-aec", "WRONG", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status != 0, "\(out)")
        #expect(out.lowercased().contains("called ae title not recogni"), "\(out)")
        do {
            try await DicomClient(callingAE: "CT01").echo(DicomNode(aeTitle: "WRONG", host: "127.0.0.1", port: gw.port))
            Issue.record("a wrong called AE title must be rejected")
        } catch let error as DicomNetworkError {
            #expect(error.rejection?.isCalledAETitleNotRecognized == true, "\(String(describing: error.rejection))")
            #expect(error.message.contains("called AE title not recognised"), "\(error.message)")
        }
        await gw.stop()
    }

    @Test func wrongCalledAETitleIsRejectedEvenWhenUnknownCallersAreAccepted() async throws {
        let gw = try GatewayUnderTest(label: "access")
        let (status, out) = try await DCMTK.runOffPool("echoscu", ["-aet", "ANYONE", "-aec", "OTHERGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(status != 0, "\(out)")
        #expect(out.lowercased().contains("called ae title not recogni"), "\(out)")
        let (okStatus, okOut) = try await DCMTK.runOffPool("echoscu", ["-aet", "ANYONE", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"], in: gw.directory)
        #expect(okStatus == 0, "\(okOut)")
        await gw.stop()
    }
}
