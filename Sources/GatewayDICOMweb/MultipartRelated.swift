import Foundation
import Hummingbird
import NIOCore
import _NIOFileSystem

/// One part of a `multipart/related` response (RFC 2387, PS3.18 8.6.1.2).
public struct MultipartPart: Sendable {
    /// Where the part's bytes come from.
    public enum Content: Sendable {
        case bytes([UInt8])
        /// A file streamed from disk in chunks, never held in memory.
        case file(String)
        /// A file made for this response (a transcoded copy): streamed, then deleted.
        case temporaryFile(String)
    }

    /// The part's `Content-Type`, e.g. `application/dicom; transfer-syntax=1.2.840.10008.1.2.1`.
    public var contentType: String
    /// The part's `Content-Location`, if any.
    public var location: String?
    /// Produces the content when the part's turn comes (so a transcoding happens only then).
    public var content: @Sendable () async throws -> Content

    public init(contentType: String, location: String? = nil, content: @escaping @Sendable () async throws -> Content) {
        self.contentType = contentType
        self.location = location
        self.content = content
    }

    public init(contentType: String, location: String? = nil, bytes: [UInt8]) {
        self.init(contentType: contentType, location: location) { .bytes(bytes) }
    }

    public init(contentType: String, location: String? = nil, file: String) {
        self.init(contentType: contentType, location: location) { .file(file) }
    }
}

/// Writes `multipart/related` bodies part after part, files in chunks.
///
/// ```swift
/// let multipart = MultipartRelated(type: "application/dicom")
/// response.headers[.contentType] = multipart.contentType
/// let body = multipart.body(parts)   // a Hummingbird ResponseBody
/// ```
public struct MultipartRelated: Sendable {
    /// The root media type of the parts (`application/dicom`, `application/octet-stream`...).
    public let type: String
    public let boundary: String
    /// Bytes read from disk at a time.
    public let chunkLength: Int

    public init(type: String, boundary: String = MultipartRelated.newBoundary(), chunkLength: Int = 1 << 20) {
        self.type = type
        self.boundary = boundary
        self.chunkLength = chunkLength
    }

    /// A boundary that cannot occur in DICOM data by chance: 32 random hexadecimal digits.
    public static func newBoundary() -> String {
        "dicomgateway" + (0..<4).map { _ in String(format: "%08x", UInt32.random(in: 0...UInt32.max)) }.joined()
    }

    /// The response's `Content-Type`.
    public var contentType: String { "multipart/related; type=\"\(type)\"; boundary=\(boundary)" }

    /// The delimiter and headers before a part's content.
    public func partHeader(_ part: MultipartPart) -> String {
        var text = "--\(boundary)\r\nContent-Type: \(part.contentType)\r\n"
        if let location = part.location { text += "Content-Location: \(location)\r\n" }
        return text + "\r\n"
    }

    /// The close delimiter after the last part.
    public var closeDelimiter: String { "\r\n--\(boundary)--\r\n" }

    /// Writes the whole body through `write`, in order: each part's header, content, then the close
    /// delimiter. Temporary files are deleted once written (or when writing fails).
    public func write(_ parts: [MultipartPart], to write: (ByteBuffer) async throws -> Void) async throws {
        for (index, part) in parts.enumerated() {
            let lead = (index == 0 ? "" : "\r\n") + partHeader(part)
            let content = try await part.content()
            // A temporary file goes once written, or when the client has gone before it could be.
            defer { if case .temporaryFile(let path) = content { try? FileManager.default.removeItem(atPath: path) } }
            try await write(ByteBuffer(string: lead))
            switch content {
            case .bytes(let bytes): try await write(ByteBuffer(bytes: bytes))
            case .file(let path), .temporaryFile(let path): try await stream(path, to: write)
            }
        }
        if parts.isEmpty { try await write(ByteBuffer(string: "--\(boundary)--\r\n")) } else { try await write(ByteBuffer(string: closeDelimiter)) }
    }

    /// A Hummingbird response body that writes `parts` as the client reads.
    public func body(_ parts: [MultipartPart]) -> ResponseBody {
        ResponseBody { writer in
            try await self.write(parts) { buffer in try await writer.write(buffer) }
            try await writer.finish(nil)
        }
    }

    private func stream(_ path: String, to write: (ByteBuffer) async throws -> Void) async throws {
        try await Self.stream(path, chunkLength: chunkLength, to: write)
    }

    /// Reads the file at `path` in chunks of `chunkLength` bytes, each handed to `write`.
    ///
    /// Each chunk is read with one pread on the task's own thread: the cached instances are
    /// mostly in the page cache, and a hop to a file-system thread pool per chunk (NIOFileSystem's
    /// readChunks) cost more CPU than the read (WADO-RS series retrieve, scripts/bench/dicomweb).
    static func stream(_ path: String, chunkLength: Int, to write: (ByteBuffer) async throws -> Void) async throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
        defer { close(fd) }
        var offset: off_t = 0
        while true {
            var buffer = ByteBufferAllocator().buffer(capacity: chunkLength)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: chunkLength) { raw -> Int in
                var n: Int
                repeat { n = pread(fd, raw.baseAddress, chunkLength, offset) } while n < 0 && errno == EINTR
                return max(n, 0)
            }
            if count == 0 {
                // End of file, or a read error (told apart: a short file is not an error).
                var status = stat()
                if fstat(fd, &status) == 0, off_t(status.st_size) <= offset { return }
                throw FileReadError(path: path, errno: errno)
            }
            offset += off_t(count)
            try await write(buffer)
        }
    }
}

/// A file of a response could not be read.
struct FileReadError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32
    var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
}
