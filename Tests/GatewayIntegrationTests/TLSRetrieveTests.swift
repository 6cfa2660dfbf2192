import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import GRDB
import Testing

/// Retrieve requests arriving over DICOM TLS from a reporter pinned to its certificate: a C-MOVE
/// whose sub-operations go over TLS to `storescp +tls`, a C-GET whose instances come back on the
/// TLS association, and a C-FIND from DCMTK's `findscu +tls`. DCMTK 3.6.7's `movescu` and `getscu`
/// have no TLS options (only `findscu`, `storescu`, `echoscu` and `storescp` do), so pynetdicom
/// with an `ssl.SSLContext` is the requester for C-MOVE and C-GET. The reporter is
/// `tls: required`: the same request over plain TCP is rejected.
@Suite(.serialized) struct TLSRetrieveTests {
    static let script = """
        import os, ssl, sys
        from pydicom.dataset import Dataset
        from pynetdicom import AE, evt, build_role
        from pynetdicom.sop_class import (CTImageStorage, StudyRootQueryRetrieveInformationModelGet,
                                          StudyRootQueryRetrieveInformationModelMove)
        mode, port, aet, study, target = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        tls = None
        if len(sys.argv) > 6:
            ca, cert, key = sys.argv[6:9]
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(ca)
            ctx.load_cert_chain(cert, key)
            ctx.check_hostname = False
            tls = (ctx, None)
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = study
        def on_store(event):
            ds = event.dataset
            ds.file_meta = event.file_meta
            ds.save_as(os.path.join(target, ds.SOPInstanceUID + ".dcm"), enforce_file_format=True)
            return 0x0000
        ae = AE(ae_title=aet)
        if mode == "move":
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
            assoc = ae.associate("127.0.0.1", port, ae_title="NETGW", tls_args=tls)
            responses = (lambda: assoc.send_c_move(query, target, StudyRootQueryRetrieveInformationModelMove))
        else:
            ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
            ae.add_requested_context(CTImageStorage)
            assoc = ae.associate("127.0.0.1", port, ae_title="NETGW", tls_args=tls,
                                 ext_neg=[build_role(CTImageStorage, scp_role=True)],
                                 evt_handlers=[(evt.EVT_C_STORE, on_store)])
            responses = (lambda: assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet))
        if not assoc.is_established:
            print("NOT ESTABLISHED"); sys.exit(2)
        for status, _ in responses():
            if status and "NumberOfCompletedSuboperations" in status and status.Status not in (0xFF00, 0xFF01):
                print("FINAL 0x%04x completed %d failed %d" % (status.Status, status.NumberOfCompletedSuboperations,
                                                               status.get("NumberOfFailedSuboperations", 0)))
            elif status and status.Status not in (0xFF00, 0xFF01):
                print("FINAL 0x%04x" % status.Status)
        assoc.release()
        """

    /// The gateway with a TLS listener; VIEWER (storescp +tls with trusta's certificate) and HUB
    /// (the reporter, reporter's certificate) are `tls: required` and pinned.
    static func boot(_ label: String, viewerPort: Int) async throws -> (GatewayUnderTest, Int) {
        _ = TestPKI.directory
        let tlsPort = Net.freePort()
        let yaml = """
            gateway: { tls: { port: \(tlsPort), certificate: \(TestPKI.path("gateway.crt")), private_key: \(TestPKI.path("gateway.key")), trusted: \(TestPKI.path("ca.crt")) } }
            nodes:
              SRC: { ae_title: MODALITY1, roles: [source] }
              VIEWER: { ae_title: VIEWER, host: 127.0.0.1, port: \(viewerPort), roles: [destination], tls: required, certificate_sha256: "\(try TestPKI.fingerprint("trusta"))" }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(Net.freePort()), roles: [reporter], tls: required,
                     certificate_subject: "CN=reporter,O=Reporting", move_destinations: [VIEWER] }
            """
        let parsed = try GatewayConfiguration.parse(yaml: yaml, sourceName: "tls-retrieve.yaml", baseDirectory: URL(fileURLWithPath: "/"))
        let gw = try await CacheQR.boot(label) { c in
            c.gateway.tls = parsed.gateway.tls
            c.nodes = parsed.nodes
        }
        return (gw, tlsPort)
    }

