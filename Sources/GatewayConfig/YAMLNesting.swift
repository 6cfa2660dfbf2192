/// Yams 5 composes a document recursively, one call per nested collection, with no bound: a
/// 3 KB file of `{` overflows the stack (found by `scripts/fuzz/run-swift config`), and a reload
/// with such a file would kill the running gateway. Checked before Yams sees the text.
enum YAMLNesting {
    /// Deepest flow nesting (`{`, `[`) accepted; real configurations nest fewer than 10 levels.
    static let maxDepth = 64
    /// Largest configuration text accepted: this also bounds block nesting by indentation
    /// (n levels need about n²/2 bytes), far below what overflows a thread's stack.
    static let maxBytes = 1 << 20

    /// The first place where the text is too large or nests too deep, as (line, column, message).
    static func problem(in text: String) -> (line: Int, column: Int, message: String)? {
        if text.utf8.count > maxBytes {
            return (1, 1, "the file is \(text.utf8.count) bytes; a configuration may be at most \(maxBytes) bytes")
        }
        var depth = 0, line = 1, column = 0
        var quote: UInt8? = nil
        var comment = false
        var previous: UInt8 = UInt8(ascii: "\n")
        for byte in text.utf8 {
            column += 1
            defer { previous = byte }
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
                comment = false
                continue
            }
            if comment { continue }
            if let q = quote {
                if byte == q { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t") || previous == UInt8(ascii: "\n"):
                comment = true
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                quote = byte
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > maxDepth {
                    return (line, column, "collections nest deeper than \(maxDepth) levels here; a configuration never needs that")
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth = max(0, depth - 1)
            default:
                break
            }
        }
        return nil
    }
}
