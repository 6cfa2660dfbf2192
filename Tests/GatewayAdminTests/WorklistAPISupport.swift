import Foundation
@testable import GatewayAdmin
import GatewayConfig
import GatewayStore
import GRDB
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Prometheus

/// The HTTP API's routes over a real index in a temporary directory, answered in memory (no
/// socket): what a request gets back, with `ErrorAnswers` in front as in the server.
final class WorklistAPIHarness: @unchecked Sendable {
    // Safe: every stored property is a let of a thread-safe type (the index, the responder) or a
    // value read only by the test's own task.
    let directory: URL
    let index: CacheIndex
    let worklist: FakeWorklist
    let responder: RouterResponder<AdminRequestContext>

    init(patientData: Bool = false, worklistRunning: Bool = true, nodes: [NodeConfig] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("worklist-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        index = try CacheIndex(path: directory.appendingPathComponent("index.sqlite").path)
        worklist = FakeWorklist(index: index)
        var configuration = GatewayConfiguration.embeddedDefault
        configuration.http.patientData = patientData
        configuration.storage.path = directory
        configuration.nodes = nodes
        let control = FakeControl(configuration: configuration, worklist: worklistRunning ? worklist : nil)
        let logger = Logger(label: "worklist-api-test") { _ in SwiftLogNoOpLogHandler() }
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: ErrorAnswers(logger: logger))
        AdminAPI(index: index, control: control, metrics: PrometheusCollectorRegistry(), logger: logger).addRoutes(to: router)
        responder = router.buildResponder()
    }

    deinit {
        index.close()
        try? FileManager.default.removeItem(at: directory)
    }

