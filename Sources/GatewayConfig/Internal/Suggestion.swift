/// "Did you mean" hints: the known word closest to a mistyped one, if any is close enough.
enum Suggestion {
    /// Matches ignoring case, `-` and `_` first (`aeTitle`, `AE-Title` -> `ae_title`), then
    /// by edit distance up to a third of the word's length (at least 1, at most 3), then by prefix
    /// (`warn` -> `warning`).
    static func closest(to word: String, among candidates: [String]) -> String? {
        let folded = fold(word)
        if let exact = candidates.first(where: { fold($0) == folded }) { return exact }
        let limit = min(3, max(1, folded.count / 3))
        let scored = candidates.map { (candidate: $0, distance: distance(folded, fold($0))) }
        if let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= limit {
            return best.candidate
        }
        guard folded.count >= 3 else { return nil }
        let prefixed = candidates.filter { fold($0).hasPrefix(folded) || folded.hasPrefix(fold($0)) }
        return prefixed.count == 1 ? prefixed[0] : nil
    }

    private static func fold(_ word: String) -> String {
        String(word.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Edit distance counting insertions, deletions, substitutions and swaps of neighbours
    /// (optimal string alignment), so `prot` is one edit from `port`.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
