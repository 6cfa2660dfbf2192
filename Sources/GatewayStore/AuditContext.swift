import Foundation

/// What a PS3.15 audit message needs beyond an `audit` row: the studies and patients involved,
/// the SOP classes with instance counts, a query's identifier. Handed to the index's audit
/// observer with the row; never stored in the index (the row keeps its columns as they are).
/// Patient identifiers appear here because audit messages are where they belong; they never
/// reach the gateway's ordinary logs.
public struct AuditContext: Sendable, Equatable {
    public struct Study: Sendable, Equatable {
        public var uid: String
        public var accessionNumbers: [String]
        /// Instances per SOP Class UID.
        public var sopClasses: [String: Int]
        public init(uid: String, accessionNumbers: [String] = [], sopClasses: [String: Int] = [:]) {
            self.uid = uid
            self.accessionNumbers = accessionNumbers
            self.sopClasses = sopClasses
        }
    }

    public struct Patient: Sendable, Equatable, Hashable {
        public var id: String
        public var issuer: String
        public var name: String
        public init(id: String, issuer: String = "", name: String = "") {
            self.id = id
            self.issuer = issuer
            self.name = name
        }
    }

    public var studies: [Study]
    public var patients: [Patient]
    /// The DIMSE request's SOP Class UID (a query's information model).
    public var sopClassUID: String?
    /// A query's identifier, encoded as a data set (Implicit VR Little Endian).
    public var queryIdentifier: Data?
    public var transferSyntaxUID: String?
    /// The AE title and host of a C-MOVE destination, or of a delivery's destination.
    public var destinationAE: String?
    public var destinationHost: String?

    public init(studies: [Study] = [], patients: [Patient] = [], sopClassUID: String? = nil, queryIdentifier: Data? = nil,
                transferSyntaxUID: String? = nil, destinationAE: String? = nil, destinationHost: String? = nil) {
        self.studies = studies
        self.patients = patients
        self.sopClassUID = sopClassUID
        self.queryIdentifier = queryIdentifier
        self.transferSyntaxUID = transferSyntaxUID
        self.destinationAE = destinationAE
        self.destinationHost = destinationHost
    }
}

/// Hears every audit event as it is recorded (the gateway's PS3.15 audit trail).
public protocol AuditObserver: Sendable {
    func recorded(_ record: AuditRecord, context: AuditContext?)
}

extension CacheIndex {
    /// The studies' patients and instance counts per SOP class, as the index has them now, for an
    /// audit message about them (a retrieve, an eviction). Unknown UIDs are left out.
    public func auditContext(studyUIDs: [String]) -> AuditContext {
        var context = AuditContext()
        guard !studyUIDs.isEmpty else { return context }
        _ = try? read { db in
            for uid in studyUIDs {
                guard let row = try db.fetchOne("""
                    SELECT s.id, s.accessionNumber, p.patientID, p.issuer, p.patientName FROM study s JOIN patient p ON p.id = s.patientRef
                    WHERE s.studyUID = ?
                    """, [uid]) else { continue }
                let studyRef: Int64 = row["id"]
                let classes = try db.fetchAll("""
                    SELECT i.sopClassUID AS sopClass, COUNT(*) AS n FROM instance i JOIN series se ON se.id = i.seriesRef
                    WHERE se.studyRef = ? GROUP BY i.sopClassUID
                    """, [studyRef])
                let accession: String = row["accessionNumber"] ?? ""
                context.studies.append(AuditContext.Study(
                    uid: uid, accessionNumbers: accession.isEmpty ? [] : [accession],
                    sopClasses: Dictionary(classes.map { ($0["sopClass"] as String, $0["n"] as Int) }, uniquingKeysWith: +)))
                let patient = AuditContext.Patient(id: row["patientID"] ?? "", issuer: row["issuer"] ?? "", name: row["patientName"] ?? "")
                if !context.patients.contains(patient) { context.patients.append(patient) }
            }
        }
        return context
    }
}

extension CacheIndex {
    /// The Study Instance UIDs of series rows (what a delivery worker sent), by series row id.
    public func studyUIDs(seriesRefs: [Int64]) -> [Int64: String] {
        guard !seriesRefs.isEmpty else { return [:] }
        var found: [Int64: String] = [:]
        _ = try? read { db in
            for chunk in stride(from: 0, to: seriesRefs.count, by: 500).map({ Array(seriesRefs[$0..<min($0 + 500, seriesRefs.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for row in try db.fetchAll("""
                    SELECT se.id AS ref, s.studyUID AS uid FROM series se JOIN study s ON s.id = se.studyRef WHERE se.id IN (\(marks))
                    """, IndexArguments(chunk), cached: false) {
                    found[row["ref"]] = row["uid"]
                }
            }
        }
        return found
    }
}
