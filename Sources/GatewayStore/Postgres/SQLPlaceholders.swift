import Foundation

/// Index SQL is written once with SQLite's `?` or `:name` placeholders; PostgreSQL numbers them
/// (`$1`, `$2`, ...; a name used twice is one number). A `::` cast is not a placeholder.
/// The translation leaves alone a `?` inside a string literal ('...', with '' as an escaped quote),
/// a quoted identifier ("..."), a line comment (-- ...) or a block comment (/* ... */).
enum SQLPlaceholders {
    /// The statement with each `?` outside literals and comments replaced by `$n`, and the count `n`.
    static func numbered(_ sql: String) -> (sql: String, count: Int, names: [String]) {
        var names: [String] = []
        var out = String.UnicodeScalarView()
        let scalars = Array(sql.unicodeScalars)
        var count = 0
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case "'", "\"":
                // Copy up to the closing quote; a doubled quote is an escaped one.
                out.append(c)
                i += 1
                while i < scalars.count {
                    out.append(scalars[i])
                    if scalars[i] == c {
                        if i + 1 < scalars.count, scalars[i + 1] == c {
                            out.append(scalars[i + 1])
                            i += 2
                            continue
                        }
                        break
                    }
                    i += 1
                }
                i += 1
            case "-" where i + 1 < scalars.count && scalars[i + 1] == "-":
                while i < scalars.count && scalars[i] != "\n" {
                    out.append(scalars[i])
                    i += 1
                }
            case "/" where i + 1 < scalars.count && scalars[i + 1] == "*":
                out.append(scalars[i])
                out.append(scalars[i + 1])
                i += 2
                while i < scalars.count {
                    if scalars[i] == "*", i + 1 < scalars.count, scalars[i + 1] == "/" {
                        out.append(scalars[i])
                        out.append(scalars[i + 1])
                        i += 2
                        break
                    }
                    out.append(scalars[i])
                    i += 1
                }
            case "?":
                count += 1
                out.append(contentsOf: "$\(count)".unicodeScalars)
                i += 1
            case ":" where i + 1 < scalars.count && isNameStart(scalars[i + 1]) && (i == 0 || scalars[i - 1] != ":"):
                var end = i + 1
                while end < scalars.count, isNamePart(scalars[end]) { end += 1 }
                let name = String(String.UnicodeScalarView(scalars[(i + 1)..<end]))
                if let known = names.firstIndex(of: name) {
                    out.append(contentsOf: "$\(known + 1)".unicodeScalars)
                } else {
                    names.append(name)
                    count += 1
                    out.append(contentsOf: "$\(names.count)".unicodeScalars)
                }
                i = end
            default:
                out.append(c)
                i += 1
            }
        }
        return (String(out), count, names)
    }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
    private static func isNamePart(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }

    /// The statements of a script, split at each `;` outside literals, quoted names and comments.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var quote: Unicode.Scalar?
        var lineComment = false, blockComment = false
        let scalars = Array(sql.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            let next: Unicode.Scalar? = i + 1 < scalars.count ? scalars[i + 1] : nil
            if lineComment {
                if c == "\n" { lineComment = false }
            } else if blockComment {
                if c == "*", next == "/" { blockComment = false; current.append(c); i += 1; current.append("/"); i += 1; continue }
            } else if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "-", next == "-" {
                lineComment = true
            } else if c == "/", next == "*" {
                blockComment = true
            } else if c == ";" {
                let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty { statements.append(text) }
                current = String.UnicodeScalarView()
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty { statements.append(text) }
        return statements
    }
}
