// A real Orthanc (Debian's /usr/sbin/Orthanc 1.10.1) run as a trust PACS for one test.
//
// Orthanc facts found while writing this (Orthanc 1.10.1, Debian 12):
// - Start-up to "GET /system answers" took about 0.45 s on an idle 2-core VM, a second or two
//   under concurrent builds; a clean stop takes 1.5-3.5 s (the DICOM server polls), so `stopAll`
//   asks every peer before waiting for any.
// - SIGTERM does not stop it when started from the test process: Foundation's Process passes on
//   the spawning thread's signal mask (SigBlk fffffffe3bfbea27 seen in /proc: SIGTERM and SIGINT
//   blocked), and Orthanc waits for a flag set by its signal() handler. It sat there until
//   SIGKILL. `POST /tools/shutdown` stops it cleanly ("Orthanc is stopping" in its log).
// - It binds both ports on 0.0.0.0 (no bind-address option in 1.10); "RemoteAccessAllowed":
//   false makes HTTP refuse non-loopback clients, and the DICOM side answers C-FIND/C-MOVE/C-GET
//   only to AEs in "DicomModalities". Tests talk to it through 127.0.0.1 only.
// - An unlisted calling AE is NOT rejected at association time: the association is accepted and
//   the C-FIND is answered with an A-ABORT ("DICOM authorization rejected ... not listed in
//   configuration option DicomModalities" in its log), not with a failure status.
// - "DicomCheckCalledAet" defaults to false (any called AE is accepted); set true here so a
//   caller using the wrong AE title fails as it would against a strict PACS.
// - "SynchronousCMove": true makes the final C-MOVE response wait for the sub-operations;
//   "DicomAssociationCloseDelay" (default 5 s) keeps outbound REST-initiated associations open,
//   set to 0 here. C-MOVE sub-operations go out with calling AE = its own "DicomAet".
// - Given a file path, Orthanc reads only that file ("Reading the configuration from: ...");
//   /etc/orthanc and the system service are not involved. "Plugins": [] keeps the packaged
//   plugins (/usr/share/orthanc/plugins) out.
// - REST: POST /instances with the raw Part 10 bytes -> {"ID","ParentStudy",...,"Status":
//   "Success"|"AlreadyStored"}. POST /tools/find {"Level":"Instance","Query":{"PatientID":"12345"},
//   "Expand":true} -> objects whose "MainDicomTags" hold only instance-level tags (SOPInstanceUID,
//   InstanceNumber...); patient/study tags need GET /instances/ID/simplified-tags (which gives
//   IssuerOfPatientID, BodyPartExamined etc. as strings, PixelData as null). At "Level":"Study",
//   Expand adds "PatientMainDicomTags". GET /statistics gives CountPatients/Studies/Series/Instances.
// - Orthanc's patient key is PatientID alone (IssuerOfPatientID is not part of it), so two
//   different people with one Patient ID in the same Orthanc are one "patient" to it.
// - Its C-FIND answers attributes outside its main tags (IssuerOfPatientID, BodyPartExamined at
//   study level) by reading the stored files ("StorageAccessOnFind": "Always" by default).
import DicomCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One Orthanc server with its own configuration, storage and index under a test directory,
/// listening on free loopback ports. Talk to it over DICOM (`node`) or REST (`upload`, `find*`,
/// `tags`, `statistics`).
///
/// ```swift
/// let a = try await OrthancPeer.launch(aeTitle: "TRUSTA_PACS", in: dir,
///                                      modalities: ["gateway": .init(aeTitle: "NETGW", port: gwPort)])
/// try await a.upload(files: files)
/// #expect(try await a.statistics().studies == 1)
/// ```
final class OrthancPeer: @unchecked Sendable {
    // Safe: configuration is immutable after init; `process` is set by `start` and read by
    // `stop`, both called from the test's own task (and deinit), never concurrently.

    /// A DICOM peer Orthanc may talk to (C-FIND/C-MOVE/C-GET callers, C-MOVE destinations),
    /// always at 127.0.0.1.
    struct Modality: Sendable {
        let aeTitle: AETitle
        let port: Int
    }

    /// Counts from `GET /statistics`.
    struct Statistics: Sendable, Equatable {
        let patients: Int, studies: Int, series: Int, instances: Int
    }

    /// A study as `POST /tools/find` at study level with `Expand` returns it.
    struct Study: Sendable {
        let id: String
        let mainTags: [String: String]
        let patientTags: [String: String]
        let seriesIDs: [String]
        var studyUID: String? { mainTags["StudyInstanceUID"] }
        var patientID: String? { patientTags["PatientID"] }
    }

    /// An instance as `POST /tools/find` at instance level with `Expand` returns it (only
    /// instance-level tags; use `tags(_:)` for the rest).
    struct Instance: Sendable {
        let id: String
        let parentSeries: String
        let mainTags: [String: String]
        var sopInstanceUID: String? { mainTags["SOPInstanceUID"] }
    }

