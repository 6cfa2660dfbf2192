import Foundation
import GatewayStore
import Hummingbird
import NIOCore

/// What UPS-RS needs from the running gateway: its worklist (reads from the index; claims go
/// through the allocator, as the HTTP API's). GatewayApp implements it.
public protocol UPSWorklist: Sendable {
    var aeTitle: String { get }
    /// `http.patient_data`: workitems show the Patient ID only when it is true.
    var patientData: Bool { get }
    /// Items in `states` (all when nil) of `studyUID` (any when nil), soonest deadline first. Blocks.
    func listings(states: [WorklistState]?, studyUID: String?, limit: Int) throws -> [WorklistListing]
    func listing(id: Int64) throws -> WorklistListing?
    /// `caller` takes the SCHEDULED item `id`: IN PROGRESS under `transactionUID`. Throws
    /// ``UPSRefusal`` (or `WorklistConflict`, `WorklistRequestError`-like errors as refusals).
    func claim(_ id: Int64, transactionUID: String, caller: String) throws
    func complete(_ id: Int64, transactionUID: String, caller: String) throws
    func cancel(_ id: Int64, transactionUID: String, caller: String) throws
    /// Records a state change refused by the rules of PS3.4 CC.1.1 (the audit trail).
    func refused(_ id: Int64, caller: String, _ detail: String)
    /// Records a search (`studyUID` nil) or a retrieve of one workitem, and what it found: the
    /// audit trail's DICOM Query, as for QIDO-RS.
    func searched(caller: UPSCaller, matches: Int, studyUID: String?, query: String)
}

/// Who asks UPS-RS: the token's name (or the node it is bound to) and the client's address.
public struct UPSCaller: Sendable {
    public var name: String
    public var address: String
    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }
}

/// A state change UPS-RS refuses: the HTTP status, and the PS3.4 CC status and its comment
/// (sent in a `Warning: 299` header and the JSON body).
public struct UPSRefusal: Error, Sendable, CustomStringConvertible {
    public var httpStatus: Int
    public var code: UInt16?
    public var message: String
    public var description: String { message }

    public init(_ httpStatus: Int, code: UInt16? = nil, _ message: String) {
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
    }

    static let alreadyInProgress = UPSRefusal(409, code: 0xC302, "The UPS is already IN PROGRESS")
    static let noLongerUpdated = UPSRefusal(409, code: 0xC300, "The UPS may no longer be updated")
    static let wrongTransaction = UPSRefusal(409, code: 0xC301, "The correct Transaction UID was not provided")
    static let notInProgress = UPSRefusal(409, code: 0xC310, "The UPS is not yet in the IN PROGRESS state")
}

/// UPS-RS (PS3.18 §11) over the reporting worklist: `GET {root}/workitems` (search),
/// `GET {root}/workitems/{uid}` (retrieve), `PUT {root}/workitems/{uid}/state` (change state,
/// PS3.4 CC.1.1: claim a SCHEDULED item with a Transaction UID into IN PROGRESS; complete or
/// cancel it with the same Transaction UID).
public struct UPSService: Sendable {
    let worklist: any UPSWorklist

    public init(worklist: any UPSWorklist) {
        self.worklist = worklist
    }

    /// Search: `ProcedureStepState` (or 00741000; values separated by `\` or `,`),
    /// `ScheduledProcedureStepStartDateTime` (00404005; a DT or a range `from-to`, either side
    /// open), `PatientID` (00100020; `*` and `?` wildcards), `StudyInstanceUID` (0020000D, or
    /// 0040A370.0020000D), `limit` (default 100, at most 1000) and `offset`. Other parameters are
    /// ignored, as QIDO-RS does. 200 with the workitems, 204 when none match.
    public func search(_ request: Request, caller: UPSCaller) async throws -> Response {
        do {
            return try await find(request, caller: caller)
        } catch let refusal as UPSRefusal {
            return Self.refusal(refusal)
        }
    }

