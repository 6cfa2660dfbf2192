
/// An instance row with the UIDs of its study and series (which the instance row does not keep).
public struct CachedInstance: Sendable, Equatable {
    public let instance: InstanceRecord
    public let studyUID: String
    public let seriesUID: String
}

extension CacheIndex {
    /// The instances of a study, of one series of it, or one instance, in series and instance
    /// order (for DICOMweb retrieve, where the URL names the study, series and instance); quarantined
    /// instances are left out.
    public func cachedInstances(studyUID: String, seriesUID: String?, sopUID: String?) throws -> [CachedInstance] {
        var sql = """
            SELECT i.*, s.studyUID AS w_study, se.seriesUID AS w_series FROM instance i
            JOIN series se ON se.id = i.seriesRef JOIN study s ON s.id = se.studyRef
            WHERE s.studyUID = ? AND i.quarantine IS NULL
            """
        var arguments: [IndexValueConvertible] = [studyUID]
        if let seriesUID {
            sql += " AND se.seriesUID = ?"
            arguments.append(seriesUID)
        }
        if let sopUID {
            sql += " AND i.sopUID = ?"
            arguments.append(sopUID)
        }
        sql += " ORDER BY se.id, \(dialect.integer("i.instanceNumber")), i.id"
        return try read { db in
            try db.fetchAll(sql, IndexArguments(arguments)).map { row in
                CachedInstance(instance: try InstanceRecord(row: row), studyUID: row["w_study"], seriesUID: row["w_series"])
            }
        }
    }
}
