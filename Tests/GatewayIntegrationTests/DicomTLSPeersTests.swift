import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import Testing

/// Other DICOM TLS peers against the gateway: pynetdicom with an `ssl.SSLContext` as a sender
/// and as a TLS destination, DCMTK's findscu over TLS, a Nagle-on sender over TLS (no delayed-ACK
/// stall: TCP_NODELAY and the QUICKACK re-arm stay on TLS sockets), and hostile data over TLS
/// answered exactly as over plain TCP.
@Suite(.serialized) struct DicomTLSPeersTests {
    static let scuScript = """
        import ssl, sys
        from pydicom import dcmread
        from pynetdicom import AE
        port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(ca)
        ctx.load_cert_chain(cert, key)
        ctx.check_hostname = False
        datasets = [dcmread(p) for p in sys.argv[5:]]
        ae = AE(ae_title="PYSCU")
        for ds in datasets:
            ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        assoc = ae.associate("127.0.0.1", port, ae_title="NETGW", tls_args=(ctx, None))
        if not assoc.is_established:
            print("NOT ESTABLISHED"); sys.exit(2)
        for ds in datasets:
            status = assoc.send_c_store(ds)
            print("STATUS 0x%04x" % status.Status)
        assoc.release()
        """

    static let scpScript = """
        import os, ssl, sys, time
        from pynetdicom import AE, evt, AllStoragePresentationContexts
        port, ca, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(ca)
        ctx.load_cert_chain(cert, key)
        def on_store(event):
            ds = event.dataset
            ds.file_meta = event.file_meta
            ds.save_as(os.path.join(out, ds.SOPInstanceUID + ".dcm"), write_like_original=False)
            return 0x0000
        ae = AE(ae_title="PYSCP")
        ae.supported_contexts = AllStoragePresentationContexts
        from pynetdicom.sop_class import Verification
        ae.add_supported_context(Verification)
        ae.start_server(("127.0.0.1", port), block=True, ssl_context=ctx, evt_handlers=[(evt.EVT_C_STORE, on_store)])
        """

    @Test func pynetdicomStoresOverTLSWithAnSSLContext() async throws {
        let (gw, tlsPort) = try await DicomTLSTests.boot("tls-pyscu")
        defer { Task { await gw.stop() } }
        let script = gw.directory.path + "/scu.py"
        try Self.scuScript.write(toFile: script, atomically: true, encoding: .utf8)
        let files = try TestData.study(in: gw.directory.sub("in"), count: 3)
        let (status, output) = try await PythonPeer.process(
            script, ["\(tlsPort)", TestPKI.path("ca.crt"), TestPKI.path("trusta.crt"), TestPKI.path("trusta.key")] + files,
            logDirectory: gw.directory.path).runOffPool(timeout: 120)
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "STATUS 0x0000").count - 1 == 3, "\(output)")
        #expect(try await CacheQR.eventually { gw.storedFiles().count == 3 })
    }

    @Test func theGatewayDeliversToAPynetdicomTLSDestination() async throws {
        let dir = TestDirectory("tls-pyscp")
        let port = Net.freePort(), out = dir.sub("received")
        let script = dir.path + "/scp.py"
        try Self.scpScript.write(toFile: script, atomically: true, encoding: .utf8)
        let scp = try PythonPeer.process(script, ["\(port)", TestPKI.path("ca.crt"), TestPKI.path("trustb.crt"),
                                                  TestPKI.path("trustb.key"), out], logDirectory: dir.path).start()
        defer { scp.stop() }
        #expect(Net.waitForListener(port))
        try DicomRuntime.bootstrap()
        TLSContext.client = try TLSContext(role: .client, .init(certificate: TestPKI.path("gateway.crt"), privateKey: TestPKI.path("gateway.key"),
                                                                trusted: TestPKI.path("ca.crt")))
        var node = DicomNode(aeTitle: "PYSCP", host: "127.0.0.1", port: port)
        node.tls = TLSPeerRequirement(certificateSubject: DistinguishedName("CN=trustb-pacs,O=Trust B"))
        let files = try TestData.study(in: dir.sub("in"), count: 4)
        let outcomes = try await DicomClient(callingAE: "NETGW").store(files: files, to: node)
        #expect(outcomes.filter(\.succeeded).count == 4, "\(outcomes.map(\.result))")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).count == 4)
    }

    @Test func findscuQueriesOverTLS() async throws {
        let (gw, tlsPort) = try await DicomTLSTests.boot("tls-find")
        defer { Task { await gw.stop() } }
        let study = TestData.newUID()
        try await CacheQR.storescu(gw, try TestData.study(in: gw.directory.sub("in"), count: 2, studyUID: study))
        let (status, output) = try await CacheQR.dcmtk("findscu", TestPKI.dcmtkClient("reporter") + [
            "-S", "-aet", "REPORTER1", "-aec", "NETGW", "127.0.0.1", "\(tlsPort)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)", "-k", "NumberOfStudyRelatedInstances",
        ], in: gw.directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains(study) && output.contains("Find Response: 1 (Pending)"), "\(output)")
    }

    /// As NaglePeerTests, over TLS: a Nagle-on storescu +tls against the same send with Nagle off.
    @Test func nagleOnTLSSenderHasNoDelayedAckStalls() async throws {
        let (gw, tlsPort) = try await DicomTLSTests.boot("tls-nagle")
        defer { Task { await gw.stop() } }
        func timedSend(_ label: String, nagle: Bool) async throws -> Duration {
            let files = try TestData.study(in: gw.directory.sub(label), count: NaglePeerTests.instances)
            let sender = PeerProcess("storescu", TestPKI.dcmtkClient("trusta") + ["-aec", "NETGW", "127.0.0.1", "\(tlsPort)"] + files,
                                     nagle: nagle, logDirectory: gw.directory.path)
            let clock = ContinuousClock()
            let start = clock.now
            let (status, out) = try await sender.runOffPool(timeout: 60)
            #expect(status == 0, "\(out)")
            return clock.now - start
        }
        let baseline = try await timedSend("nodelay", nagle: false)
        let withNagle = try await timedSend("nagle", nagle: true)
        #expect(withNagle - baseline < NaglePeerTests.limit,
                "\(NaglePeerTests.instances) instances from a Nagle-on storescu over TLS took \(withNagle), \(baseline) with Nagle off")
    }

    @Test func hostileNestingOverTLSGetsTheSameAnswerAsOverPlainTCP() async throws {
        let (gw, tlsPort) = try await DicomTLSTests.boot("tls-hostile")
        defer { Task { await gw.stop() } }
        let tls = ["--tls", TestPKI.path("ca.crt"), TestPKI.path("trusta.crt"), TestPKI.path("trusta.key")]
        for depth in [10, 100, 100_000] {
            let plain = try await HostileDatasetTests.wire(["store-nested", "\(depth)"], port: gw.port, dir: gw.directory)
            let secure = try await HostileDatasetTests.wire(tls + ["store-nested", "\(depth)"], port: tlsPort, dir: gw.directory)
            #expect(HostileDatasetTests.status(plain) == (depth <= 64 ? 0 : 0xC000), "\(plain)")
            #expect(HostileDatasetTests.status(secure) == HostileDatasetTests.status(plain), "depth \(depth): TLS \(secure), plain \(plain)")
            #expect(secure["error_comment"] as? String == plain["error_comment"] as? String)
        }
        let echo = try await DicomTLSTests.echo(gw, tlsPort, certificate: "trusta")
        #expect(echo.status == 0, "\(echo.output)")
    }
}