    private func find(_ request: Request, caller: UPSCaller) async throws -> Response {
        let q = request.uri.queryParameters
        func value(_ names: String...) -> String? { names.lazy.compactMap { q.get($0) }.first { !$0.isEmpty } }
        var requestedStates: [WorklistState]?
        if let raw = value("ProcedureStepState", "00741000") {
            requestedStates = try raw.split(whereSeparator: { $0 == "\\" || $0 == "," }).flatMap { name -> [WorklistState] in
                guard let state = UPSWorkitem.State(rawValue: name.trimmingCharacters(in: .whitespaces).uppercased()) else {
                    throw UPSRefusal(400, "ProcedureStepState=\(name) is not SCHEDULED, IN PROGRESS, COMPLETED or CANCELED")
                }
                return state.worklistStates
            }
        }
        let states = requestedStates
        let studyUID = value("StudyInstanceUID", "0020000D", "ReferencedRequestSequence.StudyInstanceUID", "0040A370.0020000D")
        let range = try value("ScheduledProcedureStepStartDateTime", "00404005").map(Self.dateTimeRange)
        let patient = value("PatientID", "00100020")
        let limit = try Self.integer(value("limit"), "limit", default: 100, 1...1000)
        let offset = try Self.integer(value("offset"), "offset", default: 0, 0...1_000_000)
        let worklist = self.worklist
        let listings = try await offPoolThrowing { try worklist.listings(states: states, studyUID: studyUID, limit: 5000) }
        let matching = listings.filter { listing in
            if let range {
                let start = UPSWorkitem.dateTime(listing.item.arrivedAt).prefix(14)
                if start < range.lowerBound || start > range.upperBound { return false }
            }
            if let patient, !Self.matches(listing.item.patientID, pattern: patient) { return false }
            return true
        }
        let page = matching.dropFirst(offset).prefix(limit)
        let query = request.uri.query ?? ""
        await offPool { worklist.searched(caller: caller, matches: page.count, studyUID: nil, query: query) }
        guard !page.isEmpty else { return Response(status: .noContent) }
        return Self.json(page.map { UPSWorkitem.json($0, aeTitle: worklist.aeTitle, patientData: worklist.patientData) })
    }

    /// Retrieve: the workitem, or 404.
    public func retrieve(_ uid: String, caller: UPSCaller) async throws -> Response {
        let worklist = self.worklist
        guard let id = UPSWorkitem.itemID(uid: uid, aeTitle: worklist.aeTitle),
              let listing = try await offPoolThrowing({ try worklist.listing(id: id) }) else {
            await offPool { worklist.searched(caller: caller, matches: 0, studyUID: nil, query: "workitem \(uid)") }
            return Self.refusal(UPSRefusal(404, code: 0xC307, "Specified SOP Instance UID does not exist or is not a UPS Instance managed by this SCP"))
        }
        await offPool { worklist.searched(caller: caller, matches: 1, studyUID: listing.item.studyUID, query: "workitem \(uid)") }
        return Self.json([UPSWorkitem.json(listing, aeTitle: worklist.aeTitle, patientData: worklist.patientData)])
    }

