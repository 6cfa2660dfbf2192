import DicomCore
import DicomNetwork
import Foundation
import Testing

/// QIDO-RS against real clients: dicomweb-client (the Python library viewers' and AI services'
/// tooling uses) searches at every level with filters, includefield, limit/offset and
/// fuzzymatching; the same searches against Orthanc 1.10 with Debian's DICOMweb plugin return the
/// same studies; DCMTK findscu finds them by C-FIND; OHIF v3's exact requests answered via curl.
@Suite(.serialized) struct QIDORSTests {
    static let client = #"""
        import json, sys
        from dicomweb_client.api import DICOMwebClient
        gateway, orthanc, a, b, c, series_a, out = sys.argv[1:8]

        def uid(d, tag):
            v = d.get(tag, {}).get("Value")
            return v[0] if v else None

        def searches(url):
            cl = DICOMwebClient(url=url)
            studies = lambda **kw: sorted(uid(d, "0020000D") for d in cl.search_for_studies(**kw))
            r = {
                "all": studies(),
                "patient": studies(search_filters={"PatientID": "QIDO1"}),
                "dates": studies(search_filters={"StudyDate": "20240301-20241231"}),
                "modality": studies(search_filters={"ModalitiesInStudy": "MR"}),
                "wildcard": studies(search_filters={"PatientID": "QID?2*"}),
                "uids": studies(search_filters={"StudyInstanceUID": a + "," + b}),
                "series": sorted(uid(d, "0020000E") for d in cl.search_for_series(a)),
                "instances": sorted(uid(d, "00080018") for d in cl.search_for_instances(a, series_a)),
            }
            return cl, r

