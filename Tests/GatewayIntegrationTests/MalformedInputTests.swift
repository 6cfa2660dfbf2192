import DicomCore
import DicomNetwork
import Foundation
import Testing

/// Input that is not DICOM, or is broken DICOM: refused with a failure status, nothing filed,
/// no partial file left behind, and the gateway keeps serving.
@Suite(.serialized) struct MalformedInputTests {
    @Test func storescuSkipsTextFileAndItsValidFilesAreStored() async throws {
        let gw = try GatewayUnderTest(label: "malformed")
        let input = gw.directory.sub("in")
        let valid = try TestData.study(in: input, count: 2)
        let text = input + "/notes.txt"
        try "This is not a DICOM file.\n".write(toFile: text, atomically: true, encoding: .utf8)
        let (status, out) = try await DCMTK.runOffPool(
            "storescu", ["-v", "-nh", "-aec", "NETGW", "127.0.0.1", "\(gw.port)", valid[0], text, valid[1]], in: gw.directory)
        #expect(status == 0, "\(out)")
        #expect(out.components(separatedBy: "Received Store Response (Success)").count - 1 == 2, "\(out)")
        let stored = gw.storedFiles()
        #expect(stored.count == 2, "\(stored)")
        for file in valid {
            let sop = try DicomFile.probe(file).sopInstanceUID
            #expect(gw.storedFile(sop: sop).map(stored.contains) == true, "\(sop) not stored")
        }
        #expect(gw.partialFiles().isEmpty)
        #expect(await gw.answersEcho())
        await gw.stop()
    }

    /// pynetdicom sends the bytes after the file meta header as they are (chunked mode), so
    /// the gateway receives a dataset it cannot parse.
    static let garbageSender = """
        import sys
        from pathlib import Path
        from pynetdicom import AE, _config
        from pynetdicom.dsutils import split_dataset

        _config.STORE_SEND_CHUNKED_DATASET = True  # send the file's dataset bytes undecoded
        port, valid, workdir = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
        raw = valid.read_bytes()
        _, offset = split_dataset(valid)
        meta, body = raw[:offset], raw[offset:]
        cases = {
            # cut in the middle of the first element's value (an even length, as PDVs must be)
            "truncated": body[:12],
            # an odd number of bytes cannot be a dataset: DCMTK aborts the association
            "odd-length": body[:11],
            # (0008,0016) UI claims 0xFFF0 bytes; 8 follow
            "wrong-length": bytes([0x08, 0x00, 0x16, 0x00]) + b"UI" + (0xFFF0).to_bytes(2, "little") + b"1.2.3.4\\x00",
            # (0008,0016) with a VR that does not exist and a huge length
            "garbage": bytes([0x08, 0x00, 0x16, 0x00]) + b"\\x01\\x02" + bytes(range(256)) * 4,
        }
        for name, data in cases.items():
            path = workdir / f"{name}.dcm"
            path.write_bytes(meta + data)
            ae = AE(ae_title="PYSENDER")
            ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
            ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
            assoc = ae.associate("127.0.0.1", port, ae_title="NETGW")
            if not assoc.is_established:
                print(f"CASE {name} NOT_ESTABLISHED", flush=True)
                continue
            status = assoc.send_c_store(path)
            if "Status" in status:
                print(f"CASE {name} STATUS 0x{status.Status:04X}", flush=True)
            else:
                print(f"CASE {name} NO_STATUS", flush=True)
            if assoc.is_established:
                assoc.release()
        """

    @Test func unparsableDatasetAfterValidFileMetaIsRefusedAndNothingIsKept() async throws {
        let gw = try GatewayUnderTest(label: "malformed")
        let work = gw.directory.sub("py")
        let valid = try TestData.study(in: gw.directory.sub("in"), count: 1)[0]
        let script = work + "/send_garbage.py"
        try Self.garbageSender.write(toFile: script, atomically: true, encoding: .utf8)
        let (status, out) = try await PythonPeer.process(script, ["\(gw.port)", valid, work], logDirectory: gw.directory.path)
            .runOffPool(timeout: 90)
        #expect(status == 0, "\(out)")
        let aborted = try #require(out.split(separator: "\n").first { $0.hasPrefix("CASE odd-length ") }, "\(out)")
        #expect(aborted.hasSuffix("NO_STATUS"), "an odd-length dataset ends the association without a response: \(aborted)")
        for name in ["truncated", "wrong-length", "garbage"] {
            let line = out.split(separator: "\n").first { $0.hasPrefix("CASE \(name) ") }
            let text = try #require(line.map(String.init), "no result for \(name):\n\(out)")
            let hex = try #require(text.components(separatedBy: "STATUS 0x").dropFirst().first, "\(text)\n\(out)")
            let code = try #require(UInt16(hex.prefix(4), radix: 16), "\(text)")
            let refused = (0xC000...0xCFFF).contains(code) || (0xA900...0xA9FF).contains(code)
            #expect(refused, "\(name): expected a 0xC000/0xA900 family failure, got \(DIMSEStatus(code))")
        }
        #expect(gw.storedFiles().isEmpty, "\(gw.storedFiles())")
        #expect(gw.partialFiles().isEmpty, "partial files left: \(gw.partialFiles())")
        #expect(await gw.answersEcho(), "the gateway must still answer C-ECHO")
        // And it still stores good data afterwards.
        let outcomes = try await DicomClient(callingAE: "AFTER").store(files: [valid], to: gw.node)
        #expect(outcomes.allSatisfy { $0.succeeded })
        #expect(gw.storedFiles().count == 1)
        await gw.stop()
    }
}
