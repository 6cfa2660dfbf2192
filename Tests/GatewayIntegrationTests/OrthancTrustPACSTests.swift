import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import GRDB
import Testing

/// Two real Orthanc servers as trust PACS (TRUSTA_PACS, TRUSTB_PACS) whose local Patient IDs
/// collide, and the gateway (the real binary) querying and pulling from them.
@Suite(.serialized) struct OrthancTrustPACSTests {
    /// Trust A holds Doe^Jane (12345) and Roe^Richard (67890); trust B holds Smith^John, a
    /// different person with the same local Patient ID 12345. Optionally a gateway NETGW that
    /// knows both trusts as source nodes (issuers RTH and RGT) and is a modality of both.
    final class Trusts: @unchecked Sendable {
        // Safe: built once in `start`, then only read by the test's own task.
        let dir: TestDirectory
        let a: OrthancPeer, b: OrthancPeer
        let jane: TrustStudy, richard: TrustStudy, john: TrustStudy
        let gateway: GatewayProcess?

        private init(dir: TestDirectory, a: OrthancPeer, b: OrthancPeer, jane: TrustStudy, richard: TrustStudy, john: TrustStudy,
                     gateway: GatewayProcess?) {
            (self.dir, self.a, self.b, self.jane, self.richard, self.john, self.gateway) = (dir, a, b, jane, richard, john, gateway)
        }

        /// - Parameter issuersInFiles: whether the files carry IssuerOfPatientID (RTH at A, RGT at B).
        static func start(withGateway: Bool, issuersInFiles: Bool = true) async throws -> Trusts {
            let dir = TestDirectory("trust")
            let (portA, portB) = (Net.freePort(), Net.freePort())
            var gateway: GatewayProcess?
            var gatewayPort = Net.freePort()
            if withGateway {
                let gw = try GatewayProcess(directory: dir, extraYAML: """
                    nodes:
                      TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: \(portA), issuer: RTH, roles: [source] }
                      TRUST_B: { ae_title: TRUSTB_PACS, host: 127.0.0.1, port: \(portB), issuer: RGT, roles: [source] }
                    """)
                gatewayPort = gw.port
                gateway = gw
            }
            let modalities = ["gateway": OrthancPeer.Modality(aeTitle: "NETGW", port: gatewayPort)]
            let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir, modalities: modalities, dicomPort: portA)
            let b = try await OrthancPeer.launch(aeTitle: "TRUSTB_PACS", in: dir, modalities: modalities, dicomPort: portB)
            let jane = TrustStudy(patientID: "12345", patientName: "Doe^Jane", issuer: issuersInFiles ? "RTH" : nil,
                                  studyDate: "20240105", studyDescription: "CT head", bodyPart: "HEAD", instances: 3)
            let richard = TrustStudy(patientID: "67890", patientName: "Roe^Richard", issuer: issuersInFiles ? "RTH" : nil,
                                     modality: "MR", studyDate: "20231120", studyDescription: "MR knee", bodyPart: "KNEE", instances: 1)
            let john = TrustStudy(patientID: "12345", patientName: "Smith^John", issuer: issuersInFiles ? "RGT" : nil,
                                  studyDate: "20240210", studyDescription: "CT chest", bodyPart: "CHEST", instances: 2)
            try await a.load([jane, richard], writingIn: dir.sub("trust-a-files"))
            try await b.load([john], writingIn: dir.sub("trust-b-files"))
            if let gateway {
                _ = try await OffPool.run { try gateway.start() }
            }
            try DicomRuntime.bootstrap()
            return Trusts(dir: dir, a: a, b: b, jane: jane, richard: richard, john: john, gateway: gateway)
        }

        func stop() async {
            if let gateway { _ = try? await OffPool.run { gateway.terminate() } }
            await OrthancPeer.stopAll([a, b])
        }

        /// The gateway's cache index, read-only while the gateway runs.
        func cachedStudies() throws -> [StudyRecord] {
            try readIndex { try Row.fetchAll($0, sql: "SELECT * FROM study ORDER BY studyUID") }.map { StudyRecord(row: IndexRow($0)) }
        }

        func cachedPatients() throws -> [PatientRecord] {
            try readIndex { try Row.fetchAll($0, sql: "SELECT * FROM patient ORDER BY issuer, patientName") }.map { PatientRecord(row: IndexRow($0)) }
        }

