import DicomCore
import Foundation
import Testing

/// Orthanc 1.10 with DICOM TLS (`DicomTlsEnabled`, the test PKI's `trusta` certificate, the
/// caller's certificate required) as a trust on the network: it sends to the gateway over TLS,
/// the gateway delivers to it over TLS, and the gateway's CLI has it C-MOVE a study into the
/// gateway over TLS. The node is `tls: required` and pinned, so nothing here can have gone over
/// plain TCP: the gateway would have refused it.
@Suite(.serialized) struct OrthancTLSTests {
    @Test func orthancWithDicomTLSSendsToReceivesFromAndIsPulledByTheGateway() async throws {
        _ = TestPKI.directory
        let dir = TestDirectory("orthanc-tls")
        let orthancPort = Net.freePort()
        let tlsPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(orthancPort), issuer: RTH, roles: [source, destination],
                         tls: required, certificate_sha256: "\(try TestPKI.fingerprint("trusta"))" }
              SRC: { ae_title: MODALITY1, roles: [source] }
            routes:
              - { name: reports-home, from: [SRC], to: [TRUST_A] }
            """, gatewayExtra: "tls: { port: \(tlsPort), certificate: \(TestPKI.path("gateway.crt")), "
                + "private_key: \(TestPKI.path("gateway.key")), trusted: \(TestPKI.path("ca.crt")) }")
        try gateway.start()
        defer { _ = gateway.terminate() }
        let orthanc = try OrthancPeer(aeTitle: "TRUSTA_PACS", in: dir, dicomPort: orthancPort, extraConfig: [
            "DicomTlsEnabled": true,
            "DicomTlsCertificate": TestPKI.path("trusta.crt"),
            "DicomTlsPrivateKey": TestPKI.path("trusta.key"),
            "DicomTlsTrustedCertificates": TestPKI.path("ca.crt"),
            "DicomTlsRemoteCertificateRequired": true,
            "DicomModalities": ["gateway": ["AET": "NETGW", "Host": "127.0.0.1", "Port": tlsPort, "UseDicomTls": true]],
        ])
        try await orthanc.start()
        defer { orthanc.stop() }

        // 1. The trust sends a study to the gateway over TLS (Orthanc's C-STORE SCU).
        let sent = TestData.newUID()
        let ids = try await orthanc.upload(files: try TestData.study(in: dir.sub("sent"), count: 2, studyUID: sent, patientID: "TLS-1"))
        let store = try await orthanc.request("POST", "/modalities/gateway/store",
                                              body: try JSONSerialization.data(withJSONObject: ["Resources": ids, "Synchronous": true]),
                                              contentType: "application/json")
        #expect((store as? [String: Any])?["FailedInstancesCount"] as? Int ?? 0 == 0, "\(store)\n\(orthanc.log.suffix(2000))")
        let cached = try WorklistPeers.rows(gateway, "SELECT originNode, instanceCount FROM study WHERE studyUID = ?", [sent])
        #expect(cached.first?["originNode"] as String? == "TRUST_A", "\(gateway.peer?.output.suffix(2000) ?? "")")
        #expect(cached.first?["instanceCount"] as Int? == 2)

        // 2. The gateway delivers to the trust over TLS (a routed study from a modality): 2 + 3 instances there.
        let routed = TestData.newUID()
        let files = try TestData.study(in: dir.sub("routed"), count: 3, studyUID: routed, patientID: "TLS-2")
        let (status, output) = try DCMTK.run("storescu", ["-aet", "MODALITY1", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files, in: dir)
        #expect(status == 0, "\(output)")
        var instances = -1
        let deadline = Date().addingTimeInterval(30)
        while instances != 5 && Date() < deadline {
            instances = (try? await orthanc.statistics().instances) ?? -1
            if instances != 5 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(instances == 5, "Orthanc holds \(instances) instances; gateway:\n\(gateway.peer?.output.suffix(2000) ?? "")")

        // 3. The CLI asks the trust over TLS to C-MOVE a study it holds to the gateway, which
        //    Orthanc's sub-operations reach over TLS.
        let held = TestData.newUID()
        _ = try await orthanc.upload(files: try TestData.study(in: dir.sub("held"), count: 2, studyUID: held, patientID: "TLS-3"))
        let retrieve = try await ProcessRun.run(GatewayProcess.binary, [
            "retrieve", "TRUSTA_PACS@127.0.0.1:\(orthancPort)", "--calling-ae", "NETGW", "--study", held, "--move-to", "NETGW",
            "--tls", "--tls-cert", TestPKI.path("gateway.crt"), "--tls-key", TestPKI.path("gateway.key"),
            "--tls-trusted", TestPKI.path("ca.crt"),
        ], in: dir)
        #expect(retrieve.status == 0, "\(retrieve.combined)\n\(orthanc.log.suffix(2000))")
        #expect(retrieve.stdout.contains("completed 2, failed 0"), "\(retrieve.combined)")
        let pulled = try WorklistPeers.rows(gateway, "SELECT instanceCount FROM study WHERE studyUID = ?", [held])
        #expect(pulled.first?["instanceCount"] as Int? == 2)
    }
}
