import GRDB

/// The index schema, as named GRDB migrations. Never edit a shipped migration: add a new one.
enum IndexSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-cache-index") { db in
            try db.create(table: "patient") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("issuer", .text).notNull().defaults(to: "")
                t.column("patientID", .text).notNull().defaults(to: "")
                t.column("patientName", .text).notNull().defaults(to: "")
                t.column("birthDate", .text).notNull().defaults(to: "")
                t.column("sex", .text).notNull().defaults(to: "")
                t.uniqueKey(["issuer", "patientID"])
            }
            try db.create(index: "patient_id", on: "patient", columns: ["patientID"])
            try db.create(index: "patient_name", on: "patient", columns: ["patientName"])

            try db.create(table: "study") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("studyUID", .text).notNull().unique()
                t.column("patientRef", .integer).notNull().references("patient", onDelete: .cascade)
                t.column("studyDate", .text).notNull().defaults(to: "")
                t.column("studyTime", .text).notNull().defaults(to: "")
                t.column("accessionNumber", .text).notNull().defaults(to: "")
                t.column("studyID", .text).notNull().defaults(to: "")
                t.column("studyDescription", .text).notNull().defaults(to: "")
                t.column("referringPhysician", .text).notNull().defaults(to: "")
                t.column("modalities", .text).notNull().defaults(to: "")
                t.column("seriesCount", .integer).notNull().defaults(to: 0)
                t.column("instanceCount", .integer).notNull().defaults(to: 0)
                t.column("sizeBytes", .integer).notNull().defaults(to: 0)
                t.column("originNode", .text)
                t.column("originAE", .text).notNull().defaults(to: "")
                t.column("originHost", .text).notNull().defaults(to: "")
                t.column("originPatientID", .text).notNull().defaults(to: "")
                t.column("originIssuer", .text).notNull().defaults(to: "")
                t.column("receivedAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("lastAccessAt", .double).notNull()
                t.column("protected", .boolean).notNull().defaults(to: false)
            }
            try db.create(index: "study_patient", on: "study", columns: ["patientRef"])
            try db.create(index: "study_date", on: "study", columns: ["studyDate"])
            try db.create(index: "study_accession", on: "study", columns: ["accessionNumber"])
            try db.create(index: "study_access", on: "study", columns: ["lastAccessAt"])

            try db.create(table: "series") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("seriesUID", .text).notNull().unique()
                t.column("studyRef", .integer).notNull().references("study", onDelete: .cascade)
                t.column("modality", .text).notNull().defaults(to: "")
                t.column("seriesNumber", .text).notNull().defaults(to: "")
                t.column("seriesDescription", .text).notNull().defaults(to: "")
                t.column("bodyPart", .text).notNull().defaults(to: "")
                t.column("instanceCount", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "series_study", on: "series", columns: ["studyRef"])

            try db.create(table: "instance") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sopUID", .text).notNull().unique()
                t.column("seriesRef", .integer).notNull().references("series", onDelete: .cascade)
                t.column("sopClassUID", .text).notNull()
                t.column("instanceNumber", .text).notNull().defaults(to: "")
                t.column("transferSyntax", .text).notNull()
                t.column("path", .text).notNull()
                t.column("sizeBytes", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("receivedAt", .double).notNull()
                t.column("callingAE", .text).notNull().defaults(to: "")
                t.column("peerHost", .text).notNull().defaults(to: "")
                t.column("originNode", .text)
            }
            try db.create(index: "instance_series", on: "instance", columns: ["seriesRef"])

            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .double).notNull()
                t.column("event", .text).notNull()
                t.column("actor", .text).notNull().defaults(to: "")
                t.column("peer", .text).notNull().defaults(to: "")
                t.column("studyUID", .text)
                t.column("outcome", .text).notNull().defaults(to: "")
                t.column("detail", .text).notNull().defaults(to: "")
            }
            try db.create(index: "audit_time", on: "audit", columns: ["time"])
        }
        m.registerMigration("v2-delivery") { db in
            // The delivery queue: one row per (instance, destination), written in the transaction
            // that acknowledges the C-STORE. Workers take the highest priority rank first.
            try db.create(table: "delivery") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("instanceRef", .integer).notNull().references("instance", onDelete: .cascade)
                t.column("destination", .text).notNull()
                t.column("route", .text).notNull().defaults(to: "")
                t.column("priority", .integer).notNull()          // 3 stat, 2 urgent, 1 routine, 0 bulk
                t.column("state", .text).notNull().defaults(to: "queued")  // queued, inflight, done, failed, dead
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("nextAttemptAt", .double).notNull()
                t.column("lastError", .text).notNull().defaults(to: "")
                t.column("edits", .text).notNull().defaults(to: "{}")  // coercion, JSON {"gggg,eeee": value|null}
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.uniqueKey(["instanceRef", "destination"])
            }
            try db.create(index: "delivery_work", on: "delivery", columns: ["destination", "state", "priority", "nextAttemptAt"])
        }
        m.registerMigration("v3-federation") { db in
            // What each source (trust PACS) holds, learned by scheduled C-FIND; drives pulls,
            // pull-through retrieves and federated queries.
            try db.create(table: "source_study") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("source", .text).notNull()
                t.column("studyUID", .text).notNull()
                t.column("patientID", .text).notNull().defaults(to: "")
                t.column("issuer", .text).notNull().defaults(to: "")
                t.column("patientName", .text).notNull().defaults(to: "")
                t.column("patientBirthDate", .text).notNull().defaults(to: "")
                t.column("patientSex", .text).notNull().defaults(to: "")
                t.column("studyDate", .text).notNull().defaults(to: "")
                t.column("studyTime", .text).notNull().defaults(to: "")
                t.column("accessionNumber", .text).notNull().defaults(to: "")
                t.column("studyDescription", .text).notNull().defaults(to: "")
                t.column("modalities", .text).notNull().defaults(to: "")
                t.column("numberOfInstances", .integer)          // as the source reports it; nil when not given
                t.column("firstSeenAt", .double).notNull()
                t.column("lastSeenAt", .double).notNull()
                t.column("state", .text).notNull().defaults(to: "known")  // known, queued, fetching, complete, failed
                t.column("priority", .integer).notNull().defaults(to: 1)
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("lastError", .text).notNull().defaults(to: "")
                t.column("fetchedAt", .double)
                t.uniqueKey(["source", "studyUID"])
            }
            try db.create(index: "source_study_uid", on: "source_study", columns: ["studyUID"])
            try db.create(index: "source_study_patient", on: "source_study", columns: ["patientID"])

            // The network Patient ID given to each (issuer, local Patient ID), so it can be
            // reversed when a report goes home.
            try db.create(table: "patient_identity") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("issuer", .text).notNull()
                t.column("localPatientID", .text).notNull()
                t.column("networkPatientID", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.uniqueKey(["issuer", "localPatientID"])
            }
            try db.create(index: "patient_identity_network", on: "patient_identity", columns: ["networkPatientID"])

            // A study's way through the network: received, delivered for reporting, reported,
            // report returned (and pulls), with times, for `dicom-gateway study UID` and turnaround.
            try db.create(table: "study_event") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("studyUID", .text).notNull()
                t.column("event", .text).notNull()
                t.column("node", .text).notNull().defaults(to: "")
                t.column("time", .double).notNull()
                t.column("detail", .text).notNull().defaults(to: "")
            }
            try db.create(index: "study_event_study", on: "study_event", columns: ["studyUID", "time"])
        }
        m.registerMigration("v4-priors") { db in
            // Prior studies fetched for a new study: where they must go (the new study's
            // destinations), at bulk priority, whenever their instances arrive.
            try db.create(table: "prior_request") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("priorStudyUID", .text).notNull()
                t.column("forStudyUID", .text).notNull()
                t.column("source", .text).notNull()
                t.column("destination", .text).notNull()
                t.column("createdAt", .double).notNull()
                t.uniqueKey(["priorStudyUID", "forStudyUID", "destination"])
            }
            try db.create(index: "prior_request_prior", on: "prior_request", columns: ["priorStudyUID"])
        }
        m.registerMigration("v5-study-origin") { db in
            // study.originNode now holds the first node that sent any of the study, kept at ingest;
            // studies whose first sender was unknown take it from their instances once, here.
            try db.execute(sql: """
                UPDATE study SET originNode = (
                    SELECT i.originNode FROM instance i JOIN series se ON se.id = i.seriesRef
                    WHERE se.studyRef = study.id AND i.originNode IS NOT NULL ORDER BY i.receivedAt LIMIT 1)
                WHERE originNode IS NULL
                """)
        }
        m.registerMigration("v6-delivery-requeue-after-flight") { db in
            // Set on a delivery that was in flight when its instance was replaced: the worker is
            // sending the old content, so its outcome puts the delivery back in the queue (cleared)
            // instead of closing it, and the new content goes out too.
            try db.alter(table: "delivery") { t in
                t.add(column: "requeueAfterFlight", .boolean).notNull().defaults(to: false)
            }
        }
        m.registerMigration("v7-study-received") { db in
            // The operators' list of recent studies (HTTP API, dashboard) reads newest first.
            try db.create(index: "study_received", on: "study", columns: ["receivedAt"])
        }
        m.registerMigration("v8-quarantine") { db in
            // An instance that crashed the gateway, or breaks the input limits (`limits:`), is
            // quarantined: never parsed, sent or retrieved again until an operator says so.
            // limitsChecked: 0 for files cached before the limits existed (checked at start).
            try db.alter(table: "instance") { t in
                t.add(column: "quarantine", .text)
                t.add(column: "limitsChecked", .boolean).notNull().defaults(to: true)
            }
            try db.execute(sql: "UPDATE instance SET limitsChecked = 0")
        }
        m.registerMigration("v9-worklist", migrate: WorklistSchema.create)
        m.registerMigration("v10-worklist-indexes", migrate: WorklistSchema.coveringIndexes)
        m.registerMigration("v11-cluster-nodes") { db in
            // The gateway nodes sharing this index, each with its last heartbeat and whether it leads
            // (one row on SQLite, where a node is alone). Same SQL as PostgreSQL's.
            try db.execute(sql: ClusterSchema.nodes)
        }
        m.registerMigration("v12-delivery-lease") { db in
            for statement in ClusterSchema.deliveryLease { try db.execute(sql: statement) }
        }
        m.registerMigration("v13-fetch-claim") { db in
            try db.execute(sql: ClusterSchema.fetchClaim)
        }
        return m
    }
}
