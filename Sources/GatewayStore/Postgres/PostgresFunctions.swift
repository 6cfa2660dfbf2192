/// Server-side functions for the C-STORE acknowledgement path on PostgreSQL (migration v15).
///
/// Why functions: postgres-nio runs every statement unnamed, so PostgreSQL plans it at each
/// execution, and planning the ingest's statements cost more than running them (measured with
/// pgbench on this machine: the one-statement ingest of an instance 0.95 ms per commit as an
/// unnamed statement, 0.55 ms prepared, 0.59 ms as a call of this function, whose statements
/// PL/pgSQL keeps planned per connection). Each body is the SQL it replaces, and its results
/// are named as the Swift side reads them (`CacheIndex.insert`, `CacheIndex.arrival`).
///
/// The bodies hold no `?` and no `:name` (the placeholder translation would touch them).
enum PostgresFunctions {
    /// An instance of a series already indexed, with its patient under the same name: the lookup
    /// of patient, study and series; the instance row (nothing when its SOP Instance UID is
    /// cached: `o_cached`); both counters; its deliveries (a JSON array of objects with
    /// destination, route, priority and edits). Nothing is written when the series, study or
    /// patient is new or the name changed: the caller goes the long way with the lookup's row.
    static let ingestKnownSeries = """
        CREATE OR REPLACE FUNCTION gateway_ingest_known_series(
            p_issuer text, p_patient_id text, p_study_uid text, p_series_uid text,
            p_sop_uid text, p_sop_class text, p_instance_number text, p_transfer_syntax text, p_path text, p_size bigint,
            p_sha256 text, p_received text, p_calling_ae text, p_peer_host text, p_origin_node text, p_patient_name text,
            p_deliveries text)
        RETURNS TABLE (o_patient bigint, o_patient_name text, o_study bigint, o_series_count bigint, o_modalities text,
                       o_origin text, o_series bigint, o_instance bigint, o_cached boolean)
        LANGUAGE plpgsql AS $body$
        BEGIN
            SELECT p.id, p.patientName, st.id, st.seriesCount, st.modalities, st.originNode, se.id
              INTO o_patient, o_patient_name, o_study, o_series_count, o_modalities, o_origin, o_series
              FROM (SELECT 1 AS one) AS x
              LEFT JOIN patient p ON p.issuer = p_issuer AND p.patientID = p_patient_id
              LEFT JOIN study st ON st.studyUID = p_study_uid
              LEFT JOIN series se ON se.seriesUID = p_series_uid;
            IF o_patient IS NOT NULL AND o_study IS NOT NULL AND o_series IS NOT NULL
               AND (p_patient_name = '' OR o_patient_name = p_patient_name) THEN
                INSERT INTO instance (sopUID, seriesRef, sopClassUID, instanceNumber, transferSyntax, path, sizeBytes, sha256,
                                      receivedAt, callingAE, peerHost, originNode)
                VALUES (p_sop_uid, o_series, p_sop_class, p_instance_number, p_transfer_syntax, p_path, p_size, p_sha256,
                        p_received, p_calling_ae, p_peer_host, p_origin_node)
                ON CONFLICT (sopUID) DO NOTHING
                RETURNING id INTO o_instance;
                IF o_instance IS NOT NULL THEN
                    UPDATE series SET instanceCount = instanceCount + 1 WHERE id = o_series;
                    -- A study's origin is the first node that sent any of it.
                    UPDATE study SET originNode = COALESCE(originNode, p_origin_node), instanceCount = instanceCount + 1,
                                     sizeBytes = sizeBytes + p_size, updatedAt = p_received, lastAccessAt = p_received
                    WHERE id = o_study;
                    IF p_deliveries <> '[]' THEN
                        INSERT INTO delivery (instanceRef, destination, route, priority, state, nextAttemptAt, edits,
                                              createdAt, updatedAt)
                        SELECT o_instance, d.destination, d.route, d.priority, 'queued', p_received, d.edits, p_received,
                               p_received
                        FROM jsonb_to_recordset(p_deliveries::jsonb) AS d(destination text, route text, priority bigint, edits text)
                        ON CONFLICT DO NOTHING;
                    END IF;
                END IF;
            END IF;
            o_cached := o_instance IS NULL AND EXISTS (SELECT 1 FROM instance WHERE sopUID = p_sop_uid);
            RETURN NEXT;
        END
        $body$
        """

    /// The call, with the results named as the long way's lookup names them (`knownRows`).
    static let callIngestKnownSeries = """
        SELECT o_patient AS patientRef, o_patient_name AS patientName, o_study AS studyRef, o_series_count AS seriesCount,
               o_modalities AS modalities, o_origin AS originNode, o_series AS seriesRef, o_instance AS instanceID,
               o_cached AS cached
        FROM gateway_ingest_known_series(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// A study's patient and origin (one row when cached) and its prior destinations (one row each).
    static let studyArrival = """
        CREATE OR REPLACE FUNCTION gateway_study_arrival(p_study_uid text)
        RETURNS TABLE (o_issuer text, o_patient_id text, o_origin text, o_destination text)
        LANGUAGE plpgsql STABLE AS $body$
        BEGIN
            RETURN QUERY
                SELECT p.issuer, p.patientID, s.originNode, NULL::text
                FROM study s JOIN patient p ON p.id = s.patientRef WHERE s.studyUID = p_study_uid
                UNION ALL
                SELECT NULL::text, NULL::text, NULL::text, r.destination
                FROM (SELECT DISTINCT destination FROM prior_request WHERE priorStudyUID = p_study_uid) AS r;
        END
        $body$
        """

    static let callStudyArrival = """
        SELECT o_issuer AS issuer, o_patient_id AS patientID, o_origin AS origin, o_destination AS destination
        FROM gateway_study_arrival(?)
        """
}
