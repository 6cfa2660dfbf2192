import Crypto
import Foundation

/// SHA-256 of a Part 10 file's data set, excluding the 128-byte preamble and the file meta
/// header: two senders of the same instance write different meta headers (source AE title),
/// yet the same data set is the same instance.
public enum DatasetDigest {
    public static func sha256(ofFile path: String) throws(StoreError) -> (digest: String, size: Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError("cannot read \(path)") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 144)) ?? Data()
        var offset: UInt64 = 0
        if head.count >= 144, head[128..<132] == Data("DICM".utf8),
           head[132..<138] == Data([0x02, 0x00, 0x00, 0x00, 0x55, 0x4C]) {  // (0002,0000) UL
            let length = UInt64(head[140]) | UInt64(head[141]) << 8 | UInt64(head[142]) << 16 | UInt64(head[143]) << 24
            offset = 144 + length
        }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try handle.seek(toOffset: 0)
            var position: UInt64 = 0
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                size += Int64(chunk.count)
                let end = position + UInt64(chunk.count)
                if end > offset {
                    let start = offset > position ? Int(offset - position) : 0
                    hasher.update(data: chunk[chunk.startIndex + start..<chunk.endIndex])
                }
                position = end
            }
        } catch {
            throw StoreError("cannot read \(path): \(error)")
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
    }
}
