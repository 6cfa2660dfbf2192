import Foundation

extension CacheIndex {
    /// Remembers that `priorStudyUID` (at `source`) is a prior of `forStudyUID` and must go to
    /// `destinations` at bulk priority; instances of it already cached are queued there now, with
    /// the destination's identity edits (JSON, as for the new study: same patient).
    public func requestPrior(_ priorStudyUID: String, for forStudyUID: String, source: String, destinations: [String: String],
                             now: Date = Date()) throws {
        try write { db in
            for (destination, edits) in destinations.sorted(by: { $0.key < $1.key }) {
                try db.execute("""
                    INSERT INTO prior_request(priorStudyUID, forStudyUID, source, destination, createdAt)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, [priorStudyUID, forStudyUID, source, destination, now])
                try db.execute("""
                    INSERT INTO delivery(instanceRef, destination, route, priority, state, nextAttemptAt, edits, createdAt, updatedAt)
                    SELECT i.id, ?, 'prior', 0, 'queued', ?, ?, ?, ? FROM instance i JOIN series se ON se.id = i.seriesRef
                    JOIN study s ON s.id = se.studyRef WHERE s.studyUID = ? ON CONFLICT DO NOTHING
                    """, [destination, now, edits, now, now, priorStudyUID])
            }
        }
    }

    /// Where instances of a requested prior study must go (empty for any other study).
    public func priorDestinations(studyUID: String) -> [String] {
        (try? readStatement { db in
            try db.fetchValues(String.self, "SELECT DISTINCT destination FROM prior_request WHERE priorStudyUID = ? ORDER BY destination",
                                [studyUID])
        }) ?? []
    }
}