    struct Answer {
        var status: HTTPResponse.Status
        var text: String
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:] }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    }

    func get(_ path: String) async throws -> Answer { try await send(.get, path, body: "") }
    func post(_ path: String, _ body: String) async throws -> Answer { try await send(.post, path, body: body) }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String) async throws -> Answer {
        let channel = EmbeddedChannel()
        defer { _ = channel.close() }
        let context = AdminRequestContext(source: .init(channel: channel, logger: Logger(label: "request") { _ in SwiftLogNoOpLogHandler() }))
        let request = Request(head: .init(method: method, scheme: "http", authority: "127.0.0.1", path: path),
                              body: .init(buffer: ByteBuffer(string: body)))
        let response = try await responder.respond(to: request, context: context)
        let collected = Collected()
        try await response.body.write(CollectingWriter(into: collected))
        return Answer(status: response.status, text: String(buffer: collected.buffer))
    }

    final class Collected: @unchecked Sendable {
        // Safe: written by one response body at a time, read after it finished.
        var buffer = ByteBuffer()
    }

    struct CollectingWriter: ResponseBodyWriter {
        let into: Collected
        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            into.buffer.writeBuffer(&buffer)
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    // MARK: Fixture rows (written as the store's own transactions would leave them)

    /// A worklist item; times relative to `now`. Returns its id.
    @discardableResult
    func item(_ studyUID: String, rank: Int, state: WorklistState = .scheduled, site: String? = nil, deadlineIn: TimeInterval,
              arrivedAgo: TimeInterval = 3600, origin: String? = "TRUST_A", orphan: WorklistOrphan? = nil,
              reportedAt: Date? = nil, now: Date = Date()) throws -> Int64 {
        let arrived = now.addingTimeInterval(-arrivedAgo).timeIntervalSince1970
        let deadline = now.addingTimeInterval(deadlineIn).timeIntervalSince1970
        let rule: String? = orphan == .noRule ? nil : "neuro-ct"
        let allocated: Double? = site == nil ? nil : arrived + 60
        try index.sqliteWrite { db in
            try db.execute(sql: """
                INSERT INTO worklist_item(studyUID, origin, patientID, issuer, priority, skill, effort, rule, arrivedAt, deadline,
                                          state, site, allocatedAt, reportedAt, orphan, updatedAt)
                VALUES (?, ?, ?, 'RTH', ?, 'neuro', 1.5, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [studyUID, origin, "NET-\(studyUID.suffix(3))", rank, rule, arrived, deadline, state.rawValue, site,
                                 allocated, reportedAt?.timeIntervalSince1970, orphan?.rawValue, now.timeIntervalSince1970])
        }
        return try index.worklistItem(studyUID: studyUID)!.id
    }

    /// A cached study (with its patient), for the attributes listings show beside an item.
    func study(_ studyUID: String, accession: String, description: String, modalities: String, instances: Int) throws {
        try index.sqliteWrite { db in
            try db.execute(sql: "INSERT INTO patient(issuer, patientID, patientName) VALUES ('RTH', 'LOCAL-1', 'Doe^Jane') ON CONFLICT DO NOTHING")
            let patient = try Int64.fetchOne(db, sql: "SELECT id FROM patient WHERE patientID = 'LOCAL-1'")!
            let now = Date().timeIntervalSince1970
            try db.execute(sql: """
                INSERT INTO study(studyUID, patientRef, studyDate, accessionNumber, studyDescription, modalities, instanceCount,
                                  receivedAt, updatedAt, lastAccessAt)
                VALUES (?, ?, '20250601', ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [studyUID, patient, accession, description, modalities, instances, now, now, now])
        }
    }
}

/// The gateway as the API sees it, without the DICOM side.
struct FakeControl: GatewayControl {
    var configuration: GatewayConfiguration
    var startedAt = Date()
    var lastReload: ReloadReport? { nil }
    let worklist: (any WorklistControl)?
    func reloadConfiguration() -> ReloadReport { ReloadReport(succeeded: true) }
    func deliveryWorkChanged() {}
}

/// The worklist actions over the real store, as the running gateway does them minus the
/// allocator: a claim of an item another site has started is the store's `WorklistConflict`.
final class FakeWorklist: WorklistControl, @unchecked Sendable {
    // Safe: `actors` is only touched under `lock`; `index` is thread-safe.
    let index: CacheIndex
    private let lock = NSLock()
    private var recorded: [String] = []
    var actors: [String] { lock.withLock { recorded } }

    static let sites = [
        WorklistSiteView(site: "NEURO_HUB", skills: ["neuro"], capacity: 12, hours: "08:00-20:00", inHoursNow: true, onDemand: false,
                         organisation: "RTH"),
        WorklistSiteView(site: "EAST_RAD", skills: ["neuro", "msk"], capacity: 6, hours: nil, inHoursNow: true, onDemand: true,
                         organisation: nil),
    ]

    init(index: CacheIndex) { self.index = index }

    private func record(_ actor: String) { lock.withLock { recorded.append(actor) } }

    private func knownSite(_ site: String) throws {
        guard Self.sites.contains(where: { $0.site == site }) else {
            throw WorklistRequestError(.notFound, "no reporter site named '\(site)' in the configuration")
        }
    }

    func claimWorklistItem(_ id: Int64, site: String, reporter: String, actor: String) throws -> WorklistItem {
        record(actor)
        try knownSite(site)
        return try index.assignWorklistItem(id, WorklistAssignment(site: site, pushImages: false, edits: "{}", event: "claimed",
                                                                   actor: actor, reporter: reporter), from: [.scheduled, .allocated])
    }

    func releaseWorklistItem(_ id: Int64, actor: String, reason: String) throws -> WorklistItem {
        record(actor)
        try index.releaseWorklistItem(id, actor: actor, reason: reason)
        return try index.worklistItem(id: id)!
    }

    func reassignWorklistItem(_ id: Int64, site: String, actor: String) throws -> WorklistItem {
        record(actor)
        try knownSite(site)
        return try index.assignWorklistItem(id, WorklistAssignment(site: site, pushImages: false, edits: "{}", event: "reassigned",
                                                                   actor: actor), from: [.scheduled, .allocated, .inProgress])
    }

    func cancelWorklistItem(_ id: Int64, actor: String, reason: String) throws -> WorklistItem {
        record(actor)
        try index.cancelWorklistItem(id, actor: actor, reason: reason)
        return try index.worklistItem(id: id)!
    }

    func worklistSites() -> [WorklistSiteView] { Self.sites }
}
