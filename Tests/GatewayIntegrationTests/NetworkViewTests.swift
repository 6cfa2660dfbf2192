import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import Testing

/// With `identity.patient_id: prefix`, a reporter finds and retrieves a trust's patient by the
/// network Patient ID (RTH-12345) it sees on routed copies, and the trust by its own (12345):
/// findscu, movescu into a real storescp, getscu, against the gateway.
@Suite(.serialized) struct NetworkViewTests {
    @Test func reportersQueryAndRetrieveByTheNetworkPatientIDAndTheTrustSeesItsOwn() async throws {
        let hubPort = Net.freePort()
        let gw = try await CacheQR.boot("netview") { c in
            c.identity.patientID = .prefix
            c.nodes = [
                NodeConfig(name: "TRUST_A", aeTitle: "TRUSTA_PACS", issuer: "RTH", roles: [.source]),
                NodeConfig(name: "HUB", aeTitle: "HUB_READ", host: "127.0.0.1", port: hubPort, roles: [.reporter, .destination]),
            ]
        }
        let received = gw.directory.sub("hub")
        let hub = try PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: gw.directory.path).start()
        defer { hub.stop() }
        #expect(try await CacheQR.offPool { Net.waitForListener(hubPort) })
        let study = TestData.newUID()
        let files = try TestData.study(in: gw.directory.sub("in"), count: 2, studyUID: study, patientID: "12345")
        try await CacheQR.storescu(gw, files, callingAE: "TRUSTA_PACS")

        // The reporter asks by the network ID and is answered in it; IssuerOfPatientID, not asked, is not returned.
        let byNetworkID = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=RTH-12345", "StudyInstanceUID"],
                                                    callingAE: "HUB_READ")
        #expect(byNetworkID.matches.map { $0.string(.patientID) } == ["RTH-12345"], "\(byNetworkID.output)")
        #expect(byNetworkID.matches.first?.string(.studyInstanceUID) == study)
        #expect(byNetworkID.matches.first?[.issuerOfPatientID] == nil, "a key that was not asked for came back")
        // Asked by the trust's ID, the reporter still sees the network one.
        let byLocalID = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=12345", "StudyInstanceUID"],
                                                  callingAE: "HUB_READ")
        #expect(byLocalID.matches.map { $0.string(.patientID) } == ["RTH-12345"], "\(byLocalID.output)")
        // Patient root, issuer asked for: the origin's issuer with the network ID, as on routed copies.
        let patient = try await CacheQR.findscu(gw, model: "-P", ["QueryRetrieveLevel=PATIENT", "PatientID=RTH-12345", "IssuerOfPatientID"],
                                                callingAE: "HUB_READ")
        #expect(patient.matches.map { $0.string(.patientID) } == ["RTH-12345"], "\(patient.output)")
        #expect(patient.matches.first?.string(.issuerOfPatientID) == "RTH")
        // The trust sees its own patient by its own ID.
        let own = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=12345", "StudyInstanceUID"],
                                            callingAE: "TRUSTA_PACS")
        #expect(own.matches.map { $0.string(.patientID) } == ["12345"], "\(own.output)")
        // A network ID nobody has finds nothing.
        let nobody = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=RTH-99999"], callingAE: "HUB_READ")
        #expect(nobody.matches.isEmpty, "\(nobody.output)")

        // C-MOVE by the network ID at PATIENT level: the copies carry it.
        let (moveStatus, moveLog) = try await CacheQR.dcmtk("movescu", [
            "-P", "-aet", "HUB_READ", "-aec", "NETGW", "-aem", "HUB_READ", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=RTH-12345",
        ], in: gw.directory)
        #expect(moveStatus == 0, "\(moveLog)")
        let moved = try CacheQR.filesBySOP(in: received)
        #expect(moved.count == 2, "\(moveLog)")
        for path in moved.values {
            let attributes = try DicomFile.readAttributes(path)
            #expect(attributes.string(.patientID) == "RTH-12345")
            #expect(attributes.string(.issuerOfPatientID) == "RTH")
        }
        // C-GET by the reporter: the same.
        let got = gw.directory.sub("got")
        let (getStatus, getLog) = try await CacheQR.dcmtk("getscu", [
            "-S", "-aet", "HUB_READ", "-aec", "NETGW", "-od", got, "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=\(study)",
        ], in: gw.directory)
        #expect(getStatus == 0, "\(getLog)")
        let gotten = try CacheQR.filesBySOP(in: got)
        #expect(gotten.count == 2, "\(getLog)")
        #expect(try gotten.values.map { try DicomFile.readAttributes($0).string(.patientID) } == ["RTH-12345", "RTH-12345"])
        // The cache keeps the trust's bytes; no copy is left behind.
        #expect(try gw.storedFiles().map { try DicomFile.readAttributes($0).string(.patientID) } == ["12345", "12345"])
        let outgoing = (try? FileManager.default.contentsOfDirectory(atPath: gw.storageRoot + "/outgoing")) ?? []
        #expect(outgoing.isEmpty, "copies left in outgoing/: \(outgoing)")
        await gw.stop()
    }
}