    let aeTitle: AETitle
    let dicomPort: Int
    let httpPort: Int
    /// This server's folder: config, storage, index, log.
    let directory: String
    let configPath: String
    private(set) var process: PeerProcess?

    /// The DICOM address to call it at.
    var node: DicomNode { DicomNode(aeTitle: aeTitle, host: "127.0.0.1", port: dicomPort) }
    var baseURL: URL { URL(string: "http://127.0.0.1:\(httpPort)")! }
    /// Orthanc's own log (stdout and stderr).
    var log: String { process?.output ?? "" }

    /// Writes the configuration in `dir/orthanc-<AE>`; nothing runs until `start()`.
    /// - Parameters:
    ///   - modalities: Orthanc's "DicomModalities", name -> AE title and port on 127.0.0.1.
    ///   - stableAge: seconds without new instances before a study is "stable" (Orthanc's default is 60).
    ///   - dicomPort: a port chosen beforehand (when the gateway's configuration must name it
    ///     before this peer exists); a free one by default.
    ///   - extraConfig: more configuration keys, replacing those above (e.g. `DicomTlsEnabled`, or
    ///     `DicomModalities` in Orthanc's object form with `UseDicomTls`).
    init(aeTitle: AETitle, in dir: TestDirectory, modalities: [String: Modality] = [:], stableAge: Int = 1,
         dicomPort: Int? = nil, extraConfig: [String: Any] = [:]) throws {
        self.aeTitle = aeTitle
        directory = dir.sub("orthanc-\(aeTitle.value)")
        configPath = directory + "/orthanc.json"
        self.dicomPort = dicomPort ?? Net.freePort()
        var http = Net.freePort()
        while http == self.dicomPort { http = Net.freePort() }
        httpPort = http
        let config: [String: Any] = [
            "Name": "test-\(aeTitle.value)",
            "StorageDirectory": directory + "/storage",
            "IndexDirectory": directory + "/index",
            "TemporaryDirectory": directory + "/tmp",
            "DicomAet": aeTitle.value,
            "DicomPort": self.dicomPort,
            "HttpPort": httpPort,
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "Plugins": [String](),
            "LuaScripts": [String](),
            "TcpNoDelay": true,
            "SynchronousCMove": true,
            "DicomCheckCalledAet": true,
            "DicomAssociationCloseDelay": 0,
            "DicomModalities": modalities.mapValues { [$0.aeTitle.value, "127.0.0.1", $0.port] as [Any] },
            "DicomModalitiesInDatabase": false,
            "OrthancPeers": [String: Any](),
            "StableAge": stableAge,
            "StorageCompression": false,
            "SaveJobs": false,
            "ConcurrentJobs": 2,
            "HttpProxy": "",
        ].merging(extraConfig) { _, extra in extra }
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: configPath))
    }

    /// Writes the configuration, starts the server and waits until it answers.
    static func launch(aeTitle: AETitle, in dir: TestDirectory, modalities: [String: Modality] = [:], stableAge: Int = 1,
                       dicomPort: Int? = nil) async throws -> OrthancPeer
    {
        let peer = try OrthancPeer(aeTitle: aeTitle, in: dir, modalities: modalities, stableAge: stableAge, dicomPort: dicomPort)
        try await peer.start()
        return peer
    }

    /// Starts `/usr/sbin/Orthanc CONFIG` and waits until its DICOM port accepts connections and
    /// `GET /system` answers with our AE title.
    func start(timeout: Double = 60) async throws {
        let p = PeerProcess("/usr/sbin/Orthanc", [configPath], workingDirectory: directory, logDirectory: directory)
        try p.start()
        process = p
        let port = dicomPort
        guard try await OffPool.run({ Net.waitForListener(port, timeout: timeout) }) else {
            throw TestFailure("Orthanc \(aeTitle) did not listen on DICOM port \(port) within \(timeout) s:\n\(p.output)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let system = try? await getJSON("/system") as? [String: Any], system["DicomAet"] as? String == aeTitle.value {
                return
            }
            guard p.process.isRunning, Date() < deadline else {
                throw TestFailure("Orthanc \(aeTitle) did not answer GET /system on \(httpPort):\n\(p.output)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: REST

    /// Uploads Part 10 files with `POST /instances`, one request each; returns Orthanc's instance
    /// IDs. Throws unless each answer is "Success" or "AlreadyStored".
    @discardableResult
    func upload(files: [String]) async throws -> [String] {
        var ids: [String] = []
        for file in files {
            let body = try Data(contentsOf: URL(fileURLWithPath: file))
            let answer = try await request("POST", "/instances", body: body, contentType: "application/dicom")
            guard let object = answer as? [String: Any], let id = object["ID"] as? String,
                  let status = object["Status"] as? String, status == "Success" || status == "AlreadyStored"
            else { throw TestFailure("Orthanc \(aeTitle) refused \(file): \(String(describing: answer))") }
            ids.append(id)
        }
        return ids
    }

    /// `POST /tools/find` at instance level, expanded. Query keys are DICOM keywords (PatientID,
    /// StudyInstanceUID...); values use Orthanc's wildcard matching.
    func findInstances(query: [String: String]) async throws -> [Instance] {
        try await find(level: "Instance", query: query).map { o in
            Instance(id: o["ID"] as? String ?? "", parentSeries: o["ParentSeries"] as? String ?? "",
                     mainTags: Self.strings(o["MainDicomTags"]))
        }
    }

    /// `POST /tools/find` at study level, expanded (study and patient main tags).
    func findStudies(query: [String: String]) async throws -> [Study] {
        try await find(level: "Study", query: query).map { o in
            Study(id: o["ID"] as? String ?? "", mainTags: Self.strings(o["MainDicomTags"]),
                  patientTags: Self.strings(o["PatientMainDicomTags"]), seriesIDs: o["Series"] as? [String] ?? [])
        }
    }

    /// Every string-valued tag of one instance (`GET /instances/ID/simplified-tags`), by keyword.
    func tags(_ instanceID: String) async throws -> [String: String] {
        Self.strings(try await getJSON("/instances/\(instanceID)/simplified-tags"))
    }

    /// Orthanc's IDs of every study it holds (`GET /studies`).
    func studies() async throws -> [String] {
        guard let ids = try await getJSON("/studies") as? [String] else { throw TestFailure("GET /studies: not a list") }
        return ids
    }

    func statistics() async throws -> Statistics {
        guard let s = try await getJSON("/statistics") as? [String: Any] else { throw TestFailure("GET /statistics: not an object") }
        func count(_ key: String) -> Int { s[key] as? Int ?? -1 }
        return Statistics(patients: count("CountPatients"), studies: count("CountStudies"),
                          series: count("CountSeries"), instances: count("CountInstances"))
    }

    private func find(level: String, query: [String: String]) async throws -> [[String: Any]] {
        let payload: [String: Any] = ["Level": level, "Query": query, "Expand": true]
        let body = try JSONSerialization.data(withJSONObject: payload)
        guard let rows = try await request("POST", "/tools/find", body: body, contentType: "application/json") as? [[String: Any]] else {
            throw TestFailure("Orthanc \(aeTitle): /tools/find at \(level) did not return a list")
        }
        return rows
    }

    func getJSON(_ path: String) async throws -> Any {
        try await request("GET", path, body: nil, contentType: nil)
    }

    /// One HTTP request to 127.0.0.1:httpPort; the answer parsed as JSON. Throws on a non-2xx status.
    func request(_ method: String, _ path: String, body: Data?, contentType: String?) async throws -> Any {
        var r = URLRequest(url: baseURL.appendingPathComponent(path), timeoutInterval: 60)
        r.httpMethod = method
        r.httpBody = body
        if let contentType { r.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await Self.session.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw TestFailure("Orthanc \(aeTitle): \(method) \(path) -> HTTP \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    /// No proxy, no cache, no cookies: every request goes straight to loopback.
    private static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.connectionProxyDictionary = [:]
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        c.urlCache = nil
        return URLSession(configuration: c)
    }()

    private static func strings(_ value: Any?) -> [String: String] {
        (value as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
    }

    // MARK: stopping

    /// Asks Orthanc to shut down (`POST /tools/shutdown`), waits up to `timeout` seconds for it to
    /// exit, then SIGKILLs it. Idempotent; blocks the calling thread (a clean stop takes 1.5-3.5 s).
    /// Not SIGTERM: a child started from a test thread inherits that thread's signal mask, which
    /// blocks SIGTERM and SIGINT, and Orthanc only polls a flag set by its signal handler.
    func stop(timeout: Double = 20) {
        guard let p = process else { return }
        requestShutdown()
        Self.reap(p, timeout: timeout)
        process = nil
    }

    /// Asks every peer to shut down first, then waits for each, off the cooperative pool.
    static func stopAll(_ peers: [OrthancPeer], timeout: Double = 20) async {
        _ = try? await OffPool.run {
            for peer in peers where peer.process != nil { peer.requestShutdown() }
            for peer in peers { peer.stop(timeout: timeout) }
        }
    }

    /// `POST /tools/shutdown` over a plain blocking socket (usable from deinit); errors ignored,
    /// `stop` falls back to SIGKILL.
    private func requestShutdown() {
        guard process?.process.isRunning == true else { return }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(httpPort).bigEndian
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        let request = "POST /tools/shutdown HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 512)
        _ = recv(fd, &buffer, buffer.count, 0)
    }

    private static func reap(_ p: PeerProcess, timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while p.process.isRunning && Date() < deadline { usleep(20_000) }
        if p.process.isRunning { p.signal(SIGKILL) }
        p.process.waitUntilExit()
    }

    deinit { stop() }
}