        gw, report = searches(gateway)
        _, report["orthanc"] = searches(orthanc)
        # The gateway alone: includefield, counts, limit/offset, fuzzymatching, every level.
        a_study = [d for d in gw.search_for_studies(search_filters={"StudyInstanceUID": a}, fields=["StudyDescription"])][0]
        report["a_description"] = a_study["00081030"]["Value"][0]
        report["description_wildcard"] = sorted(uid(d, "0020000D") for d in gw.search_for_studies(search_filters={"StudyDescription": "Head*"}))
        report["a_counts"] = [a_study["00201206"]["Value"][0], a_study["00201208"]["Value"][0]]
        report["a_modalities"] = a_study["00080061"]["Value"]
        report["a_name_vr"] = a_study["00100010"]["vr"]
        report["page"] = [len(gw.search_for_studies(limit=2)), len(gw.search_for_studies(limit=2, offset=2))]
        report["fuzzy"] = len(gw.search_for_studies(fuzzymatching=True, search_filters={"PatientID": "QIDO1"}))
        report["all_series"] = len(gw.search_for_series())
        report["all_instances"] = len(gw.search_for_instances())
        series = gw.search_for_series(a)[0]
        report["series_fields"] = [series["00080060"]["Value"][0], series["00201209"]["Value"][0]]
        report["none"] = gw.search_for_studies(search_filters={"PatientID": "NOBODY"})
        json.dump(report, open(out, "w"))
        """#

    @Test func dicomwebClientFindsWhatOrthancsPluginAndFindscuFind() async throws {
        let dir = TestDirectory("qido")
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source], allow: [echo, store, find] }
            dicomweb: { cors_origins: [http://viewer.test:9000] }
            """)
        let orthanc = try OrthancPeer(aeTitle: try AETitle("ORTHANC"), in: dir, extraConfig: [
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "DicomWeb": ["Enable": true, "Root": "/dicom-web/"] as [String: Any],
        ])
        try await orthanc.start()
        defer { orthanc.stop() }
        try gateway.start()
        defer { _ = gateway.terminate() }
        let (a, b, c) = (TestData.newUID(), TestData.newUID(), TestData.newUID())
        var files = try TestData.study(in: dir.sub("a"), count: 3, studyUID: a, patientID: "QIDO1", modality: "CT",
                                       description: "Head stroke protocol", studyDate: "20240102")
        files += try TestData.study(in: dir.sub("b"), count: 2, studyUID: b, patientID: "QIDO2", modality: "MR",
                                    description: "Knee", studyDate: "20240310")
        files += try TestData.study(in: dir.sub("c"), count: 2, studyUID: c, patientID: "QIDO1", modality: "CT",
                                    description: "Chest", studyDate: "20240415")
        let (status, output) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files,
                                             in: dir)
        try #require(status == 0, "\(output)")
        _ = try await orthanc.upload(files: files)

        let out = dir.path + "/report.json", script = dir.path + "/qido.py"
        try Self.client.write(toFile: script, atomically: true, encoding: .utf8)
        let root = "http://127.0.0.1:\(gateway.httpPort)/dicom-web"
        let (clientStatus, clientOutput) = try PythonPeer.process(
            script, [root, "http://127.0.0.1:\(orthanc.httpPort)/dicom-web", a, b, c, a + ".1", out], logDirectory: dir.path
        ).run(timeout: 120)
        try #require(clientStatus == 0, "dicomweb-client failed:\n\(clientOutput.suffix(3000))\ngateway:\n\(gateway.peer?.output.suffix(2000) ?? "")")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let orthancReport = try #require(report["orthanc"] as? [String: Any])
        let expected: [String: [String]] = [
            "all": [a, b, c].sorted(), "patient": [a, c].sorted(), "dates": [b, c].sorted(), "modality": [b],
            "uids": [a, b].sorted(), "series": [a + ".1"], "instances": (1...3).map { "\(a).1.\($0)" },
        ]
        for (search, uids) in expected {
            #expect(report[search] as? [String] == uids, "gateway \(search): \(report[search] ?? "nil")")
            #expect(orthancReport[search] as? [String] == report[search] as? [String],
                    "\(search): Orthanc \(orthancReport[search] ?? "nil"), gateway \(report[search] ?? "nil")")
        }
        #expect(report["a_description"] as? String == "Head stroke protocol")
        // Wildcards: Orthanc 1.10's plugin answers these with nothing, so they are the gateway's alone.
        #expect(report["description_wildcard"] as? [String] == [a])
        #expect(report["wildcard"] as? [String] == [b])
        #expect(report["a_counts"] as? [Int] == [1, 3])
        #expect(report["a_modalities"] as? [String] == ["CT"])
        #expect(report["a_name_vr"] as? String == "PN")
        #expect(report["page"] as? [Int] == [2, 1])
        #expect(report["fuzzy"] as? Int == 2)
        #expect(report["all_series"] as? Int == 3)
        #expect(report["all_instances"] as? Int == 7)
        #expect(report["series_fields"] as? [AnyHashable] == ["CT", 3])
        #expect((report["none"] as? [Any])?.isEmpty == true)

        // The same studies by C-FIND.
        let (findStatus, found) = try DCMTK.run("findscu", ["-S", "-aet", "TRUSTA_PACS", "-aec", "NETGW", "-k", "QueryRetrieveLevel=STUDY",
                                                            "-k", "PatientID=QIDO1", "-k", "StudyInstanceUID", "127.0.0.1", "\(gateway.port)"],
                                                in: dir)
        #expect(findStatus == 0, "\(found)")
        let cfindUIDs = Set(found.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(0020,000d)"), let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close]).trimmingCharacters(in: CharacterSet(charactersIn: "\0 "))
        })
        #expect(cfindUIDs == [a, c], "\(found)")

        // OHIF v3's study list and series requests, exactly; the Warning for fuzzy matching; 400s.
        let list = try WADORetrieveTests.curl(
            "\(root)/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060", accept: "application/dicom+json", in: dir)
        #expect(list.status == 200 && list.contentType.hasPrefix("application/dicom+json"), "\(list.status) \(list.contentType)")
        let studies = try #require(try JSONSerialization.jsonObject(with: list.body) as? [[String: Any]])
        #expect(studies.count == 3)
        #expect(studies.allSatisfy { $0["00081030"] != nil && $0["00080061"] != nil && $0["00201208"] != nil && $0["00100020"] != nil })
        let seriesList = try WADORetrieveTests.curl("\(root)/studies/\(a)/series?includefield=0008103E%2C00080021", accept: nil, in: dir)
        #expect(seriesList.status == 200)
        #expect((try JSONSerialization.jsonObject(with: seriesList.body) as? [[String: Any]])?.first?["0020000E"] != nil)
        let warning = try PeerProcess("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", "\(root)/studies?fuzzymatching=true"],
                                      logDirectory: dir.path).run(timeout: 30).output
        #expect(warning.lowercased().contains("warning: 299"), "\(warning)")
        #expect(warning.contains("fuzzymatching parameter is not supported"), "\(warning)")
        #expect(try WADORetrieveTests.curl("\(root)/studies?limit=many", accept: nil, in: dir).status == 400)
        #expect(try WADORetrieveTests.curl("\(root)/studies?SOPInstanceUID=1.2.3", accept: nil, in: dir).status == 400)
        #expect(try WADORetrieveTests.curl("\(root)/studies?Rows=512", accept: nil, in: dir).status == 400)
        #expect(try WADORetrieveTests.curl("\(root)/studies?NoSuchThing=1&limit=1", accept: nil, in: dir).status == 200)

        // CORS: a preflight from the configured origin is answered; its GET is marked for it; another origin is not.
        func headers(_ args: [String]) throws -> String {
            try PeerProcess("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null"] + args, logDirectory: dir.path).run(timeout: 30).output.lowercased()
        }
        let preflight = try headers(["-X", "OPTIONS", "-H", "Origin: http://viewer.test:9000", "-H", "Access-Control-Request-Method: GET",
                                     "-H", "Access-Control-Request-Headers: authorization", "\(root)/studies"])
        #expect(preflight.contains("access-control-allow-origin: http://viewer.test:9000"), "\(preflight)")
        #expect(preflight.contains("access-control-allow-methods: get"), "\(preflight)")
        let allowed = try headers(["-H", "Origin: http://viewer.test:9000", "\(root)/studies"])
        #expect(allowed.hasPrefix("http/1.1 200") && allowed.contains("access-control-allow-origin: http://viewer.test:9000"), "\(allowed)")
        let other = try headers(["-H", "Origin: http://elsewhere.test", "\(root)/studies"])
        #expect(!other.contains("access-control-allow-origin"), "\(other)")
    }
}
