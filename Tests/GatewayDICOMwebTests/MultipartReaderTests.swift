import Foundation
import Testing

@testable import GatewayDICOMweb

/// The STOW-RS body reader: parts and their bytes, whatever the chunking, and clear refusals.
struct MultipartReaderTests {
    /// Reads `body` fed in chunks of `chunk` bytes; returns each part's headers and bytes.
    static func read(_ body: [UInt8], boundary: String, chunk: Int) throws -> [(headers: [String: String], bytes: [UInt8])] {
        var reader = try MultipartReader(boundary: boundary)
        var parts: [(headers: [String: String], bytes: [UInt8])] = []
        var i = 0
        while i < body.count {
            let end = min(body.count, i + chunk)
            try reader.feed(body[i..<end]) { event in
                switch event {
                case .partBegan(let headers): parts.append((headers, []))
                case .data(let bytes): parts[parts.count - 1].bytes += bytes
                case .partEnded: break
                }
            }
            i = end
        }
        try reader.finish()
        return parts
    }

    /// As dicomweb-client writes a body: a line break first, each part with its Content-Type.
    static func body(_ parts: [[UInt8]], boundary: String, leadingBreak: Bool = true) -> [UInt8] {
        var b: [UInt8] = []
        for (n, part) in parts.enumerated() {
            b += Array("\(n == 0 && !leadingBreak ? "" : "\r\n")--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8)
            b += part
        }
        b += Array("\r\n--\(boundary)--\r\n".utf8)
        return b
    }

    /// Bytes that hold CR, LF, dashes and most of the delimiter, as pixel data may.
    static func awkward(_ n: Int, boundary: String) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < n {
            bytes += Array("\r\n--\(boundary.dropLast())x".utf8) + [0, 0x0D, 0x2D, 0xFF, 0x0A, UInt8(bytes.count & 0xFF)]
        }
        return Array(bytes.prefix(n))
    }

    @Test(arguments: [1, 2, 7, 64, 1000, 1 << 20])
    func partsAreReadWhateverTheChunking(chunk: Int) throws {
        let boundary = "0f1e2d3c4b5a"
        let parts = [Self.awkward(5000, boundary: boundary), [], Array("DICM".utf8), Self.awkward(70_001, boundary: boundary)]
        let read = try Self.read(Self.body(parts, boundary: boundary), boundary: boundary, chunk: chunk)
        #expect(read.count == 4)
        for (got, sent) in zip(read, parts) {
            #expect(got.bytes == sent)
            #expect(got.headers["content-type"] == "application/dicom")
        }
    }

    @Test func bodyMayStartWithTheBoundaryAndHaveAPreambleAndEpilogue() throws {
        let boundary = "b"
        var body = Self.body([[1, 2, 3]], boundary: boundary, leadingBreak: false)
        var read = try Self.read(body, boundary: boundary, chunk: 3)
        #expect(read.map(\.bytes) == [[1, 2, 3]])
        body = Array("preamble text\r\n".utf8) + Self.body([[4], [5]], boundary: boundary) + Array("epilogue".utf8)
        read = try Self.read(body, boundary: boundary, chunk: 5)
        #expect(read.map(\.bytes) == [[4], [5]])
    }

    @Test func transportPaddingAfterABoundaryAndPartsWithoutHeaders() throws {
        let body = Array("--xyz  \t\r\n\r\nAB\r\n--xyz\r\nContent-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\n\r\nCD\r\n--xyz--".utf8)
        let read = try Self.read(body, boundary: "xyz", chunk: 4)
        #expect(read.map(\.bytes) == [Array("AB".utf8), Array("CD".utf8)])
        #expect(read[0].headers.isEmpty)
        #expect(read[1].headers["content-type"] == "application/dicom; transfer-syntax=1.2.840.10008.1.2.1")
    }

    @Test func aBodyCutShortIsRefused() throws {
        let full = Self.body([[1, 2, 3, 4]], boundary: "cut")
        #expect(throws: MultipartError.self) { try Self.read(Array(full.dropLast(6)), boundary: "cut", chunk: 2) }
        #expect(throws: MultipartError.self) { try Self.read(Array("no boundary here".utf8), boundary: "cut", chunk: 2) }
        #expect(throws: MultipartError.self) { try Self.read(Array("--cut\r\nContent-Type: x".utf8), boundary: "cut", chunk: 2) }
    }

    @Test func aWrongBoundaryOrOversizedHeadersAreRefused() throws {
        #expect(throws: MultipartError.self) { try MultipartReader(boundary: "") }
        #expect(throws: MultipartError.self) { try MultipartReader(boundary: String(repeating: "a", count: 71)) }
        // "--abcdef" where the boundary is "abc": text after the boundary on its line.
        #expect(throws: MultipartError.self) { try Self.read(Array("--abcdef\r\n\r\nx\r\n--abc--".utf8), boundary: "abc", chunk: 100) }
        let headers = "--h\r\nX-Long: " + String(repeating: "y", count: MultipartReader.maxHeaderBytes + 10)
        #expect(throws: MultipartError.self) { try Self.read(Array(headers.utf8), boundary: "h", chunk: 4096) }
    }

    @Test func mediaTypeParametersQuotedOrNot() throws {
        let quoted = try #require(MediaType(#"Multipart/Related; type="application/dicom"; boundary="a;b \"c\"""#))
        #expect(quoted.type == "multipart/related")
        #expect(quoted.parameters["type"] == "application/dicom")
        #expect(quoted.parameters["boundary"] == #"a;b "c""#)
        let bare = try #require(MediaType("multipart/related;type=application/dicom;boundary=XyZ-1"))
        #expect(bare.parameters == ["type": "application/dicom", "boundary": "XyZ-1"])
        #expect(MediaType("application/json")?.parameters == [:])
        #expect(MediaType("not a media type") == nil)
        #expect(MediaType("multipart/related; boundary=\"unterminated") == nil)
    }
}
