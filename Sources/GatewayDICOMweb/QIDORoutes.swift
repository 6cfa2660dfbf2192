import DicomCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Where QIDO-RS searches run: the cache index, through the identity view (GatewayApp).
public protocol QIDOSource: Sendable {
    /// The matches of `query`, at most `query.offset + query.limit` of them, in the index's order,
    /// as `caller` sees them (the identity view of its token's node, if it has one).
    func search(_ query: QIDOQuery, caller: WADOCaller) throws -> [DicomAttributes]
}

/// QIDO-RS (PS3.18 10.6): `/studies`, `/series`, `/instances` and the paths nested under a study
/// and a series, answered as `application/dicom+json` (204 when nothing matches).
public struct QIDORoutes: Sendable {
    let source: any QIDOSource
    let logger: Logger
    /// After each search: the caller's name and address, the query and how many matches went back.
    let onSearch: @Sendable (_ caller: String, _ address: String, _ query: QIDOQuery, _ count: Int) -> Void

    public init(source: any QIDOSource, logger: Logger,
                onSearch: @escaping @Sendable (String, String, QIDOQuery, Int) -> Void = { _, _, _, _ in }) {
        self.source = source
        self.logger = logger
        self.onSearch = onSearch
    }

    /// The standard's words for a fuzzymatching request it cannot honour (PS3.18 8.3.4.1).
    static let fuzzyWarning = "299 dicom-gateway: \"The fuzzymatching parameter is not supported. Only literal matching has been performed.\""

    public func add<Context: RequestContext>(to group: RouterGroup<Context>,
                                             caller: @escaping @Sendable (Request, Context) -> WADOCaller) {
        let searches: [(String, QueryLevel, [(String, DicomTag)])] = [
            ("studies", .study, []),
            ("series", .series, []),
            ("instances", .image, []),
            ("studies/:study/series", .series, [("study", .studyInstanceUID)]),
            ("studies/:study/instances", .image, [("study", .studyInstanceUID)]),
            ("studies/:study/series/:series/instances", .image, [("study", .studyInstanceUID), ("series", .seriesInstanceUID)]),
        ]
        for (path, level, fixedKeys) in searches {
            group.get(RouterPath(path)) { request, context in
                var fixed: [DicomTag: String] = [:]
                for (parameter, tag) in fixedKeys {
                    let uid = try context.parameters.require(parameter)
                    guard UID.isValid(uid) else { return Self.problem(.badRequest, "\(uid) is not a UID") }
                    fixed[tag] = uid
                }
                let who = caller(request, context)
                return try await search(request, level: level, fixed: fixed, caller: who)
            }
        }
    }

    func search(_ request: Request, level: QueryLevel, fixed: [DicomTag: String],
                caller: WADOCaller) async throws -> Response {
        let parameters = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
        let query: QIDOQuery
        do {
            query = try QIDOQuery.parse(level: level, parameters: parameters, fixed: fixed)
        } catch {
            return Self.problem(.badRequest, error.description)
        }
        let source = self.source
        let matches = try await offPoolThrowing { try source.search(query, caller: caller) }
        let page = Array(matches.dropFirst(query.offset).prefix(query.limit))
        onSearch(caller.name, caller.address, query, page.count)
        var headers: HTTPFields = [:]
        if query.fuzzyMatching { headers[UPSService.warning] = Self.fuzzyWarning }
        guard !page.isEmpty else { return Response(status: .noContent, headers: headers) }
        headers[.contentType] = "application/dicom+json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: DicomJSON.encode(page))))
    }

    static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}
