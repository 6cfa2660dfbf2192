import Foundation
import Testing

/// A page from another origin that uses only the browser's fetch: it lists the study by QIDO-RS,
/// fetches a frame by WADO-RS (multipart/related, parsed in the page) and draws it on a canvas,
/// in headless Chromium. Proves CORS (the QIDO requests carry a custom header, so the browser
/// preflights them) and multipart parsing in a real browser; a gateway without the origin in
/// `dicomweb.cors_origins` is unreadable to the same page.
@Suite(.serialized) struct DicomWebBrowserTests {
    static func page(root: String, study: String) -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>frame</title></head><body>
        <canvas id="c" width="4" height="4"></canvas><div id="result" data-status="pending">pending</div>
        <script>
        (async () => {
          const out = document.getElementById("result");
          const root = "\(root)", study = "\(study)";
          const json = { headers: { "Accept": "application/dicom+json", "X-Viewer": "test" } };
          try {
            const studies = await (await fetch(`${root}/studies?StudyInstanceUID=${study}`, json)).json();
            const instances = await (await fetch(`${root}/studies/${study}/instances`, json)).json();
            const sop = instances[0]["00080018"].Value[0], series = instances[0]["0020000E"].Value[0];
            const frame = await fetch(`${root}/studies/${study}/series/${series}/instances/${sop}/frames/1`,
              { headers: { "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*' } });
            const type = frame.headers.get("Content-Type");
            const boundary = type.match(/boundary="?([^";]+)"?/)[1];
            const body = new Uint8Array(await frame.arrayBuffer());
            const text = new TextDecoder("latin1").decode(body);
            const start = text.indexOf("\\r\\n\\r\\n", text.indexOf("--" + boundary)) + 4;
            const end = text.indexOf("\\r\\n--" + boundary, start);
            const px = body.slice(start, end);
            let sum = 0; for (const b of px) sum += b;
            const v = []; for (let i = 0; i + 1 < px.length; i += 2) v.push(px[i] | (px[i + 1] << 8));
            const min = Math.min(...v), max = Math.max(...v);
            const ctx = document.getElementById("c").getContext("2d");
            const img = ctx.createImageData(4, 4);
            v.forEach((x, i) => { const g = Math.floor(255 * (x - min) / ((max - min) || 1)); img.data.set([g, g, g, 255], i * 4); });
            ctx.putImageData(img, 0, 0);
            const p = ctx.getImageData(1, 0, 1, 1).data;
            out.setAttribute("data-studies", String(studies.length));
            out.setAttribute("data-bytes", String(px.length));
            out.setAttribute("data-sum", String(sum));
            out.setAttribute("data-pixel", Array.from(p).join(","));
            out.setAttribute("data-part-type", (text.slice(0, start).match(/Content-Type: ([^\\r]*)/i) || ["", ""])[1]);
            out.setAttribute("data-status", "ok");
            out.textContent = "ok";
          } catch (e) {
            out.setAttribute("data-status", "error");
            out.textContent = String(e);
          }
        })();
        </script></body></html>
        """
    }

    static let server = #"""
        import http.server, os, sys
        os.chdir(sys.argv[1])
        http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), http.server.SimpleHTTPRequestHandler).serve_forever()
        """#

    static func attribute(_ name: String, in dom: String) -> String? {
        guard let element = dom.range(of: "id=\"result\""), let close = dom.range(of: ">", range: element.upperBound..<dom.endIndex) else { return nil }
        let tag = dom[dom.startIndex..<close.lowerBound].suffix(from: dom[..<element.lowerBound].lastIndex(of: "<") ?? dom.startIndex)
        guard let r = tag.range(of: "\(name)=\"") else { return nil }
        return String(tag[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test func aPageOfAnotherOriginListsTheStudyAndDrawsAFrame() async throws {
        let dir = TestDirectory("dicomweb-page")
        let pagePort = Net.freePort()
        let origin = "http://127.0.0.1:\(pagePort)"
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source], allow: [echo, store] }
            dicomweb: { cors_origins: [\(origin)] }
            """)
        try gateway.start()
        defer { _ = gateway.terminate() }
        let study = TestData.newUID()
        let files = try TestData.study(in: dir.sub("in"), count: 1, studyUID: study)
        try #require(try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files, in: dir).status == 0)

        let site = dir.sub("site")
        try Self.page(root: "http://127.0.0.1:\(gateway.httpPort)/dicom-web", study: study)
            .write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        try Self.server.write(toFile: dir.path + "/serve.py", atomically: true, encoding: .utf8)
        let server = try PythonPeer.process(dir.path + "/serve.py", [site, "\(pagePort)"], logDirectory: dir.path).start()
        defer { server.stop() }
        try #require(Net.waitForListener(pagePort), "the page's server did not listen")

        let dom = try await HeadlessChromium.dumpDOM("\(origin)/index.html", in: dir)
        #expect(Self.attribute("data-status", in: dom) == "ok", "\(dom.suffix(1500))\ngateway:\n\(gateway.peer?.output.suffix(2000) ?? "")")
        // The frame is the stored pixel data: 4 x 4 x 16 bits, byte i = i * 31 (TestData's template).
        let pixels = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(Self.attribute("data-studies", in: dom) == "1")
        #expect(Self.attribute("data-bytes", in: dom) == "32")
        #expect(Self.attribute("data-sum", in: dom) == "\(pixels.reduce(0) { $0 + Int($1) })")
        #expect(Self.attribute("data-part-type", in: dom)?.contains("transfer-syntax=1.2.840.10008.1.2.1") == true, "\(dom.suffix(800))")
        // The canvas holds the frame: pixel (1,0) drawn with the page's min-max window, opaque.
        let values = stride(from: 0, to: 32, by: 2).map { Int(pixels[$0]) | Int(pixels[$0 + 1]) << 8 }
        let (low, high) = (values.min()!, values.max()!)
        let grey = 255 * (values[1] - low) / (high - low)
        #expect(Self.attribute("data-pixel", in: dom) == "\(grey),\(grey),\(grey),255")

        // Without the origin in cors_origins the browser keeps the answers from the page.
        let closed = try GatewayProcess(directory: TestDirectory("dicomweb-page-closed"))
        try closed.start()
        defer { _ = closed.terminate() }
        try Self.page(root: "http://127.0.0.1:\(closed.httpPort)/dicom-web", study: study)
            .write(toFile: site + "/closed.html", atomically: true, encoding: .utf8)
        let refused = try await HeadlessChromium.dumpDOM("\(origin)/closed.html", in: dir)
        #expect(Self.attribute("data-status", in: refused) == "error", "\(refused.suffix(1500))")
    }
}
