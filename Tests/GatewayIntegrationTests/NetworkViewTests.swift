import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import Testing

/// With `identity.patient_id: prefix`, a reporter finds and retrieves a trust's patient by the
/// network Patient ID (RTH-12345) it sees on routed copies, and the trust by its own (12345):
/// findscu, movescu into a real storescp, getscu, against the gateway.
@Suite(.serialized) struct NetworkViewTests {
    /// A gateway with `identity.patient_id: prefix`, the nodes given plus HUB (a reporter whose
    /// storescp receives C-MOVEs into `received`).
    static func gatewayWithHub(_ label: String, nodes: [NodeConfig]) async throws -> (GatewayUnderTest, PeerProcess, received: String) {
        let hubPort = Net.freePort()
        let gw = try await CacheQR.boot(label) { c in
            c.identity.patientID = .prefix
            c.nodes = nodes + [NodeConfig(name: "HUB", aeTitle: "HUB_READ", host: "127.0.0.1", port: hubPort, roles: [.reporter, .destination])]
        }
        let received = gw.directory.sub("hub")
        let hub = try PeerProcess("storescp", ["-aet", "HUB_READ", "-od", received, "\(hubPort)"], logDirectory: gw.directory.path).start()
        #expect(try await CacheQR.offPool { Net.waitForListener(hubPort) })
        return (gw, hub, received)
    }

    @Test func reportersQueryAndRetrieveByTheNetworkPatientIDAndTheTrustSeesItsOwn() async throws {
        // The trust queries the gateway too: a source may only echo and store unless allowed more.
        var trust = NodeConfig(name: "TRUST_A", aeTitle: "TRUSTA_PACS", issuer: "RTH", roles: [.source])
        trust.access.allow = [.echo, .store, .find]
        let (gw, hub, received) = try await Self.gatewayWithHub("netview", nodes: [trust])
        defer { hub.stop() }
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

    /// Two trusts whose local Patient IDs are both 12345 (different people): the network ID names
    /// one of them, in queries and in retrieves; a second system of trust A (same issuer, not the
    /// sender) sees trust A's own ID.
    @Test func aNetworkIDSelectsOnlyItsOwnTrustsPatientWhenTwoTrustsShareALocalID() async throws {
        let (gw, hub, received) = try await Self.gatewayWithHub("netview-two", nodes: [
            NodeConfig(name: "TRUST_A", aeTitle: "TRUSTA_PACS", issuer: "RTH", roles: [.source]),
            NodeConfig(name: "TRUST_A_WS", aeTitle: "TRUSTA_WS", issuer: "RTH", roles: [.reporter]),
            NodeConfig(name: "TRUST_B", aeTitle: "TRUSTB_PACS", issuer: "RGT", roles: [.source]),
        ])
        defer { hub.stop() }
        let studyA = TestData.newUID(), studyB = TestData.newUID()
        let filesA = try TestData.study(in: gw.directory.sub("a"), count: 2, studyUID: studyA, patientID: "12345")
        let filesB = try TestData.study(in: gw.directory.sub("b"), count: 3, studyUID: studyB, patientID: "12345")
        try await CacheQR.storescu(gw, filesA, callingAE: "TRUSTA_PACS")
        try await CacheQR.storescu(gw, filesB, callingAE: "TRUSTB_PACS")

        let findA = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=RTH-12345", "StudyInstanceUID"],
                                              callingAE: "HUB_READ")
        #expect(findA.matches.map { $0.string(.studyInstanceUID) } == [studyA], "\(findA.output)")
        let findB = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=RGT-12345", "StudyInstanceUID"],
                                              callingAE: "HUB_READ")
        #expect(findB.matches.map { $0.string(.studyInstanceUID) } == [studyB], "\(findB.output)")
        // The trust's other system (issuer RTH) sees trust A's patient by trust A's ID, and B's by the network's.
        let workstation = try await CacheQR.findscu(gw, model: "-S", ["QueryRetrieveLevel=STUDY", "PatientID=12345", "StudyInstanceUID"],
                                                    callingAE: "TRUSTA_WS")
        let seen = Dictionary(uniqueKeysWithValues: workstation.matches.map { ($0.string(.studyInstanceUID) ?? "", $0.string(.patientID) ?? "") })
        #expect(seen == [studyA: "12345", studyB: "RGT-12345"], "\(workstation.output)")

        // C-MOVE of the patient RTH-12345 brings trust A's two instances, none of trust B's three.
        let (status, log) = try await CacheQR.dcmtk("movescu", [
            "-P", "-aet", "HUB_READ", "-aec", "NETGW", "-aem", "HUB_READ", "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=RTH-12345",
        ], in: gw.directory)
        #expect(status == 0, "\(log)")
        let moved = try CacheQR.filesBySOP(in: received).values.map { try DicomFile.readAttributes($0) }
        #expect(moved.map { $0.string(.studyInstanceUID) } == [studyA, studyA], "another trust's patient was sent: \(log)")
        #expect(moved.allSatisfy { $0.string(.patientID) == "RTH-12345" })
        // An issuer in a retrieve narrows it too.
        let got = gw.directory.sub("got")
        let (getStatus, getLog) = try await CacheQR.dcmtk("getscu", [
            "-P", "-aet", "HUB_READ", "-aec", "NETGW", "-od", got, "127.0.0.1", "\(gw.port)",
            "-k", "QueryRetrieveLevel=PATIENT", "-k", "PatientID=12345", "-k", "IssuerOfPatientID=RGT",
        ], in: gw.directory)
        #expect(getStatus == 0, "\(getLog)")
        let gotten = try CacheQR.filesBySOP(in: got).values.map { try DicomFile.readAttributes($0) }
        #expect(gotten.count == 3 && gotten.allSatisfy { $0.string(.studyInstanceUID) == studyB && $0.string(.patientID) == "RGT-12345" },
                "\(getLog)")
        await gw.stop()
    }
}
