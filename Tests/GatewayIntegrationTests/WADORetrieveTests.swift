import DicomCore
import DicomNetwork
import Foundation
import GatewayStore
import Testing

/// WADO-RS and WADO-URI against a real gateway process: DCMTK's storescu stores a CT series and a
/// JPEG Lossless multi-frame; dicomweb-client (PyPI) retrieves, curl replays OHIF's frame request.
@Suite(.serialized) struct WADORetrieveTests {
    /// dicomweb-client as the viewer: everything it gets is written to the output directory.
    static let client = #"""
        import json, sys
        from dicomweb_client.api import DICOMwebClient
        url, study, series, sop, mf_series, mf_sop, out = sys.argv[1:8]
        c = DICOMwebClient(url=url)
        report = {}
        report["study"] = sorted(d.SOPInstanceUID for d in c.retrieve_study(study))
        report["series"] = sorted(d.SOPInstanceUID for d in c.retrieve_series(study, series))
        report["instance"] = c.retrieve_instance(study, series, sop).SOPInstanceUID
        # The bytes as stored: transfer-syntax=* (the public calls parse them with pydicom).
        response = c._session.get(f"{url}/studies/{study}/series/{series}/instances/{sop}",
                                  headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
        response.raise_for_status()
        raw = list(c._decode_multipart_message(response, stream=False))
        open(out + "/instance.dcm", "wb").write(raw[0])
        meta = c.retrieve_series_metadata(study, series)
        report["series_metadata"] = len(meta)
        json.dump(c.retrieve_instance_metadata(study, series, sop), open(out + "/instance-metadata.json", "w"))
        json.dump(c.retrieve_study_metadata(study), open(out + "/study-metadata.json", "w"))
        open(out + "/frame1.bin", "wb").write(c.retrieve_instance_frames(study, series, sop, [1])[0])
        stored = c.retrieve_instance_frames(study, mf_series, mf_sop, [2], media_types=(("application/octet-stream", "*"),))
        open(out + "/mf-frame2-stored.bin", "wb").write(stored[0])
        listed = c.retrieve_instance_frames(study, mf_series, mf_sop, [3, 2, 1], media_types=(("application/octet-stream", "*"),))
        report["listed_frames"] = [len(listed), listed[1] == stored[0], all(f[:2] == b"\xff\xd8" for f in listed)]
        decoded = c.retrieve_instance_frames(study, mf_series, mf_sop, [2, 3],
                                             media_types=(("application/octet-stream", "1.2.840.10008.1.2.1"),))
        open(out + "/mf-frames23-decoded.bin", "wb").write(decoded[0] + decoded[1])
        uri = meta[0]["7FE00010"]["BulkDataURI"]
        report["bulk_uri"] = uri
        if uri.startswith("/"):
            uri = url[: url.index("/", len("http://"))] + uri
        open(out + "/bulk.bin", "wb").write(c.retrieve_bulkdata(uri)[0])
        open(out + "/rendered.jpg", "wb").write(c.retrieve_instance_rendered(study, mf_series, mf_sop, media_types=("image/jpeg",)))
        # The JPEG instance asked for uncompressed: DCMTK transcodes it on the way out.
        plain = c.retrieve_instance(study, mf_series, mf_sop, media_types=(("application/dicom", "1.2.840.10008.1.2.1"),))
        report["transcoded_ts"] = str(plain.file_meta.TransferSyntaxUID)
        open(out + "/mf-transcoded-pixels.bin", "wb").write(plain.PixelData)
        json.dump(report, open(out + "/report.json", "w"))
        """#

    /// A 16x16, 3-frame, 12-bit multi-frame made with dump2dcm, then JPEG Lossless (dcmcjpeg).
    static func multiframe(in dir: TestDirectory, study: String, series: String, sop: String) throws -> (file: String, raw: [UInt8]) {
        var raw: [UInt8] = []
        for frame in 0..<3 {
            for i in 0..<256 {
                let value = UInt16((i * 7 + frame * 1000) % 4096)
                raw += [UInt8(value & 0xFF), UInt8(value >> 8)]
            }
        }
        let rawPath = dir.path + "/mf.raw"
        _ = FileManager.default.createFile(atPath: rawPath, contents: Data(raw))
        let dump = """
            (0008,0016) UI =MultiframeGrayscaleWordSecondaryCaptureImageStorage
            (0008,0018) UI [\(sop)]
            (0008,0060) CS [OT]
            (0010,0010) PN [Doe^Jane]
            (0010,0020) LO [PID001]
            (0020,000d) UI [\(study)]
            (0020,000e) UI [\(series)]
            (0020,0013) IS [1]
            (0028,0002) US 1
            (0028,0004) CS [MONOCHROME2]
            (0028,0008) IS [3]
            (0028,0010) US 16
            (0028,0011) US 16
            (0028,0100) US 16
            (0028,0101) US 12
            (0028,0102) US 11
            (0028,0103) US 0
            (0028,1050) DS [2048]
            (0028,1051) DS [4096]
            (7fe0,0010) OW =\(rawPath)
            """
        try dump.write(toFile: dir.path + "/mf.dump", atomically: true, encoding: .utf8)
        let native = dir.path + "/mf-native.dcm", jpeg = dir.path + "/mf-jpeg.dcm"
        #expect(try DCMTK.run("dump2dcm", ["+te", dir.path + "/mf.dump", native], in: dir).status == 0)
        #expect(try DCMTK.run("dcmcjpeg", ["+e1", native, jpeg], in: dir).status == 0)
        return (jpeg, raw)
    }

    /// The value dcmdump prints for `tag` (strings without brackets, numbers as printed).
    static func dumped(_ tag: String, _ file: String, _ dir: TestDirectory) throws -> String {
        let (_, out) = try DCMTK.run("dcmdump", ["-q", "+P", tag, file], in: dir)
        let line = out.split(separator: "\n").first { $0.hasPrefix("(") } ?? ""
        let value = line.dropFirst(15).prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)  // after "(gggg,eeee) VR "
        return value.hasPrefix("[") ? String(value.dropFirst().prefix { $0 != "]" }) : value
    }

    /// The first part's payload of a multipart body, and the part's headers.
    static func firstPart(_ body: Data, boundary: String) -> (headers: String, payload: Data)? {
        let open = Data("--\(boundary)\r\n".utf8), close = Data("\r\n--\(boundary)".utf8), blank = Data("\r\n\r\n".utf8)
        guard let start = body.range(of: open), let headersEnd = body.range(of: blank, in: start.upperBound..<body.endIndex),
              let end = body.range(of: close, in: headersEnd.upperBound..<body.endIndex) else { return nil }
        return (String(decoding: body[start.upperBound..<headersEnd.lowerBound], as: UTF8.self),
                Data(body[headersEnd.upperBound..<end.lowerBound]))
    }

    static func curl(_ url: String, accept: String?, in dir: TestDirectory) throws -> (status: Int, contentType: String, body: Data) {
        let out = dir.path + "/curl-\(UUID().uuidString)"
        var args = ["-s", "-o", out, "-w", "%{http_code} %{content_type}"]
        if let accept { args += ["-H", "Accept: \(accept)"] }
        let (_, written) = try PeerProcess("/usr/bin/curl", args + [url], logDirectory: dir.path).run(timeout: 60)
        let text = written.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = Int(text.prefix(3)) ?? 0
        return (status, String(text.dropFirst(4)), FileManager.default.contents(atPath: out) ?? Data())
    }

    @Test
    func dicomwebClientRetrievesWhatStorescuStoredByteForByte() throws {
        let dir = TestDirectory("wado-retrieve")
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source], allow: [echo, store, find] }
            dicomweb: { root: /web/rs }
            """)
        let studyUID = TestData.newUID()
        let series = studyUID + ".1", mfSeries = studyUID + ".2", mfSOP = studyUID + ".2.1"
        let ct = try TestData.study(in: dir.sub("in"), count: 3, studyUID: studyUID)
        let (mfFile, mfRaw) = try Self.multiframe(in: dir, study: studyUID, series: mfSeries, sop: mfSOP)
        try gateway.start()
        defer { _ = gateway.terminate() }
        #expect(try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + ct, in: dir).status == 0)
        #expect(try DCMTK.run("storescu", ["-xs", "-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)", mfFile],
                              in: dir).status == 0)
        #expect(Net.waitForListener(gateway.httpPort))
        let sop = series + ".1"
        // The cached files, as the index names them.
        let cached = try #require(storedPath(gateway.storageRoot, sop: sop))
        let cachedMF = try #require(storedPath(gateway.storageRoot, sop: mfSOP))

        // A root other than the default: WADO follows dicomweb.root (BulkDataURIs too).
        let root = "http://127.0.0.1:\(gateway.httpPort)/web/rs"
        let out = dir.sub("client")
        let script = dir.path + "/client.py"
        try Self.client.write(toFile: script, atomically: true, encoding: .utf8)
        let (status, output) = try PythonPeer.process(script, [root, studyUID, series, sop, mfSeries, mfSOP, out], logDirectory: dir.path)
            .run(timeout: 120)
        try #require(status == 0, "dicomweb-client failed:\n\(output.suffix(3000))\ngateway:\n\(gateway.peer?.output.suffix(3000) ?? "")")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as? [String: Any])
        #expect(report["study"] as? [String] == ([1, 2, 3].map { "\(series).\($0)" } + [mfSOP]).sorted())
        #expect(report["series"] as? [String] == [1, 2, 3].map { "\(series).\($0)" })
        #expect(report["instance"] as? String == sop)
        #expect(report["series_metadata"] as? Int == 3)
        #expect(report["transcoded_ts"] as? String == "1.2.840.10008.1.2.1")
        #expect(report["bulk_uri"] as? String == "/web/rs/studies/\(studyUID)/series/\(series)/instances/\(series).1/bulkdata/7FE00010")
        // [count, the second is frame 2, all JPEG streams] (JSON true reads as 1).
        #expect(report["listed_frames"] as? [Int] == [3, 1, 1], "frames 3,2,1 as stored: \(report)")

        // Byte for byte: the instance is the cached file; frame 1 and the bulk data are its pixel data.
        let file = { (name: String) in FileManager.default.contents(atPath: out + "/" + name) ?? Data() }
        #expect(file("instance.dcm") == FileManager.default.contents(atPath: cached))
        let pixels = try #require(FileManager.default.contents(atPath: dir.sub("in") + "/pixels-4x4.raw"))
        #expect(file("frame1.bin") == pixels)
        #expect(file("bulk.bin") == pixels)
        // The JPEG multi-frame: frame 2 as stored is one JPEG stream; decoded, frames 2 and 3 are the original pixels.
        let stored = file("mf-frame2-stored.bin")
        #expect(stored.prefix(2) == Data([0xFF, 0xD8]) && stored.count > 100)
        #expect(file("mf-frames23-decoded.bin") == Data(mfRaw[512...]))
        #expect(file("mf-transcoded-pixels.bin") == Data(mfRaw))
        let jpeg = file("rendered.jpg")
        #expect(jpeg.prefix(3) == Data([0xFF, 0xD8, 0xFF]) && jpeg.suffix(2) == Data([0xFF, 0xD9]))

        // Metadata values equal dcmdump's.
        // dicomweb-client hands the instance's one object out of the array.
        let instance = try #require(try JSONSerialization.jsonObject(with: file("instance-metadata.json")) as? [String: Any])
        func value(_ tag: String) -> String? {
            guard let element = instance[tag] as? [String: Any], let values = element["Value"] as? [Any], let first = values.first else { return nil }
            if let name = first as? [String: Any] { return name["Alphabetic"] as? String }
            return "\(first)"
        }
        for (tag, dcmdumpTag) in [("00100010", "0010,0010"), ("00081030", "0008,1030"), ("00080018", "0008,0018"),
                                  ("00280010", "0028,0010"), ("00200013", "0020,0013"), ("00080060", "0008,0060")] {
            let dumped = try Self.dumped(dcmdumpTag, cached, dir)
            #expect(value(tag) == dumped, "\(tag): dcmdump says \(dumped)")
        }
        let studyMetadata = try #require(try JSONSerialization.jsonObject(with: file("study-metadata.json")) as? [[String: Any]])
        #expect(studyMetadata.count == 4)

        // OHIF v3's frame request, exactly: the JPEG stream as stored, its transfer syntax in the part.
        let frameURL = "\(root)/studies/\(studyUID)/series/\(mfSeries)/instances/\(mfSOP)/frames/2"
        let ohif = try Self.curl(frameURL, accept: "multipart/related; type=application/octet-stream; transfer-syntax=*", in: dir)
        #expect(ohif.status == 200 && ohif.contentType.hasPrefix("multipart/related; type=\"application/octet-stream\""), "\(ohif.contentType)")
        let boundary = String(ohif.contentType.split(separator: "=").last ?? "")
        let part = try #require(Self.firstPart(ohif.body, boundary: boundary))
        #expect(part.headers.contains("transfer-syntax=1.2.840.10008.1.2.4.70"), "\(part.headers)")
        #expect(part.payload == stored)

        // A transfer syntax DCMTK cannot make: 406.
        let refused = try Self.curl("\(root)/studies/\(studyUID)",
                                    accept: "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.100", in: dir)
        #expect(refused.status == 406, "\(refused.status) \(String(decoding: refused.body, as: UTF8.self))")

        // WADO-URI: the file as cached, and a JPEG.
        let wado = "http://127.0.0.1:\(gateway.httpPort)/wado?requestType=WADO&studyUID=\(studyUID)&seriesUID=\(mfSeries)&objectUID=\(mfSOP)"
        let dicom = try Self.curl(wado + "&contentType=application/dicom", accept: nil, in: dir)
        #expect(dicom.status == 200 && dicom.contentType == "application/dicom")
        #expect(dicom.body == FileManager.default.contents(atPath: cachedMF))
        let uriJPEG = try Self.curl(wado + "&contentType=image/jpeg&frameNumber=3", accept: nil, in: dir)
        #expect(uriJPEG.status == 200 && uriJPEG.contentType == "image/jpeg" && uriJPEG.body.prefix(2) == Data([0xFF, 0xD8]))
        let missing = try Self.curl("\(root)/studies/\(studyUID)/series/\(series)/instances/\(series).99", accept: nil, in: dir)
        #expect(missing.status == 404)
        // What is not a UID never reaches the index, let alone a file name.
        let notUID = try Self.curl("\(root)/studies/\(studyUID)/series/..%2F..%2Fetc/metadata", accept: nil, in: dir)
        #expect(notUID.status == 400, "\(notUID.status)")
        let badFrames = try Self.curl("\(frameURL.dropLast())0,x", accept: nil, in: dir)
        #expect(badFrames.status == 400, "\(badFrames.status)")

        // Transcoded copies are gone once sent.
        let outgoing = (try? FileManager.default.contentsOfDirectory(atPath: gateway.storageRoot + "/outgoing")) ?? []
        #expect(outgoing.isEmpty, "\(outgoing)")

        // Each retrieve is in the audit trail.
        let audit = try HTTPProbe(port: gateway.httpPort).wait("/api/v1/audit?event=retrieve") {
            $0.text.contains("WADO-URI application/dicom")
        }.text
        #expect(audit.contains("WADO-RS retrieve") && audit.contains("WADO-URI application/dicom"), "\(audit.prefix(2000))")
    }
}