        private func readIndex<T>(_ body: (Database) throws -> T) throws -> T {
            guard let gateway else { throw TestFailure("no gateway in this fixture") }
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: gateway.storageRoot + "/index.sqlite", configuration: configuration)
            return try queue.read(body)
        }
    }

    /// Our SCU calling as the gateway's AE, which both trusts list in DicomModalities.
    static let asGateway = DicomClient(callingAE: "NETGW", timeouts: DicomTimeouts(connect: 5, acse: 15, dimse: 60))

    static func studyKeys(_ values: [DicomTag: String]) -> DicomAttributes {
        var keys = DicomAttributes(values)
        keys[.queryRetrieveLevel] = QueryLevel.study.rawValue
        return keys
    }

    @Test func collidingPatientIDsAreHeldApartByTwoOrthancs() async throws {
        let t = try await Trusts.start(withGateway: false)

        // REST: exact contents of each trust.
        #expect(try await t.a.statistics() == .init(patients: 2, studies: 2, series: 2, instances: 4), "\(t.a.log)")
        #expect(try await t.b.statistics() == .init(patients: 1, studies: 1, series: 1, instances: 2), "\(t.b.log)")
        #expect(try await t.a.studies().count == 2)

        let atA = try await t.a.findStudies(query: ["PatientID": "12345"])
        #expect(atA.map(\.studyUID) == [t.jane.studyUID])
        #expect(atA.first?.patientTags["PatientName"] == "Doe^Jane")
        #expect(atA.first?.mainTags["StudyDescription"] == "CT head")
        let atB = try await t.b.findStudies(query: ["PatientID": "12345"])
        #expect(atB.map(\.studyUID) == [t.john.studyUID])
        #expect(atB.first?.patientTags["PatientName"] == "Smith^John")

        let janeInstances = try await t.a.findInstances(query: ["StudyInstanceUID": t.jane.studyUID])
        #expect(Set(janeInstances.compactMap(\.sopInstanceUID)) == Set(t.jane.sopUIDs))
        let first = try #require(janeInstances.first)
        let tags = try await t.a.tags(first.id)
        #expect(tags["PatientID"] == "12345")
        #expect(tags["PatientName"] == "Doe^Jane")
        #expect(tags["IssuerOfPatientID"] == "RTH")
        #expect(tags["BodyPartExamined"] == "HEAD")
        #expect(tags["StudyDate"] == "20240105")
        #expect(try await t.b.findInstances(query: ["StudyInstanceUID": t.jane.studyUID]).isEmpty)

        // DICOM: the same answer to a C-FIND from the gateway's AE title.
        let keys = Self.studyKeys([.patientID: "12345", .patientName: "", .issuerOfPatientID: "", .studyInstanceUID: "",
                                   .numberOfStudyRelatedInstances: ""])
        let (fromA, resultA) = try await Self.asGateway.find(t.a.node, model: .studyRoot, keys: keys)
        #expect(resultA.status.isSuccess, "\(resultA.status)")
        #expect(fromA.compactMap { $0.string(.studyInstanceUID) } == [t.jane.studyUID])
        #expect(fromA.first?.string(.patientName) == "Doe^Jane")
        #expect(fromA.first?.string(.issuerOfPatientID) == "RTH")
        #expect(fromA.first?.string(.numberOfStudyRelatedInstances) == "3")
        let (fromB, resultB) = try await Self.asGateway.find(t.b.node, model: .studyRoot, keys: keys)
        #expect(resultB.status.isSuccess, "\(resultB.status)")
        #expect(fromB.compactMap { $0.string(.studyInstanceUID) } == [t.john.studyUID])
        #expect(fromB.first?.string(.patientName) == "Smith^John")
        #expect(fromB.first?.string(.issuerOfPatientID) == "RGT")
        await t.stop()
    }

    @Test func orthancAbortsAFindFromAnUnlistedCallerAndOurClientReportsAnError() async throws {
        let t = try await Trusts.start(withGateway: false)
        let stranger = DicomClient(callingAE: "STRANGER", timeouts: DicomTimeouts(connect: 5, acse: 15, dimse: 30))
        let keys = Self.studyKeys([.patientID: "12345", .studyInstanceUID: ""])
        var outcome = "no error"
        do {
            let (matches, result) = try await stranger.find(t.a.node, model: .studyRoot, keys: keys)
            outcome = "status \(result.status), \(matches.count) match(es)"
        } catch {
            outcome = "error: \(error)"
        }
        // Not an empty success: a trust that refuses us must not look like "no prior studies".
        #expect(outcome.hasPrefix("error:"), "\(outcome)")
        #expect(t.a.log.contains("STRANGER"), "\(t.a.log)")
        await t.stop()
    }

    @Test func gatewayCLIFindsAtTrustAAndMovesTheStudyIntoItsCache() async throws {
        let t = try await Trusts.start(withGateway: true)
        let gw = try #require(t.gateway)
        let trustA = "TRUSTA_PACS@127.0.0.1:\(t.a.dicomPort)"

        let find = try await ProcessRun.run(GatewayProcess.binary, [
            "find", trustA, "--calling-ae", "NETGW", "--level", "study", "-k", "PatientID=12345", "-k", "IssuerOfPatientID",
            "--json"], in: t.dir)
        #expect(find.status == 0, "\(find.combined)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(find.stdout.utf8)) as? [[String: String]], "\(find.combined)")
        #expect(rows.count == 1, "\(rows)")
        #expect(rows.first?["StudyInstanceUID"] == t.jane.studyUID)
        #expect(rows.first?["PatientID"] == "12345")
        #expect(rows.first?["PatientName"] == "Doe^Jane")
        #expect(rows.first?["IssuerOfPatientID"] == "RTH")
        #expect(rows.first?["NumberOfStudyRelatedInstances"] == "3")

        let retrieve = try await ProcessRun.run(GatewayProcess.binary, [
            "retrieve", trustA, "--calling-ae", "NETGW", "--study", t.jane.studyUID, "--move-to", "NETGW"], in: t.dir)
        #expect(retrieve.status == 0, "\(retrieve.combined)\n\(t.a.log)\n\(gw.peer?.output ?? "")")
        #expect(retrieve.stdout.contains("final status"), "\(retrieve.combined)")
        #expect(retrieve.stdout.contains("completed 3, failed 0"), "\(retrieve.combined)")

        // The gateway's own C-FIND now finds the study with all three instances, and nothing else.
        let cached = try await ProcessRun.run(GatewayProcess.binary, [
            "find", "NETGW@127.0.0.1:\(gw.port)", "--level", "study", "-k", "PatientID=12345", "--json"], in: t.dir)
        #expect(cached.status == 0, "\(cached.combined)")
        let cachedRows = try #require(try JSONSerialization.jsonObject(with: Data(cached.stdout.utf8)) as? [[String: String]])
        #expect(cachedRows.count == 1, "\(cachedRows)")
        #expect(cachedRows.first?["StudyInstanceUID"] == t.jane.studyUID)
        #expect(cachedRows.first?["PatientName"] == "Doe^Jane")
        #expect(cachedRows.first?["NumberOfStudyRelatedInstances"] == "3")

        // The index knows where it came from.
        let studies = try t.cachedStudies()
        #expect(studies.map(\.studyUID) == [t.jane.studyUID])
        let study = try #require(studies.first)
        #expect(study.instanceCount == 3)
        #expect(study.originNode == "TRUST_A")
        #expect(study.originAE == "TRUSTA_PACS")
        #expect(study.originPatientID == "12345")
        #expect(study.originIssuer == "RTH")
        // Trust A still holds its copy; the move copied, it did not take.
        #expect(try await t.a.statistics().instances == 4)
        await t.stop()
    }

    /// Pulls Jane from A and John from B (same Patient ID 12345) into the gateway with our own SCU.
    static func pullBoth(_ t: Trusts) async throws {
        for (trust, study) in [(t.a, t.jane), (t.b, t.john)] {
            let outcome = try await Self.asGateway.move(
                trust.node, model: .studyRoot, keys: Self.studyKeys([.studyInstanceUID: study.studyUID]), destination: "NETGW")
            #expect(outcome.isCompleteSuccess, "\(trust.aeTitle): \(outcome.status) \(outcome.counts) \(outcome.errorComment)\n\(trust.log)")
            #expect(outcome.counts.completed == study.instances, "\(outcome.counts)")
        }
    }

    @Test func samePatientIDFromTwoTrustsStaysTwoPatientsWhenTheFilesNameTheirIssuers() async throws {
        let t = try await Trusts.start(withGateway: true, issuersInFiles: true)
        try await Self.pullBoth(t)

        let studies = try t.cachedStudies()
        #expect(Set(studies.map(\.studyUID)) == [t.jane.studyUID, t.john.studyUID])
        let byUID = Dictionary(uniqueKeysWithValues: studies.map { ($0.studyUID, $0) })
        #expect(byUID[t.jane.studyUID]?.originNode == "TRUST_A")
        #expect(byUID[t.john.studyUID]?.originNode == "TRUST_B")
        #expect(byUID[t.jane.studyUID]?.instanceCount == 3)
        #expect(byUID[t.john.studyUID]?.instanceCount == 2)
        let patients = try t.cachedPatients()
        #expect(patients.map { "\($0.issuer)|\($0.patientID)|\($0.patientName)" } == ["RGT|12345|Smith^John", "RTH|12345|Doe^Jane"])

        // A C-FIND at the gateway with the issuer qualifying the ID finds only that trust's patient.
        let gw = try #require(t.gateway)
        let keys = Self.studyKeys([.patientID: "12345", .issuerOfPatientID: "RGT", .patientName: "", .studyInstanceUID: ""])
        let (matches, result) = try await Self.asGateway.find(gw.node, model: .studyRoot, keys: keys)
        #expect(result.status.isSuccess)
        #expect(matches.compactMap { $0.string(.studyInstanceUID) } == [t.john.studyUID])
        #expect(matches.first?.string(.patientName) == "Smith^John")
        await t.stop()
    }

    /// The usual case: the trusts' files carry no IssuerOfPatientID, only the gateway's node
    /// configuration knows that A's IDs are RTH's and B's are RGT's. The gateway gives such
    /// instances their sending node's issuer, so Jane and John stay two patients.
    @Test func samePatientIDFromTwoTrustsWithoutIssuerInTheFilesMustNotMergeThePatients() async throws {
        let t = try await Trusts.start(withGateway: true, issuersInFiles: false)
        try await Self.pullBoth(t)

        let studies = try t.cachedStudies()
        #expect(Set(studies.map(\.studyUID)) == [t.jane.studyUID, t.john.studyUID])
        let byUID = Dictionary(uniqueKeysWithValues: studies.map { ($0.studyUID, $0) })
        #expect(byUID[t.jane.studyUID]?.originNode == "TRUST_A")
        #expect(byUID[t.john.studyUID]?.originNode == "TRUST_B")
        #expect(byUID[t.jane.studyUID]?.originPatientID == "12345")
        #expect(byUID[t.john.studyUID]?.originPatientID == "12345")

        let gw = try #require(t.gateway)
        let keys = Self.studyKeys([.patientID: "12345", .patientName: "", .issuerOfPatientID: "", .studyInstanceUID: ""])
        let (matches, result) = try await Self.asGateway.find(gw.node, model: .studyRoot, keys: keys)
        #expect(result.status.isSuccess)
        #expect(Set(matches.compactMap { $0.string(.studyInstanceUID) }) == [t.jane.studyUID, t.john.studyUID])
        let nameByStudy = Dictionary(uniqueKeysWithValues: matches.map { ($0.string(.studyInstanceUID) ?? "", $0.string(.patientName) ?? "") })
        let patients = try t.cachedPatients()

        #expect(patients.map { "\($0.issuer)|\($0.patientID)|\($0.patientName)" } == ["RGT|12345|Smith^John", "RTH|12345|Doe^Jane"])
        #expect(byUID[t.jane.studyUID]?.originIssuer == "RTH")
        #expect(byUID[t.john.studyUID]?.originIssuer == "RGT")
        // Each study still answers with its own patient's name and issuer.
        #expect(nameByStudy[t.jane.studyUID] == "Doe^Jane", "\(nameByStudy)")
        #expect(nameByStudy[t.john.studyUID] == "Smith^John", "\(nameByStudy)")
        let issuerByStudy = Dictionary(uniqueKeysWithValues: matches.map { ($0.string(.studyInstanceUID) ?? "", $0.string(.issuerOfPatientID) ?? "") })
        #expect(issuerByStudy == [t.jane.studyUID: "RTH", t.john.studyUID: "RGT"])
        await t.stop()
    }
}
