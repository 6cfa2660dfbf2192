import Foundation

/// `multipart/related` bodies (RFC 2387 over RFC 2046 §5.1), as STOW-RS requests carry them:
/// the media type's parameters (quoted or not), and a streaming reader that hands out each part's
/// headers and bytes as they arrive, never the whole body at once.

/// A media type with its parameters, from a `Content-Type` value such as
/// `multipart/related; type="application/dicom"; boundary=abc`. Type, subtype and parameter
/// names are lower-cased; values keep their case, unquoted (backslash escapes removed).
public struct MediaType: Sendable, Equatable {
    public var type: String
    public var parameters: [String: String]

    /// Nil when `value` is not `type/subtype` followed by `; name=value` parameters.
    public init?(_ value: String) {
        var fields = MediaType.split(value)
        guard !fields.isEmpty else { return nil }
        let main = fields.removeFirst().trimmingCharacters(in: .whitespaces).lowercased()
        let halves = main.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, !halves[0].isEmpty, !halves[1].isEmpty, !main.contains(" ") else { return nil }
        type = main
        parameters = [:]
        for field in fields {
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { return nil }
            if raw.hasPrefix("\"") {
                guard raw.count >= 2, raw.hasSuffix("\"") else { return nil }
                raw = String(raw.dropFirst().dropLast())
                var unescaped = ""
                var escaping = false
                for c in raw {
                    if escaping { unescaped.append(c); escaping = false } else if c == "\\" { escaping = true } else { unescaped.append(c) }
                }
                raw = unescaped
            }
            parameters[name] = raw
        }
    }

    /// Splits at `;` outside quoted strings.
    static func split(_ value: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var escaping = false
        for c in value {
            if escaping { current.append(c); escaping = false; continue }
            if quoted && c == "\\" { current.append(c); escaping = true; continue }
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}

/// Why a multipart body cannot be read (answered 400).
public struct MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a `multipart/related` body chunk by chunk. The body is `--boundary`, part headers, a
/// blank line, the part's bytes, `CRLF--boundary` again, ..., and `CRLF--boundary--`; the
/// preamble before the first boundary and the epilogue after the last are ignored.
///
/// ```swift
/// var reader = try MultipartReader(boundary: "abc")
/// for chunk in body { try reader.feed(chunk) { event in ... } }
/// try reader.finish()
/// ```
public struct MultipartReader: Sendable {
    public enum Event: Equatable {
        /// A part starts; its header names lower-cased.
        case partBegan(headers: [String: String])
        /// The next bytes of the current part.
        case data(ArraySlice<UInt8>)
        case partEnded
    }

    enum State { case preamble, afterDelimiter, headers, body, epilogue }

    /// Part headers longer than this are refused.
    public static let maxHeaderBytes = 16 << 10

    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble
    public private(set) var parts = 0

    /// - Throws: when the boundary is empty, over 70 characters (RFC 2046) or holds CR or LF.
    public init(boundary: String) throws {
        guard !boundary.isEmpty, boundary.utf8.count <= 70, !boundary.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw MultipartError("the boundary parameter must have 1 to 70 characters and no line breaks")
        }
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first boundary may start the body: as if a line break came before it.
        buffer = [0x0D, 0x0A]
    }

    /// Takes the next bytes of the body and reports what they complete.
    public mutating func feed<Bytes: Sequence>(_ chunk: Bytes, _ handle: (Event) throws -> Void) throws where Bytes.Element == UInt8 {
        buffer.append(contentsOf: chunk)
        while true {
            switch state {
            case .preamble:
                guard let at = find(delimiter) else {
                    buffer.removeFirst(max(0, buffer.count - (delimiter.count - 1)))
                    return
                }
                buffer.removeFirst(at + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard buffer.count >= 2 else { return }
                if buffer[0] == 0x2D && buffer[1] == 0x2D {  // "--": the closing boundary
                    buffer.removeAll()
                    state = .epilogue
                    continue
                }
                guard let lineEnd = find([0x0D, 0x0A]) else {
                    if buffer.count > 1024 { throw MultipartError("a boundary line is not followed by a line break") }
                    return
                }
                // Transport padding (spaces, tabs) may follow a boundary.
                guard buffer[..<lineEnd].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
                    throw MultipartError("a boundary is followed by other text on its line (is the boundary parameter right?)")
                }
                buffer.removeFirst(lineEnd + 2)
                state = .headers
            case .headers:
                if buffer.count >= 2 && buffer[0] == 0x0D && buffer[1] == 0x0A {
                    buffer.removeFirst(2)
                    try begin([:], handle)
                    continue
                }
                guard let end = find([0x0D, 0x0A, 0x0D, 0x0A]) else {
                    if buffer.count > Self.maxHeaderBytes { throw MultipartError("the headers of part \(parts + 1) are over \(Self.maxHeaderBytes) bytes") }
                    return
                }
                let headers = try Self.headers(buffer[..<end], part: parts + 1)
                buffer.removeFirst(end + 4)
                try begin(headers, handle)
            case .body:
                if let at = find(delimiter) {
                    if at > 0 { try handle(.data(buffer[..<at])) }
                    try handle(.partEnded)
                    buffer.removeFirst(at + delimiter.count)
                    state = .afterDelimiter
                    continue
                }
                // Everything but a tail that could be the start of a delimiter.
                let safe = buffer.count - (delimiter.count - 1)
                if safe > 0 {
                    try handle(.data(buffer[..<safe]))
                    buffer.removeFirst(safe)
                }
                return
            case .epilogue:
                buffer.removeAll()
                return
            }
        }
    }

    /// The body has ended: throws unless its closing boundary was read.
    public func finish() throws {
        switch state {
        case .epilogue: return
        case .preamble: throw MultipartError("the body has no boundary line (--boundary) of its Content-Type")
        case .body, .headers, .afterDelimiter:
            throw MultipartError("the body ends inside part \(max(parts, 1)), before the closing boundary (--boundary--)")
        }
    }

    private mutating func begin(_ headers: [String: String], _ handle: (Event) throws -> Void) throws {
        parts += 1
        state = .body
        try handle(.partBegan(headers: headers))
    }

    /// The first index of `pattern` in the buffer.
    private func find(_ pattern: [UInt8]) -> Int? {
        let n = buffer.count, m = pattern.count
        guard n >= m else { return nil }
        return buffer.withUnsafeBufferPointer { b in
            pattern.withUnsafeBufferPointer { p in
                let first = p[0]
                var i = 0
                while i <= n - m {
                    if b[i] == first {
                        var j = 1
                        while j < m && b[i + j] == p[j] { j += 1 }
                        if j == m { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }

    static func headers(_ bytes: ArraySlice<UInt8>, part: Int) throws -> [String: String] {
        var headers: [String: String] = [:]
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw MultipartError("part \(part) has a header line without a colon")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }
}
