// The index records read from and written to either engine, column by column (no Codable:
// explicit columns are cheaper per row, and the same on SQLite and PostgreSQL).

extension PatientRecord: IndexRecord {
    public static let indexTable = "patient"

    public init(row: IndexRow) {
        self.init(id: row["id"], issuer: row["issuer"], patientID: row["patientID"], patientName: row["patientName"],
                  birthDate: row["birthDate"], sex: row["sex"])
    }

    static let insertSQL = IndexRecordSQL.insert(into: indexTable, columns: [
        "issuer", "patientID", "patientName", "birthDate", "sex"])

    /// Inserts the row and sets `id`.
    public mutating func insert(_ db: any IndexDatabase) throws {
        id = try db.insertReturningID(Self.insertSQL, [issuer, patientID, patientName, birthDate, sex])
    }
}

extension StudyRecord: IndexRecord {
    public static let indexTable = "study"

    public init(row: IndexRow) {
        self.init(id: row["id"], studyUID: row["studyUID"], patientRef: row["patientRef"], studyDate: row["studyDate"],
                  studyTime: row["studyTime"], accessionNumber: row["accessionNumber"], studyID: row["studyID"],
                  studyDescription: row["studyDescription"], referringPhysician: row["referringPhysician"],
                  modalities: row["modalities"], seriesCount: row["seriesCount"], instanceCount: row["instanceCount"],
                  sizeBytes: row["sizeBytes"], originNode: row["originNode"], originAE: row["originAE"],
                  originHost: row["originHost"], originPatientID: row["originPatientID"],
                  originIssuer: row["originIssuer"], receivedAt: row["receivedAt"], updatedAt: row["updatedAt"],
                  lastAccessAt: row["lastAccessAt"], protected: row["protected"])
    }

    static let insertSQL = IndexRecordSQL.insert(into: indexTable, columns: [
        "studyUID", "patientRef", "studyDate", "studyTime", "accessionNumber", "studyID", "studyDescription",
        "referringPhysician", "modalities", "seriesCount", "instanceCount", "sizeBytes", "originNode",
        "originAE", "originHost", "originPatientID", "originIssuer", "receivedAt", "updatedAt",
        "lastAccessAt", "protected"])

    /// Inserts the row and sets `id`.
    public mutating func insert(_ db: any IndexDatabase) throws {
        id = try db.insertReturningID(Self.insertSQL, [studyUID, patientRef, studyDate, studyTime,
                                                          accessionNumber, studyID, studyDescription,
                                                          referringPhysician, modalities, seriesCount,
                                                          instanceCount, sizeBytes, originNode, originAE,
                                                          originHost, originPatientID, originIssuer, receivedAt,
                                                          updatedAt, lastAccessAt, protected])
    }
}

extension SeriesRecord: IndexRecord {
    public static let indexTable = "series"

    public init(row: IndexRow) {
        self.init(id: row["id"], seriesUID: row["seriesUID"], studyRef: row["studyRef"], modality: row["modality"],
                  seriesNumber: row["seriesNumber"], seriesDescription: row["seriesDescription"],
                  bodyPart: row["bodyPart"], instanceCount: row["instanceCount"])
    }

    static let insertSQL = IndexRecordSQL.insert(into: indexTable, columns: [
        "seriesUID", "studyRef", "modality", "seriesNumber", "seriesDescription", "bodyPart", "instanceCount"])

    /// Inserts the row and sets `id`.
    public mutating func insert(_ db: any IndexDatabase) throws {
        id = try db.insertReturningID(Self.insertSQL, [seriesUID, studyRef, modality, seriesNumber,
                                                          seriesDescription, bodyPart, instanceCount])
    }
}

extension InstanceRecord: IndexRecord {
    public static let indexTable = "instance"

    public init(row: IndexRow) {
        self.init(id: row["id"], sopUID: row["sopUID"], seriesRef: row["seriesRef"], sopClassUID: row["sopClassUID"],
                  instanceNumber: row["instanceNumber"], transferSyntax: row["transferSyntax"], path: row["path"],
                  sizeBytes: row["sizeBytes"], sha256: row["sha256"], receivedAt: row["receivedAt"],
                  callingAE: row["callingAE"], peerHost: row["peerHost"], originNode: row["originNode"])
    }

    static let insertSQL = IndexRecordSQL.insert(into: indexTable, columns: [
        "sopUID", "seriesRef", "sopClassUID", "instanceNumber", "transferSyntax", "path", "sizeBytes",
        "sha256", "receivedAt", "callingAE", "peerHost", "originNode"])

    /// Inserts the row and sets `id`.
    public mutating func insert(_ db: any IndexDatabase) throws {
        id = try db.insertReturningID(Self.insertSQL, [sopUID, seriesRef, sopClassUID, instanceNumber,
                                                          transferSyntax, path, sizeBytes, sha256, receivedAt,
                                                          callingAE, peerHost, originNode])
    }
}

extension AuditRecord: IndexRecord {
    public static let indexTable = "audit"

    public init(row: IndexRow) {
        self.init(event: row["event"], actor: row["actor"], peer: row["peer"], studyUID: row["studyUID"],
                  outcome: row["outcome"], detail: row["detail"], time: row["time"])
        id = row["id"]
    }

    static let insertSQL = IndexRecordSQL.insert(into: indexTable, columns: [
        "time", "event", "actor", "peer", "studyUID", "outcome", "detail"])

    /// Inserts the row and sets `id`.
    public mutating func insert(_ db: any IndexDatabase) throws {
        id = try db.insertReturningID(Self.insertSQL, [time, event, actor, peer, studyUID, outcome, detail])
    }
}
