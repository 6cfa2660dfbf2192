/// Yams 5 composes a document recursively, one call per nested collection, with no bound: a
/// 3 KB file of `{` overflows the stack (found by `scripts/fuzz/run-swift config`), and a reload
/// with such a file would kill the running gateway. Checked before Yams sees the text: flow
/// brackets outside quoted strings and comments (a quote opens a string only where a scalar may
/// begin), every bracket at a higher bound, and block nesting by indentation and compact entries.
enum YAMLNesting {
    /// Deepest flow nesting (`{`, `[`) accepted; real configurations nest fewer than 10 levels.
    static let maxDepth = 64
    /// Deepest nesting of every `{` and `[` in the text, quoted or not, accepted (Yams overflowed
    /// past about 2,000).
    static let maxNaiveDepth = 1_000
    /// Deepest block nesting on one line accepted: its indentation plus compact entries
    /// (`- - - x`, `? ? x`), each of which opens a collection in 2 bytes.
    static let maxBlockDepth = 200
    /// Largest configuration text accepted: this also bounds block nesting by indentation
    /// (n levels need about n²/2 bytes), far below what overflows a thread's stack.
    static let maxBytes = 1 << 20

    /// The first place where the text is too large or nests too deep, as (line, column, message).
    static func problem(in text: String) -> (line: Int, column: Int, message: String)? {
        if text.utf8.count > maxBytes {
            return (1, 1, "the file is \(text.utf8.count) bytes; a configuration may be at most \(maxBytes) bytes")
        }
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n")
        var depth = 0, naive = 0, line = 1, column = 0
        var quote: UInt8? = nil
        var escaped = false
        var comment = false
        var previous: UInt8 = newline
        // Block nesting of the current line: leading spaces, then `- ` / `? ` entries.
        var atLineStart = true, indentation = 0, entries = 0
        var indicator = false  // a `-` or `?` at the line start, an entry if a space follows
        for byte in text.utf8 {
            column += 1
            defer { previous = byte }
            if byte == newline {
                if atLineStart, indentation + entries > maxBlockDepth { return blockTooDeep(line, column) }
                line += 1
                column = 0
                comment = false
                atLineStart = true
                indentation = 0
                entries = 0
                indicator = false
                // A quoted scalar may span lines; an escape does not.
                escaped = false
                continue
            }
            // Every bracket, whatever the quotes and comments around it: a text whose quotes this
            // reading gets wrong cannot hide deep nesting from both counts.
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                naive += 1
                if naive > maxNaiveDepth { return tooDeep(line, column) }
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                naive = max(0, naive - 1)
            }
            if let q = quote {
                if q == UInt8(ascii: "\"") {
                    if escaped { escaped = false; continue }
                    if byte == UInt8(ascii: "\\") { escaped = true; continue }
                }
                if byte == q { quote = nil }
                continue
            }
            if comment { continue }
            if atLineStart {
                if indicator {
                    indicator = false
                    if byte == space || byte == tab { entries += 1; continue }
                    // `-5`, `---`: not an entry; the line's content starts here.
                } else if byte == space && entries == 0 {
                    indentation += 1
                    continue
                } else if byte == space || byte == tab {
                    continue
                } else if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "?") {
                    indicator = true
                    continue
                }
                atLineStart = false
                if indentation + entries > maxBlockDepth { return blockTooDeep(line, column) }
            }
            switch byte {
            case UInt8(ascii: "#") where previous == space || previous == tab || previous == newline:
                comment = true
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // A quote opens a quoted scalar only where a scalar may begin; in `children's` it
                // is part of a plain scalar.
                if [space, tab, newline, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"),
                    UInt8(ascii: "-"), UInt8(ascii: "?")].contains(previous) {
                    quote = byte
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > maxDepth { return tooDeep(line, column) }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth = max(0, depth - 1)
            default:
                break
            }
        }
        if atLineStart && indentation + entries > maxBlockDepth { return blockTooDeep(line, column) }
        return nil
    }

    private static func blockTooDeep(_ line: Int, _ column: Int) -> (line: Int, column: Int, message: String) {
        (line, column, "block collections nest deeper than \(maxBlockDepth) levels here (indentation and `- ` entries); a configuration never needs that")
    }

    private static func tooDeep(_ line: Int, _ column: Int) -> (line: Int, column: Int, message: String) {
        (line, column, "collections nest deeper than \(maxDepth) levels here; a configuration never needs that")
    }
}
