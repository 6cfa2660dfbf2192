import Foundation

/// DICOMweb clients of the tests: `dicomweb-client` (PyPI, in the peers' venv) and curl.
enum DicomWebPeers {
    /// STOW-RS with dicomweb-client's `store_instances`: prints `{"status": N, "body": ...}`
    /// (the response's DICOM JSON, or the error text).
    static let stowScript = #"""
        import json, sys
        import pydicom, requests
        from dicomweb_client.api import DICOMwebClient
        url, study, files = sys.argv[1], sys.argv[2], sys.argv[3:]
        seen = []
        def hook(response, *args, **kwargs):
            seen.append(response.status_code)
            return response
        client = DICOMwebClient(url=url, callback=hook)
        datasets = [pydicom.dcmread(f) for f in files]
        try:
            result = client.store_instances(datasets=datasets, study_instance_uid=None if study == "-" else study)
            print(json.dumps({"status": seen[-1], "body": result.to_json_dict()}))
        except requests.exceptions.HTTPError as e:
            r = e.response
            try:
                body = r.json()
            except Exception:
                body = r.text
            print(json.dumps({"status": r.status_code, "body": body}))
        """#

    struct StowReply {
        let status: Int
        let body: Any
        /// The SOP Instance UIDs of a response sequence (0008,1199 referenced, 0008,1198 failed).
        func sopUIDs(_ sequence: String) -> [String] {
            items(sequence).compactMap { (($0["00081155"] as? [String: Any])?["Value"] as? [String])?.first }
        }
        func items(_ sequence: String) -> [[String: Any]] {
            ((body as? [String: Any])?[sequence] as? [String: Any])?["Value"] as? [[String: Any]] ?? []
        }
        /// FailureReason (0008,1197) of each failed item.
        var failureReasons: [Int] {
            items("00081198").compactMap { (($0["00081197"] as? [String: Any])?["Value"] as? [Int])?.first }
        }
    }

    /// Stores `files` by STOW-RS to `http://127.0.0.1:port{root}` (to `/studies/{study}` when given).
    static func stow(port: Int, root: String = "/dicom-web", study: String? = nil, files: [String], in dir: TestDirectory) throws -> StowReply {
        let script = dir.path + "/stow.py"
        if !FileManager.default.fileExists(atPath: script) { try stowScript.write(toFile: script, atomically: true, encoding: .utf8) }
        let (status, output) = try PythonPeer.process(script, ["http://127.0.0.1:\(port)\(root)", study ?? "-"] + files, logDirectory: dir.path)
            .run(timeout: 120)
        guard status == 0, let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let code = object["status"] as? Int else {
            throw TestFailure("the STOW-RS client failed (\(status)):\n\(output.suffix(3000))")
        }
        return StowReply(status: code, body: object["body"] ?? NSNull())
    }

    /// curl: the status code and body of a request (`arguments` after the URL's options).
    static func curl(_ arguments: [String], in dir: TestDirectory) throws -> (status: Int, body: String) {
        let reply = try curlWithHeaders(arguments, in: dir)
        return (reply.status, reply.body)
    }

    /// curl: the status code, body and response headers (lower-cased names).
    static func curlWithHeaders(_ arguments: [String], in dir: TestDirectory) throws -> (status: Int, body: String, headers: [String: String]) {
        let out = dir.path + "/curl-\(UUID().uuidString.prefix(8)).out"
        let head = out + ".head"
        let (status, output) = try PeerProcess("/usr/bin/curl", ["-sS", "-o", out, "-D", head, "-w", "%{http_code}"] + arguments,
                                               logDirectory: dir.path)
            .run(timeout: 120)
        guard status == 0, let code = Int(output.split(separator: "\n").last.map(String.init) ?? "") else {
            throw TestFailure("curl failed (\(status)): \(output.suffix(2000))")
        }
        var headers: [String: String] = [:]
        for line in ((try? String(contentsOfFile: head, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (code, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", headers)
    }

    /// A multipart/related body of `parts` (each Content-Type application/dicom).
    static func multipart(_ parts: [Data], boundary: String) -> Data {
        var body = Data()
        for part in parts {
            body.append(Data("--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8))
            body.append(part)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        return body
    }
}
