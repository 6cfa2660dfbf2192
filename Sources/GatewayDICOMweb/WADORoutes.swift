import Dispatch
import Foundation
import Hummingbird
import Logging

/// WADO-RS (PS3.18 10.4) over the cache: retrieve of studies, series and instances, `/metadata`,
/// `/frames`, `/bulkdata`, `/rendered` and `/thumbnail`; and WADO-URI (PS3.18 9). Instances come
/// from a ``WADOInstanceSource`` (the index; file names never come from the request), file work
/// from a ``WADOFileReader`` (DCMTK, plugged in by GatewayApp).
public struct WADORoutes: Sendable {
    public let source: any WADOInstanceSource
    public let reader: any WADOFileReader
    public let metadataCache: MetadataCache
    /// Base of BulkDataURIs and Content-Locations: the public URL plus the root when one is
    /// configured (absolute), else the root path (relative), e.g. `/dicom-web`.
    public let base: String
    /// Where transcoded copies are written while they are sent.
    public let temporaryDirectory: String
    /// Called once per retrieve that sent something (audit event 110103), with the caller and the
    /// studies read.
    public let onRetrieve: @Sendable (WADOCaller, _ studyUIDs: [String], _ what: String) -> Void
    let logger: Logger

    public init(source: any WADOInstanceSource, reader: any WADOFileReader, metadataCache: MetadataCache, base: String,
                temporaryDirectory: String, logger: Logger,
                onRetrieve: @escaping @Sendable (WADOCaller, [String], String) -> Void = { _, _, _ in }) {
        self.source = source
        self.reader = reader
        self.metadataCache = metadataCache
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.temporaryDirectory = temporaryDirectory
        self.logger = logger
        self.onRetrieve = onRetrieve
    }

    /// Adds the WADO-RS routes under `group` (the DICOMweb root). `caller` says who asks.
    public func add<Context: RequestContext>(to group: RouterGroup<Context>,
                                             caller: @escaping @Sendable (Request, Context) -> WADOCaller) {
        group.get("studies/:study") { request, context in
            try await retrieve(request, try target(context, level: .study), caller(request, context))
        }
        group.get("studies/:study/series/:series") { request, context in
            try await retrieve(request, try target(context, level: .series), caller(request, context))
        }
        group.get("studies/:study/series/:series/instances/:instance") { request, context in
            try await retrieve(request, try target(context, level: .instance), caller(request, context))
        }
        group.get("studies/:study/metadata") { request, context in
            try await metadata(request, try target(context, level: .study), caller(request, context))
        }
        group.get("studies/:study/series/:series/metadata") { request, context in
            try await metadata(request, try target(context, level: .series), caller(request, context))
        }
        group.get("studies/:study/series/:series/instances/:instance/metadata") { request, context in
            try await metadata(request, try target(context, level: .instance), caller(request, context))
        }
        group.get("studies/:study/series/:series/instances/:instance/frames/:frames") { request, context in
            try await frames(request, try target(context, level: .instance), try Self.frameList(context), caller(request, context))
        }
        group.get("studies/:study/series/:series/instances/:instance/bulkdata/:tag") { request, context in
            try await bulkData(request, try target(context, level: .instance), context.parameters.get("tag") ?? "",
                               caller(request, context))
        }
        for (suffix, thumbnail) in [("rendered", false), ("thumbnail", true)] {
            group.get("studies/:study/series/:series/instances/:instance/\(suffix)") { request, context in
                try await rendered(request, try target(context, level: .instance), frame: 0, thumbnail: thumbnail,
                                   caller(request, context))
            }
            group.get("studies/:study/series/:series/instances/:instance/frames/:frames/\(suffix)") { request, context in
                let frames = try Self.frameList(context)
                guard frames.count == 1 else { throw HTTPError(.badRequest, message: "a rendered frame is one frame number") }
                return try await rendered(request, try target(context, level: .instance), frame: frames[0],
                                          thumbnail: thumbnail, caller(request, context))
            }
        }
    }

    // MARK: - Targets

    enum Level { case study, series, instance }

    struct Target {
        let studyUID: String
        let seriesUID: String?
        let sopUID: String?
        var description: String { [studyUID, seriesUID, sopUID].compactMap { $0 }.joined(separator: "/") }
    }

    func target<Context: RequestContext>(_ context: Context, level: Level) throws -> Target {
        func uid(_ name: String) throws -> String {
            let value = context.parameters.get(name) ?? ""
            guard Self.isUID(value) else { throw HTTPError(.badRequest, message: "\(name): not a DICOM UID") }
            return value
        }
        return Target(studyUID: try uid("study"), seriesUID: level == .study ? nil : try uid("series"),
                      sopUID: level == .instance ? try uid("instance") : nil)
    }

    /// A UID as PS3.5 9.1 has it: digits and dots, at most 64 characters.
    static func isUID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { $0 == UInt8(ascii: ".") || (48...57).contains($0) }
            && !text.hasPrefix(".") && !text.hasSuffix(".") && !text.contains("..")
    }

    static func frameList<Context: RequestContext>(_ context: Context) throws -> [Int] {
        let text = context.parameters.get("frames") ?? ""
        let numbers = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingWhitespace()) }
        guard !numbers.isEmpty, numbers.count <= 10_000, numbers.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw HTTPError(.badRequest, message: "frames: a comma-separated list of frame numbers from 1")
        }
        return numbers.map { $0! }
    }

    /// The instances of `target` as `caller` sees them; 404 when none.
    func instances(_ target: Target, _ caller: WADOCaller) async throws -> [WADOInstance] {
        let found = try await Self.offPool { [source] in
            try source.instances(studyUID: target.studyUID, seriesUID: target.seriesUID, sopUID: target.sopUID, caller: caller)
        }
        guard !found.isEmpty else { throw HTTPError(.notFound, message: "\(target.description) is not in the cache") }
        return found
    }

    func instanceURL(_ instance: WADOInstance) -> String {
        "\(base)/studies/\(instance.studyUID)/series/\(instance.seriesUID)/instances/\(instance.sopUID)"
    }

    static func accept(_ request: Request) -> [AcceptedMediaType] {
        AcceptHeader.parse(request.headers[values: .accept])
    }

    /// Runs blocking work (DCMTK, file reads, the index) on a dispatch thread, never on Swift's
    /// cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    static func httpError(_ error: WADOError) -> HTTPError {
        switch error.kind {
        case .notAcceptable: HTTPError(.notAcceptable, message: error.message)
        case .notFound: HTTPError(.notFound, message: error.message)
        case .failed: HTTPError(.internalServerError, message: error.message)
        }
    }

    static func notAcceptable(_ what: String) -> HTTPError {
        HTTPError(.notAcceptable, message: "none of the media types in Accept can be sent for \(what)")
    }
}
