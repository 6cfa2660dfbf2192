import Foundation
import Testing

/// `dicomweb: { enabled: false }`: the HTTP listener serves the operators' API and pages only;
/// DICOMweb and WADO-URI paths are not there at all.
@Suite struct DicomWebDisabledTests {
    @Test func turnedOffDicomwebAnswersNothingButTheAPIStillDoes() async throws {
        let dir = TestDirectory("dicomweb-disabled")
        let httpPort = Net.freePort()
        let gw = try GatewayProcess(directory: dir, extraYAML: """
            http: { port: \(httpPort) }
            dicomweb: { enabled: false }
            """)
        try gw.start()
        defer { _ = gw.terminate() }
        let probe = HTTPProbe(port: httpPort)
        let up = await OffPool.waitUntil(timeout: 30) { (try? probe.get("/health"))?.status == 200 }
        #expect(up)
        #expect(try probe.get("/api/v1/studies").status == 200)
        #expect(try probe.get("/dicom-web/studies").status == 404)
        #expect(try probe.get("/wado?requestType=WADO&studyUID=1.2&seriesUID=1.2.3&objectUID=1.2.3.4").status == 404)

        // The same gateway with the section on (the default) answers the search.
        #expect(gw.terminate() == 0)
        let on = try GatewayProcess(directory: TestDirectory("dicomweb-enabled"), extraYAML: "http: { port: \(httpPort) }")
        try on.start()
        defer { _ = on.terminate() }
        let again = await OffPool.waitUntil(timeout: 30) { (try? probe.get("/health"))?.status == 200 }
        #expect(again)
        #expect([200, 204].contains(try probe.get("/dicom-web/studies").status))
    }
}
