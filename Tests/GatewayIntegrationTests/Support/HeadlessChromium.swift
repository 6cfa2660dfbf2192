import Foundation

/// Debian's Chromium, headless (`scripts/setup` installs it): loads a page, lets its scripts run
/// for a budget of virtual time (fetches included) and returns the DOM as serialised HTML,
/// without the page's scripts and styles.
enum HeadlessChromium {
    static let path = "/usr/bin/chromium"

    /// `chromium --headless=new --dump-dom url` with its own profile under `dir`.
    /// - Throws: when Chromium is missing (run scripts/setup), fails, or prints no document.
    static func dumpDOM(_ url: String, in dir: TestDirectory, virtualTimeMilliseconds: Int = 8000, timeout: Double = 90) async throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("Chromium is not installed at \(path), and the browser test needs it: run scripts/setup")
        }
        let arguments = [
            // --no-sandbox: tests may run as root, where Chromium's sandbox refuses to start.
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--user-data-dir=\(dir.sub("chromium-profile"))",
            "--window-size=1366,900", "--virtual-time-budget=\(virtualTimeMilliseconds)", "--dump-dom", url,
        ]
        let result = try await ProcessRun.run(path, arguments, in: dir, timeout: timeout)
        guard result.status == 0, result.stdout.contains("</html>") else {
            throw TestFailure("chromium --dump-dom \(url) failed (status \(result.status), -1: timed out after \(Int(timeout)) s):\n"
                              + "\(result.stdout.suffix(1000))\n\(result.stderr.suffix(3000))")
        }
        return withoutScripts(result.stdout)
    }

    /// `chromium --headless=new --screenshot` of `url` at a 1366 px laptop's size.
    static func screenshot(_ url: String, to file: String, in dir: TestDirectory, height: Int = 900) async throws {
        let result = try await ProcessRun.run(path, [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
            "--user-data-dir=\(dir.sub("chromium-profile"))", "--window-size=1366,\(height)", "--virtual-time-budget=8000",
            "--screenshot=\(file)", url,
        ], in: dir, timeout: 90)
        guard result.status == 0, FileManager.default.fileExists(atPath: file) else {
            throw TestFailure("chromium --screenshot \(url) failed (status \(result.status)):\n\(result.stderr.suffix(3000))")
        }
    }

    /// The DOM without the page's own `<script>` and `<style>` text, so that assertions on the
    /// DOM are not met by the source of the script that renders it.
    static func withoutScripts(_ html: String) -> String {
        var out = html
        for tag in ["script", "style"] {
            while let start = out.range(of: "<\(tag)"), let end = out.range(of: "</\(tag)>", range: start.upperBound..<out.endIndex) {
                out.replaceSubrange(start.lowerBound..<end.upperBound, with: "")
            }
        }
        return out
    }
}

/// Just enough of a serialised DOM for precise assertions: elements found by tag and attributes,
/// with their attributes and inner HTML. Chromium writes attributes in double quotes and closes
/// every element it does not know to be void (SVG's `path` and `circle` included).
struct DOMElement {
    let tag: String
    let attributes: [String: String]
    let inner: String

    subscript(_ name: String) -> String? { attributes[name] }

    /// The classes in `class`.
    var classes: Set<String> { Set((attributes["class"] ?? "").split(separator: " ").map(String.init)) }

    /// Tags that separate words in the text content; inline ones (span, b, a) do not.
    static let blockTags: Set<String> = ["td", "th", "tr", "div", "p", "br", "li", "dd", "dt", "h1", "h2", "h3", "option", "table", "text", "title"]

    /// The text content: tags dropped (block ones as a space), the common entities decoded,
    /// whitespace collapsed.
    var text: String {
        var out = ""
        var tag: String?
        for c in inner {
            if c == "<" {
                tag = ""
            } else if c == ">", let name = tag {
                let bare = name.drop { $0 == "/" }.prefix { $0 != " " && $0 != "/" }
                if DOMElement.blockTags.contains(String(bare)) { out.append(" ") }
                tag = nil
            } else if tag != nil {
                tag!.append(c)
            } else {
                out.append(c)
            }
        }
        return DOMElement.decode(out).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Elements inside this one.
    func all(_ tag: String, _ match: [String: String] = [:], class name: String? = nil) -> [DOMElement] {
        DOMElement.all(in: inner, tag, match, class: name)
    }

    func first(_ tag: String, _ match: [String: String] = [:], class name: String? = nil) -> DOMElement? {
        all(tag, match, class: name).first
    }

    static func decode(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Every `<tag ...>` in `html` whose attributes include `match` (and the class `name`), in
    /// document order, outer elements before the ones nested in them.
    static func all(in html: String, _ tag: String, _ match: [String: String] = [:], class name: String? = nil) -> [DOMElement] {
        let open = "<" + tag, close = "</" + tag + ">"
        var found: [DOMElement] = []
        var cursor = html.startIndex
        while let start = html.range(of: open, range: cursor..<html.endIndex) {
            cursor = start.upperBound
            guard let next = html[start.upperBound...].first, next == " " || next == ">" || next == "/",
                  let tagEnd = html.range(of: ">", range: start.upperBound..<html.endIndex) else { continue }
            let attributes = parseAttributes(String(html[start.upperBound..<tagEnd.lowerBound]))
            // The matching close tag, counting nested elements of the same name.
            var depth = 1
            var scan = tagEnd.upperBound
            var innerEnd = html.endIndex
            while depth > 0 {
                let nextOpen = html.range(of: open, range: scan..<html.endIndex).flatMap { r -> Range<String.Index>? in
                    let after = html[r.upperBound...].first
                    return after == " " || after == ">" ? r : nil
                }
                guard let nextClose = html.range(of: close, range: scan..<html.endIndex) else { break }
                if let o = nextOpen, o.lowerBound < nextClose.lowerBound {
                    depth += 1
                    scan = o.upperBound
                } else {
                    depth -= 1
                    scan = nextClose.upperBound
                    if depth == 0 { innerEnd = nextClose.lowerBound }
                }
            }
            let element = DOMElement(tag: tag, attributes: attributes, inner: String(html[tagEnd.upperBound..<innerEnd]))
            if match.allSatisfy({ element[$0.key] == $0.value }) && (name.map { element.classes.contains($0) } ?? true) {
                found.append(element)
            }
        }
        return found
    }

    private static func parseAttributes(_ text: String) -> [String: String] {
        var attributes: [String: String] = [:]
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\n" || $0 == "/" }
            guard !rest.isEmpty else { break }
            let name = rest.prefix { $0 != "=" && $0 != " " }
            rest = rest.dropFirst(name.count)
            if rest.hasPrefix("=\"") {
                rest = rest.dropFirst(2)
                let value = rest.prefix { $0 != "\"" }
                attributes[String(name)] = decode(String(value))
                rest = rest.dropFirst(value.count + 1)
            } else {
                attributes[String(name)] = ""
            }
        }
        return attributes
    }
}
