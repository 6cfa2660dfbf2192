/// A cached instance as WADO-RS serves it: its UIDs, its transfer syntax, and the file (already the
/// caller's view of it: a copy with the Patient ID the caller knows when the identity view says so).
public struct WADOInstance: Sendable, Equatable {
    public let studyUID: String
    public let seriesUID: String
    public let sopUID: String
    public let sopClassUID: String
    public let transferSyntaxUID: String
    /// Absolute path of the file to read (from the index, never from the request).
    public let path: String
    /// The file is a copy made for this request: delete it when done.
    public let isCopy: Bool
    /// Changes whenever the stored instance does (its SHA-256): keys the metadata cache.
    public let fingerprint: String
    /// The index's row id (0 when unknown): names the instance in the crash journal.
    public let instanceID: Int64

    public init(studyUID: String, seriesUID: String, sopUID: String, sopClassUID: String, transferSyntaxUID: String,
                path: String, isCopy: Bool = false, fingerprint: String = "", instanceID: Int64 = 0) {
        self.studyUID = studyUID
        self.seriesUID = seriesUID
        self.sopUID = sopUID
        self.sopClassUID = sopClassUID
        self.transferSyntaxUID = transferSyntaxUID
        self.path = path
        self.isCopy = isCopy
        self.fingerprint = fingerprint.isEmpty ? path : fingerprint
        self.instanceID = instanceID
    }
}

/// Why a WADO-RS read of a file did not give bytes.
public struct WADOError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case notAcceptable, notFound, failed }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// What WADO-RS needs done to a stored instance's file with DCMTK. GatewayApp implements it over
/// DicomNetwork (this module never imports it); every method blocks: the routes call them off
/// Swift's pool.
public protocol WADOFileReader: Sendable {
    /// The data set as DICOM JSON (one object), BulkDataURIs built on `instanceURL`.
    func metadata(_ instance: WADOInstance, instanceURL: String) throws(WADOError) -> [UInt8]
    /// A top-level binary value (GGGGEEEE) and the transfer syntax its bytes are in.
    func bulkData(_ instance: WADOInstance, tag: UInt32) throws(WADOError) -> (bytes: [UInt8], transferSyntaxUID: String)
    /// Frames (1-based) as stored (nil) or converted to a transfer syntax, and theirs.
    func frames(_ instance: WADOInstance, numbers: [Int], transferSyntaxUID: String?) throws(WADOError)
        -> (frames: [[UInt8]], transferSyntaxUID: String)
    /// The file as a Part 10 file in another transfer syntax, written to `output`.
    func transcode(_ instance: WADOInstance, to transferSyntaxUID: String, output: String) throws(WADOError)
    /// One frame (1-based; 0: the first) as a JPEG no larger than `maxSide` (0: as is).
    func renderJPEG(_ instance: WADOInstance, frame: Int, maxSide: Int, quality: Int) throws(WADOError) -> [UInt8]
}

/// Which instances a WADO request names, as the caller may see them.
public protocol WADOInstanceSource: Sendable {
    /// The instances of a study, a series of it, or one instance, in series and instance order;
    /// empty when none is cached (or the caller may not see them). Files are the caller's view.
    func instances(studyUID: String, seriesUID: String?, sopUID: String?, caller: WADOCaller) throws -> [WADOInstance]
    /// Called when the response no longer needs the files (removes copies).
    func release(_ instances: [WADOInstance])
}

/// Who is asking, as far as the instance source needs to know (for the identity view and access).
public struct WADOCaller: Sendable, Equatable {
    /// The node the caller's token acts for, if any (the identity view of that node applies).
    public let node: String?
    /// A name for the audit trail (token name or "anonymous").
    public let name: String
    public let address: String

    public init(node: String?, name: String, address: String) {
        self.node = node
        self.name = name
        self.address = address
    }
}
