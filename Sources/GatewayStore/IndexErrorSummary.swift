import GRDB

extension CacheIndex {
    /// `error` in one short line for a log: an SQLite error as its code and message, without the
    /// statement (which can run to megabytes, one `?` per id) or its arguments; anything else as
    /// it describes itself. Line breaks become spaces; at most `limit` characters.
    ///
    /// ```swift
    /// CacheIndex.summary(of: error)   // "SQLite error 1: too many SQL variables"
    /// ```
    public static func summary(of error: any Error, limit: Int = 300) -> String {
        let text: String
        if let database = error as? DatabaseError {
            text = "SQLite error \(database.resultCode.rawValue): \(database.message ?? "no message")"
        } else if let postgres = error as? PostgresIndexError {
            // Never the statement (kept apart in `sql`) nor bound values.
            text = postgres.description
        } else {
            text = String(describing: error)
        }
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }
}
