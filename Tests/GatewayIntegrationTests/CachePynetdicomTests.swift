import DicomCore
import DicomNetwork
import Foundation
import Testing

/// pynetdicom as a second, independent SCU implementation: C-ECHO, C-STORE of a data set built
/// with pydicom, C-FIND at study level and C-GET, all reported as JSON by the script.
@Suite(.serialized) struct CachePynetdicomTests {
    static let script = #"""
        import json, sys
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, CTImageStorage
        from pynetdicom import AE, evt, build_role
        from pynetdicom.sop_class import (Verification, StudyRootQueryRetrieveInformationModelFind,
                                          StudyRootQueryRetrieveInformationModelGet)

        port, prefix = int(sys.argv[1]), sys.argv[2]
        study, series, sop = prefix + ".1", prefix + ".1.1", prefix + ".1.1.1"
        pixels = bytes((i * 7) % 256 for i in range(32))

        ds = Dataset()
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.PatientName = "Py^Thon"
        ds.PatientID = "PYPID"
        ds.StudyDate = "20240301"
        ds.StudyTime = "120000"
        ds.AccessionNumber = "PY1"
        ds.StudyDescription = "pynetdicom study"
        ds.Modality = "CT"
        ds.InstanceNumber = 1
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = 4
        ds.Columns = 4
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.PixelData = pixels
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = sop

        out = {"study": study, "sop": sop}
        ae = AE(ae_title="PYSCU")
        ae.add_requested_context(Verification)
        ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
        ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
        assoc = ae.associate("127.0.0.1", port, ae_title="NETGW")
        out["associated"] = assoc.is_established
        if assoc.is_established:
            status = assoc.send_c_echo()
            out["echo"] = status.Status if status else None
            status = assoc.send_c_store(ds)
            out["store"] = status.Status if status else None
            query = Dataset()
            query.QueryRetrieveLevel = "STUDY"
            query.StudyInstanceUID = study
            query.PatientName = ""
            query.PatientID = ""
            query.StudyDate = ""
            query.NumberOfStudyRelatedInstances = ""
            matches, final = [], None
            for status, identifier in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
                if status and status.Status in (0xFF00, 0xFF01):
                    matches.append({"StudyInstanceUID": str(identifier.StudyInstanceUID),
                                    "PatientName": str(identifier.PatientName), "PatientID": str(identifier.PatientID),
                                    "StudyDate": str(identifier.StudyDate),
                                    "NumberOfStudyRelatedInstances": str(identifier.NumberOfStudyRelatedInstances)})
                elif status:
                    final = status.Status
            out["find"], out["find_status"] = matches, final
            assoc.release()

        received = []
        def on_store(event):
            r = event.dataset
            received.append({"sop": str(r.SOPInstanceUID), "PatientName": str(r.PatientName),
                             "StudyDescription": str(r.StudyDescription), "pixels_equal": bytes(r.PixelData) == pixels})
            return 0x0000

        ae2 = AE(ae_title="PYSCU")
        ae2.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
        ae2.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
        assoc = ae2.associate("127.0.0.1", port, ae_title="NETGW", ext_neg=[build_role(CTImageStorage, scp_role=True)],
                              evt_handlers=[(evt.EVT_C_STORE, on_store)])
        out["get_associated"] = assoc.is_established
        if assoc.is_established:
            query = Dataset()
            query.QueryRetrieveLevel = "STUDY"
            query.StudyInstanceUID = study
            final, completed = None, None
            for status, identifier in assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet):
                if status and status.Status not in (0xFF00, 0xFF01):
                    final = status.Status
                    completed = int(status.get("NumberOfCompletedSuboperations", -1))
            out["get_status"], out["get_completed"] = final, completed
            assoc.release()
        out["received"] = received
        print("RESULT " + json.dumps(out))
        """#

    struct Result: Decodable {
        struct Match: Decodable {
            let StudyInstanceUID: String, PatientName: String, PatientID: String, StudyDate: String
            let NumberOfStudyRelatedInstances: String
        }
        struct Received: Decodable {
            let sop: String, PatientName: String, StudyDescription: String
            let pixels_equal: Bool
        }
        let study: String, sop: String
        let associated: Bool
        let echo: Int?, store: Int?
        let find: [Match]?
        let find_status: Int?
        let get_associated: Bool
        let get_status: Int?, get_completed: Int?
        let received: [Received]
    }

    @Test
    func pynetdicomEchoesStoresFindsAndGets() async throws {
        let gw = try await CacheQR.boot("pynetdicom")
        let scriptPath = gw.directory.path + "/scu.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let (port, logs, prefix) = (gw.port, gw.directory.path, TestData.newUID())
        let (status, output) = try await CacheQR.offPool {
            try PythonPeer.process(scriptPath, ["\(port)", prefix], logDirectory: logs).run(timeout: 120)
        }
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("RESULT ") }, "\(output)")
        let r = try JSONDecoder().decode(Result.self, from: Data(line.dropFirst("RESULT ".count).utf8))

        #expect(r.associated)
        #expect(r.echo == 0x0000)
        #expect(r.store == 0x0000)
        // The gateway filed what pydicom built.
        let stored = try #require(try gw.gateway.index.instance(sopUID: r.sop))
        let attributes = try DicomFile.readAttributes(gw.storageRoot + "/" + stored.path)
        #expect(attributes.string(.patientName) == "Py^Thon")
        #expect(attributes.string(.studyInstanceUID) == r.study)
        #expect(stored.callingAE == "PYSCU")

        #expect(r.find_status == 0x0000)
        let match = try #require(r.find?.first, "\(output)")
        #expect(r.find?.count == 1)
        #expect(match.StudyInstanceUID == r.study)
        #expect(match.PatientName == "Py^Thon")
        #expect(match.PatientID == "PYPID")
        #expect(match.StudyDate == "20240301")
        #expect(match.NumberOfStudyRelatedInstances == "1")

        #expect(r.get_associated)
        #expect(r.get_status == 0x0000, "\(output)")
        #expect(r.get_completed == 1)
        #expect(r.received.map(\.sop) == [r.sop])
        #expect(r.received.first?.PatientName == "Py^Thon")
        #expect(r.received.first?.StudyDescription == "pynetdicom study")
        #expect(r.received.first?.pixels_equal == true, "pixel data must come back unchanged")
        await gw.stop()
    }
}