    /// Change state: a DICOM JSON body with Procedure Step State (0074,1000) and Transaction UID (0008,1195).
    public func changeState(_ request: Request, uid: String, caller: String) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 10)
        let (requested, transaction): (UPSWorkitem.State, String)
        do {
            (requested, transaction) = try Self.stateChange(Data(body.readableBytesView))
        } catch let refusal as UPSRefusal {
            return Self.refusal(refusal)
        }
        let worklist = self.worklist
        guard let id = UPSWorkitem.itemID(uid: uid, aeTitle: worklist.aeTitle),
              let listing = try await offPoolThrowing({ try worklist.listing(id: id) }) else {
            return Self.refusal(UPSRefusal(404, code: 0xC307, "Specified SOP Instance UID does not exist or is not a UPS Instance managed by this SCP"))
        }
        let current = UPSWorkitem.State(listing.item.state)
        let transition: Transition
        do {
            transition = try Self.transition(from: current, to: requested, held: listing.item.transactionUID, presented: transaction)
        } catch let refusal as UPSRefusal {
            let detail = "\(current.rawValue) to \(requested.rawValue): \(refusal.message)"
            await offPool { worklist.refused(id, caller: caller, detail) }
            return Self.refusal(refusal)
        }
        do {
            switch transition {
            case .already(let warning):
                var response = Response(status: .ok)
                response.headers[UPSService.warning] = "299 dicom-gateway: \"\(warning)\""
                return response
            case .change:
                try await offPoolThrowing {
                    switch requested {
                    case .inProgress: try worklist.claim(id, transactionUID: transaction, caller: caller)
                    case .completed: try worklist.complete(id, transactionUID: transaction, caller: caller)
                    case .canceled: try worklist.cancel(id, transactionUID: transaction, caller: caller)
                    case .scheduled: throw UPSRefusal(400, code: 0xC303, "The UPS may only become SCHEDULED via N-CREATE")
                    }
                }
            }
        } catch let refusal as UPSRefusal {
            return Self.refusal(refusal)
        } catch let conflict as WorklistConflict {
            return Self.refusal(UPSRefusal(409, conflict.message))
        }
        return Response(status: .ok)
    }

    enum Transition: Equatable { case change, already(String) }

    /// The `Warning` header (RFC 9111 §5.5) that carries PS3.18's error comments.
    static let warning = HTTPFields.Element.Name("Warning")!

    /// PS3.4 CC.1.1 (Table CC.1.1-2): which state changes are allowed, and the refusals.
    static func transition(from current: UPSWorkitem.State, to requested: UPSWorkitem.State, held: String?,
                           presented: String) throws -> Transition {
        switch (current, requested) {
        case (_, .scheduled): throw UPSRefusal(400, code: 0xC303, "The UPS may only become SCHEDULED via N-CREATE, not by a state change")
        case (.scheduled, .inProgress): return .change
        case (.inProgress, .inProgress): throw UPSRefusal.alreadyInProgress
        case (.completed, .completed): return .already("The UPS is already in the requested state of COMPLETED")
        case (.canceled, .canceled): return .already("The UPS is already in the requested state of CANCELED")
        case (.completed, _), (.canceled, _): throw UPSRefusal.noLongerUpdated
        case (.scheduled, .completed), (.scheduled, .canceled): throw UPSRefusal.notInProgress
        case (.inProgress, .completed), (.inProgress, .canceled):
            guard held == presented else { throw UPSRefusal.wrongTransaction }
            return .change
        }
    }

    /// The requested state and Transaction UID of a Change State body (an object, or a list of one).
    static func stateChange(_ data: Data) throws -> (UPSWorkitem.State, String) {
        let parsed = try? JSONSerialization.jsonObject(with: data)
        guard let object = (parsed as? [String: Any]) ?? (parsed as? [[String: Any]])?.first else {
            throw UPSRefusal(400, "the body must be a DICOM JSON object with ProcedureStepState (00741000) and TransactionUID (00081195)")
        }
        func first(_ tag: String) -> String? { ((object[tag] as? [String: Any])?["Value"] as? [Any])?.first as? String }
        guard let raw = first("00741000"), let state = UPSWorkitem.State(rawValue: raw.uppercased()) else {
            throw UPSRefusal(400, "ProcedureStepState (00741000) is missing or not SCHEDULED, IN PROGRESS, COMPLETED or CANCELED")
        }
        guard let transaction = first("00081195"), StowService.isUID(transaction) else {
            throw UPSRefusal(400, code: 0xC301, "TransactionUID (00081195) is missing or not a UID (digits and dots, at most 64)")
        }
        return (state, transaction)
    }

    /// A DT or DT range as 14-digit bounds (`20240101-` from that day on; `-2024` up to that year's end).
    static func dateTimeRange(_ raw: String) throws -> ClosedRange<Substring> {
        let sides = raw.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { String($0.prefix(14)) }
        guard sides.allSatisfy({ $0.allSatisfy(\.isNumber) }), sides.count <= 2, sides.contains(where: { !$0.isEmpty }) else {
            throw UPSRefusal(400, "ScheduledProcedureStepStartDateTime=\(raw) is not a date-time or a range such as 20240101-20240131")
        }
        let low = sides[0].padding(toLength: 14, withPad: "0", startingAt: 0)
        let high = (sides.count == 2 ? sides[1] : sides[0])
        let upper = high.isEmpty ? String(repeating: "9", count: 14) : high.padding(toLength: 14, withPad: "9", startingAt: 0)
        guard low <= upper else { throw UPSRefusal(400, "ScheduledProcedureStepStartDateTime=\(raw) ends before it starts") }
        return Substring(low)...Substring(upper)
    }

    static func matches(_ value: String, pattern: String) -> Bool {
        guard pattern.contains("*") || pattern.contains("?") else { return value == pattern }
        let regex = "^" + NSRegularExpression.escapedPattern(for: pattern).replacingOccurrences(of: "\\*", with: ".*")
            .replacingOccurrences(of: "\\?", with: ".") + "$"
        return value.range(of: regex, options: .regularExpression) != nil
    }

    static func integer(_ raw: String?, _ name: String, default value: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let n = Int(raw), range.contains(n) else { throw UPSRefusal(400, "\(name)=\(raw) must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
        return n
    }

    static func json(_ items: [[String: Any]]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: items, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
        return Response(status: .ok, headers: [.contentType: "application/dicom+json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func refusal(_ refusal: UPSRefusal) -> Response {
        var response = StowService.error(.init(code: refusal.httpStatus), refusal.message)
        let status = refusal.code.map { String(format: " (0x%04X)", $0) } ?? ""
        response.headers[UPSService.warning] = "299 dicom-gateway: \"\(refusal.message)\(status)\""
        return response
    }
}

/// Throwing blocking work off Swift's cooperative pool.
func offPoolThrowing<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
    }
}
