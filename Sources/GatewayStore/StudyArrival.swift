import Foundation

/// What the C-STORE acknowledgement path needs to know of an arriving instance's study before it
/// is filed: the study's patient and origin when it is cached (identity), and where it must go
/// when it was requested as a prior. One read, not two: on PostgreSQL each is a round trip.
public struct StudyArrival: Sendable, Equatable {
    /// nil when the study is not cached.
    public var identity: StudyIdentity?
    /// Where instances of a requested prior study must go, in name order (empty for any other study).
    public var priorDestinations: [String]

    public init(identity: StudyIdentity?, priorDestinations: [String]) {
        self.identity = identity
        self.priorDestinations = priorDestinations
    }
}

extension CacheIndex {
    /// The study's identity and prior destinations in one statement; when the index cannot be
    /// read, as each alone answers then: not cached, no prior destinations.
    public func arrival(studyUID: String) -> StudyArrival {
        let rows: [IndexRow] = (try? readStatement { db -> [IndexRow] in
            switch db.dialect {
            case .postgres:
                // The same query, planned once per connection (see PostgresFunctions).
                try db.fetchAll(PostgresFunctions.callStudyArrival, [studyUID])
            case .sqlite:
                try db.fetchAll("""
                    SELECT p.issuer, p.patientID, s.originNode AS origin, NULL AS destination
                    FROM study s JOIN patient p ON p.id = s.patientRef WHERE s.studyUID = ?
                    UNION ALL
                    SELECT NULL, NULL, NULL, r.destination
                    FROM (SELECT DISTINCT destination FROM prior_request WHERE priorStudyUID = ?) AS r
                    """, [studyUID, studyUID])
            }
        }) ?? []
        var arrival = StudyArrival(identity: nil, priorDestinations: [])
        for row in rows {
            if let destination = row["destination"] as String? {
                arrival.priorDestinations.append(destination)
            } else {
                arrival.identity = StudyIdentity(studyUID: studyUID, originNode: row["origin"], issuer: row["issuer"],
                                                 patientID: row["patientID"])
            }
        }
        arrival.priorDestinations.sort()
        return arrival
    }
}