    /// The retrieve script as HUB_READ; over TLS with the reporter's certificate unless `tls` is false.
    static func retrieve(_ gw: GatewayUnderTest, _ mode: String, port: Int, study: String, target: String, tls: Bool = true)
        async throws -> (status: Int32, output: String)
    {
        let path = gw.directory.path + "/retrieve.py"
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        let credentials = tls ? [TestPKI.path("ca.crt"), TestPKI.path("reporter.crt"), TestPKI.path("reporter.key")] : []
        return try await PythonPeer.process(path, [mode, "\(port)", "HUB_READ", study, target] + credentials,
                                            logDirectory: gw.directory.path).runOffPool(timeout: 120)
    }

    static func audit(_ gw: GatewayUnderTest) throws -> [AuditRecord] {
        try gw.gateway.index.read { db in try db.fetchAll(AuditRecord.self, "SELECT * FROM audit ORDER BY id") }
    }

    @Test func aCMoveOverTLSFromAPinnedReporterReachesTheTLSDestination() async throws {
        let viewerPort = Net.freePort()
        let (gw, tlsPort) = try await Self.boot("tls-cmove", viewerPort: viewerPort)
        defer { Task { await gw.stop() } }
        let out = gw.directory.sub("viewer")
        let scp = try TLSOutboundTests.storescp(gw.directory, port: viewerPort, certificate: "trusta", out: out)
        defer { scp.stop() }
        let study = TestData.newUID()
        try await CacheQR.storescu(gw, try TestData.study(in: gw.directory.sub("in"), count: 3, studyUID: study))

        let moved = try await Self.retrieve(gw, "move", port: tlsPort, study: study, target: "VIEWER")
        #expect(moved.status == 0 && moved.output.contains("FINAL 0x0000 completed 3 failed 0"), "\(moved.output)")
        #expect(try await CacheQR.eventually(timeout: 30) { TLSOutboundTests.received(out) == 3 },
                "storescp +tls holds \(TLSOutboundTests.received(out)) of 3")
        #expect(try Self.audit(gw).contains { $0.event == "retrieve" && $0.actor == "HUB_READ" && $0.outcome == "0x0000" })

        // findscu +tls from the same pinned reporter finds the study.
        let (status, found) = try await CacheQR.dcmtk("findscu", TestPKI.dcmtkClient("reporter") + [
            "-S", "-aet", "HUB_READ", "-aec", "NETGW", "127.0.0.1", "\(tlsPort)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)", "-k", "NumberOfStudyRelatedInstances",
        ], in: gw.directory)
        #expect(status == 0 && found.contains(study) && found.contains("Find Response: 1 (Pending)"), "\(found)")

        // The reporter is tls: required: the same C-MOVE over plain TCP is rejected and alerted.
        let plain = try await Self.retrieve(gw, "move", port: gw.port, study: study, target: "VIEWER", tls: false)
        #expect(plain.output.contains("NOT ESTABLISHED"), "\(plain.output)")
        #expect(try await CacheQR.eventually { try Self.audit(gw).contains { $0.event == "security-alert" && $0.outcome == "tls-required" } })
        #expect(TLSOutboundTests.received(out) == 3)
    }

    @Test func aCGetOverTLSReturnsTheInstancesOnTheTLSAssociation() async throws {
        let (gw, tlsPort) = try await Self.boot("tls-cget", viewerPort: Net.freePort())
        defer { Task { await gw.stop() } }
        let study = TestData.newUID()
        let sent = try TestData.study(in: gw.directory.sub("in"), count: 4, studyUID: study)
        try await CacheQR.storescu(gw, sent)
        let out = gw.directory.sub("got")
        let got = try await Self.retrieve(gw, "get", port: tlsPort, study: study, target: out)
        #expect(got.status == 0 && got.output.contains("FINAL 0x0000 completed 4 failed 0"), "\(got.output)")
        let received = try CacheQR.filesBySOP(in: out)
        #expect(Set(received.keys) == Set((1...4).map { "\(study).1.\($0)" }), "\(received.keys.sorted())")
    }
}
