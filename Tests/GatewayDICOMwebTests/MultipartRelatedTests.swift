import Foundation
import GatewayDICOMweb
import NIOCore
import Testing

@Suite struct MultipartRelatedTests {
    /// Collects what the writer writes, and how many writes it took.
    actor Sink {
        var bytes: [UInt8] = []
        var writes = 0
        func take(_ buffer: ByteBuffer) {
            bytes += buffer.readableBytesView
            writes += 1
        }
    }

    @Test func partsCarryTheirContentTypeLocationAndBytesBetweenBoundaries() async throws {
        let multipart = MultipartRelated(type: "application/octet-stream", boundary: "B0UNDARY")
        let parts = [
            MultipartPart(contentType: "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1",
                          location: "/dicom-web/studies/1/series/2/instances/3/frames/1", bytes: [1, 2, 3]),
            MultipartPart(contentType: "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50", bytes: [0xFF, 0xD8]),
        ]
        let sink = Sink()
        try await multipart.write(parts) { await sink.take($0) }
        let expected: [UInt8] = Array("--B0UNDARY\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Location: /dicom-web/studies/1/series/2/instances/3/frames/1\r\n\r\n".utf8)
            + [1, 2, 3] + Array("\r\n--B0UNDARY\r\nContent-Type: image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50\r\n\r\n".utf8)
            + [0xFF, 0xD8] + Array("\r\n--B0UNDARY--\r\n".utf8)
        #expect(await sink.bytes == expected)
        #expect(multipart.contentType == "multipart/related; type=\"application/octet-stream\"; boundary=B0UNDARY")
    }

    @Test func fileIsStreamedInChunksAndTemporaryFileDeleted() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("multipart-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let content = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let kept = dir + "/kept.dcm", temporary = dir + "/transcoded.dcm"
        _ = FileManager.default.createFile(atPath: kept, contents: Data(content))
        _ = FileManager.default.createFile(atPath: temporary, contents: Data(content.reversed()))
        let multipart = MultipartRelated(type: "application/dicom", boundary: "xyz", chunkLength: 1000)
        let sink = Sink()
        try await multipart.write([
            MultipartPart(contentType: "application/dicom", file: kept),
            MultipartPart(contentType: "application/dicom") { .temporaryFile(temporary) },
        ]) { await sink.take($0) }
        let bytes = await sink.bytes
        let head1 = Array("--xyz\r\nContent-Type: application/dicom\r\n\r\n".utf8)
        let head2 = Array("\r\n--xyz\r\nContent-Type: application/dicom\r\n\r\n".utf8)
        #expect(bytes == head1 + content + head2 + content.reversed() + Array("\r\n--xyz--\r\n".utf8))
        #expect(await sink.writes >= 20, "10,000-byte files in 1,000-byte chunks: at least 10 writes each")
        #expect(FileManager.default.fileExists(atPath: kept))
        #expect(!FileManager.default.fileExists(atPath: temporary))
    }

    @Test func aFileThatCannotBeReadFailsTheResponseSayingWhich() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("multipart-missing-\(UUID().uuidString).dcm").path
        let multipart = MultipartRelated(type: "application/dicom", boundary: "xyz", chunkLength: 1000)
        let sink = Sink()
        await #expect(throws: (any Error).self) {
            try await multipart.write([MultipartPart(contentType: "application/dicom", file: missing)]) { await sink.take($0) }
        }
        do {
            try await multipart.write([MultipartPart(contentType: "application/dicom", file: missing)]) { await sink.take($0) }
        } catch {
            #expect("\(error)".contains(missing), "\(error)")
        }
    }

    struct ClientGone: Error {}

    @Test func temporaryFileIsDeletedWhenTheClientGoesBeforeItIsSent() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gone-\(UUID().uuidString).dcm").path
        _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        let multipart = MultipartRelated(type: "application/dicom")
        await #expect(throws: ClientGone.self) {
            try await multipart.write([MultipartPart(contentType: "application/dicom") { .temporaryFile(path) }]) { _ in throw ClientGone() }
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func boundariesAreFreshEachTime() {
        let a = MultipartRelated.newBoundary(), b = MultipartRelated.newBoundary()
        #expect(a != b)
        #expect(a.count == "dicomgateway".count + 32)
    }
}
