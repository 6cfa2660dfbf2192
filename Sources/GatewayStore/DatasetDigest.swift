import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 of a Part 10 file's data set, excluding the 128-byte preamble and the file meta
/// header: two senders of the same instance write different meta headers (source AE title),
/// yet the same data set is the same instance.
public enum DatasetDigest {
    public static func sha256(ofFile path: String) throws(StoreError) -> (digest: String, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        var size: Int64 = 0
        var offset = -1  // where the data set starts, once the head has been read
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            var start = 0
            if offset < 0 {
                offset = metaHeaderLength(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                start = min(offset, n)
            } else if Int64(offset) > size {
                start = min(Int(Int64(offset) - size), n)
            }
            if start < n { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[start..<n])) }
            size += Int64(n)
        }
        return (Hex.string(hasher.finalize()), size)
    }

    /// Length of preamble + "DICM" + file meta group when the head holds (0002,0000) UL; else 0.
    static func metaHeaderLength(_ head: UnsafeRawBufferPointer) -> Int {
        guard head.count >= 144, head[128] == 0x44, head[129] == 0x49, head[130] == 0x43, head[131] == 0x4D,
              head[132] == 0x02, head[133] == 0x00, head[134] == 0x00, head[135] == 0x00, head[136] == 0x55, head[137] == 0x4C
        else { return 0 }
        let length = Int(head[140]) | Int(head[141]) << 8 | Int(head[142]) << 16 | Int(head[143]) << 24
        return 144 + length
    }
}
