import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Orthanc 1.10 with DICOM TLS as a pull source the gateway calls: the scheduled pull (C-FIND,
/// then C-MOVE to the gateway, whose sub-operations Orthanc sends to the gateway's TLS port), a
/// reporter's federated query and its C-MOVE of a study not yet cached (pull-through fetch) all
/// reach Orthanc over TLS. Nothing can have gone over plain TCP: Orthanc's DICOM port speaks only
/// TLS (a plain C-ECHO to it fails, checked here), the node is `tls: required` and pinned, so the
/// gateway calls it over TLS only and refuses its plain associations, and no such refusal was
/// audited.
@Suite(.serialized) struct OrthancTLSPullTests {
    @Test func theGatewayPullsQueriesAndFetchesFromOrthancOverTLS() async throws {
        _ = TestPKI.directory
        let dir = TestDirectory("orthanc-tls-pull")
        let (orthancPort, tlsPort, hubPort) = (Net.freePort(), Net.freePort(), Net.freePort())
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(orthancPort), issuer: RTH, roles: [source],
                         tls: required, certificate_subject: "O=Trust A,CN=trusta-pacs", pull: { interval: 2s, lookback: 1d } }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [reporter], federated_query: true }
            """, gatewayExtra: "tls: { port: \(tlsPort), certificate: \(TestPKI.path("gateway.crt")), "
                + "private_key: \(TestPKI.path("gateway.key")), trusted: \(TestPKI.path("ca.crt")) }")
        let orthanc = try OrthancPeer(aeTitle: "TRUSTA_PACS", in: dir, dicomPort: orthancPort, extraConfig: [
            "DicomTlsEnabled": true,
            "DicomTlsCertificate": TestPKI.path("trusta.crt"),
            "DicomTlsPrivateKey": TestPKI.path("trusta.key"),
            "DicomTlsTrustedCertificates": TestPKI.path("ca.crt"),
            "DicomTlsRemoteCertificateRequired": true,
            "SynchronousCMove": true,
            "DicomModalities": ["gateway": ["AET": "NETGW", "Host": "127.0.0.1", "Port": tlsPort, "UseDicomTls": true]],
        ])
        try await orthanc.start()
        defer { orthanc.stop() }
        let today = TrustStudy(patientID: "TLS-PULL", patientName: "Doe^Jane", issuer: nil, studyDate: FederationTests.today, instances: 3)
        let older = TrustStudy(patientID: "TLS-PULL", patientName: "Doe^Jane", issuer: nil, studyDate: "20200101",
                               studyDescription: "CT chest", instances: 2)
        try await orthanc.load([today, older], writingIn: dir.sub("a-files"))

        // Orthanc's DICOM port refuses plain TCP: whatever reached it went over TLS.
        let plainEcho = try await CacheQR.dcmtk("echoscu", ["-aet", "NETGW", "-aec", "TRUSTA_PACS", "-to", "5", "127.0.0.1", "\(orthancPort)"], in: dir)
        #expect(plainEcho.status != 0, "Orthanc must not answer plain TCP: \(plainEcho.output)")

        _ = try await OffPool.run { try gateway.start() }
        defer { _ = gateway.terminate() }
        let received = dir.sub("hub")
        let hub = PeerProcess("storescp", ["+uf", "-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        #expect(try await OffPool.run { Net.waitForListener(hubPort) })

        // 1. The scheduled pull: today's study, C-FIND then C-MOVE over TLS, into the cache.
        let pulled = await FederationTests.waitFor(60) { FederationTests.cachedCounts(gateway)[today.studyUID] == 3 }
        #expect(pulled, "not pulled over TLS: \(FederationTests.cachedCounts(gateway))\n\(gateway.peer?.output.suffix(3000) ?? "")\n\(orthanc.log.suffix(2000))")
        #expect(FederationTests.cachedCounts(gateway)[older.studyUID] == nil, "a study outside the look-back window was pulled")
        #expect(FederationTests.auditCount(gateway, event: "pull", studyUID: today.studyUID) >= 1)

        // 2. A federated query asks Orthanc over TLS: the older study is NEARLINE at the gateway.
        var keys = DicomAttributes()
        keys[.queryRetrieveLevel] = "STUDY"
        keys[.patientID] = "TLS-PULL"
        keys[.studyInstanceUID] = ""
        keys[.instanceAvailability] = ""
        let (matches, result) = try await DicomClient(callingAE: "HUB_READ").find(gateway.node, model: .studyRoot, keys: keys)
        #expect(result.status.isSuccess)
        let availability = Dictionary(uniqueKeysWithValues: matches.map { ($0.string(.studyInstanceUID) ?? "", $0.string(.instanceAvailability) ?? "") })
        #expect(availability == [today.studyUID: "ONLINE", older.studyUID: "NEARLINE"], "\(matches)")

        // 3. The reporter's C-MOVE of the older study: fetched from Orthanc over TLS, then delivered.
        let move = try await ProcessRun.run("/usr/bin/movescu", [
            "-S", "-aet", "HUB_READ", "-aec", "NETGW", "-aem", "HUB_READ", "127.0.0.1", "\(gateway.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(older.studyUID)"], in: dir, timeout: 120)
        #expect(move.status == 0, "\(move.combined)")
        let delivered = ((try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []).count
        #expect(delivered == 2, "the reporter received \(delivered) of 2\n\(gateway.peer?.output.suffix(3000) ?? "")")
        #expect(FederationTests.cachedCounts(gateway)[older.studyUID] == 2)
        #expect(FederationTests.auditCount(gateway, event: "pull", studyUID: older.studyUID) == 1)

        // No association of the trust's was refused for coming over plain TCP or with another certificate.
        let alerts = try WorklistPeers.rows(gateway, "SELECT outcome, detail FROM audit WHERE event = 'security-alert'", [])
        #expect(alerts.isEmpty, "\(alerts.map { "\($0["outcome"] as String? ?? ""): \($0["detail"] as String? ?? "")" })")
    }
}
