import Foundation
import GatewayStore
import GRDB

/// Peers and probes the worklist tests share: a pynetdicom reporting site, a webhook receiver,
/// and read-only looks at the gateway's index.
enum WorklistPeers {
    /// A pynetdicom Storage SCP that writes each instance as `<SOPInstanceUID>.dcm` in a folder.
    static let storeSCP = #"""
        import os, sys
        from pynetdicom import AE, evt, AllStoragePresentationContexts
        from pynetdicom.sop_class import Verification
        port, folder, title = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        os.makedirs(folder, exist_ok=True)
        def on_store(event):
            ds = event.dataset
            ds.file_meta = event.file_meta
            path = os.path.join(folder, ds.SOPInstanceUID + ".dcm")
            ds.save_as(path + ".tmp", write_like_original=False)
            os.rename(path + ".tmp", path)
            return 0x0000
        ae = AE(ae_title=title)
        ae.supported_contexts = AllStoragePresentationContexts
        ae.add_supported_context(Verification)
        ae.start_server(("127.0.0.1", port), block=True, evt_handlers=[(evt.EVT_C_STORE, on_store)])
        """#

    /// A webhook receiver: appends each POST body as one line to a file; the first `refuse`
    /// requests are answered 503 (the gateway must retry), the rest 200.
    static let webhook = #"""
        import sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        port, out, refuse = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        seen = [0]
        class Hook(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen[0] += 1
                if seen[0] <= refuse:
                    self.send_response(503); self.end_headers(); return
                with open(out, "ab") as f:
                    f.write(body.replace(b"\n", b" ") + b"\n")
                self.send_response(200); self.end_headers()
            def log_message(self, *args):
                pass
        HTTPServer(("127.0.0.1", port), Hook).serve_forever()
        """#

    static func start(_ script: String, named name: String, _ arguments: [String], in dir: TestDirectory) throws -> PeerProcess {
        let path = dir.path + "/\(name).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return try PythonPeer.process(path, arguments, logDirectory: dir.path).start()
    }

    /// The webhook's received notifications, as JSON objects.
    static func notifications(in file: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The gateway's index, read-only while it runs.
    static func index(_ gw: GatewayProcess) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: gw.storageRoot + "/index.sqlite", configuration: configuration)
    }

    static func rows(_ gw: GatewayProcess, _ sql: String, _ arguments: IndexArguments = []) throws -> [IndexRow] {
        try gw.indexRows(sql, arguments)
    }

    /// Worklist items by study UID: state, site, class rank and flag.
    static func items(_ gw: GatewayProcess) throws -> [String: IndexRow] {
        Dictionary(uniqueKeysWithValues: try rows(gw, "SELECT * FROM worklist_item").map { ($0["studyUID"] as String, $0) })
    }

    /// Files in a folder (none when it does not exist).
    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasSuffix(".tmp") }
    }
}
