import Foundation
import Hummingbird

extension WADORoutes {
    /// WADO-URI (PS3.18 9): `GET path?requestType=WADO&studyUID=&seriesUID=&objectUID=` with
    /// `contentType` `application/dicom` (the file, `transferSyntax` converting it) or `image/jpeg`
    /// (the default; `frameNumber`, `rows`/`columns` bounding the size, `imageQuality`).
    public func addWADOURI<Context: RequestContext>(to router: some RouterMethods<Context>, path: String,
                                                    caller: @escaping @Sendable (Request, Context) -> WADOCaller) {
        router.get(RouterPath(path)) { request, context in
            try await wadoURI(request, caller(request, context))
        }
    }

    func wadoURI(_ request: Request, _ caller: WADOCaller) async throws -> Response {
        let query = request.uri.queryParameters
        guard query.get("requestType") == "WADO" else {
            throw HTTPError(.badRequest, message: "requestType: must be WADO")
        }
        func uid(_ name: String) throws -> String {
            guard let value = query.get(name), Self.isUID(value) else {
                throw HTTPError(.badRequest, message: "\(name): a DICOM UID is required")
            }
            return value
        }
        let target = Target(studyUID: try uid("studyUID"), seriesUID: try uid("seriesUID"), sopUID: try uid("objectUID"))
        // contentType may list several types in preference order (PS3.18 9.1.2.1.5).
        let wanted = (query.get("contentType") ?? "image/jpeg").split(separator: ",").map {
            $0.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
        }
        guard let contentType = wanted.first(where: { $0 == "application/dicom" || $0 == "image/jpeg" }) else {
            throw HTTPError(.notAcceptable, message: "contentType: application/dicom or image/jpeg")
        }
        let found = try await instances(target, caller)
        if contentType == "image/jpeg" {
            defer { source.release(found) }
            var frame = 0
            if let text = query.get("frameNumber") {
                guard let n = Int(text), n >= 1 else { throw HTTPError(.badRequest, message: "frameNumber: from 1") }
                frame = n
            }
            let sides = ["rows", "columns"].compactMap { query.get($0) }.map { Int($0) }
            guard sides.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 8192 }) else {
                throw HTTPError(.badRequest, message: "rows, columns: pixels")
            }
            var quality = 90
            if let text = query.get("imageQuality") {
                guard let q = Int(text), (1...100).contains(q) else { throw HTTPError(.badRequest, message: "imageQuality: 1 to 100") }
                quality = q
            }
            let jpeg = try await renderJPEG(found[0], frame: frame, maxSide: sides.compactMap { $0 }.max() ?? 0, quality: quality)
            onRetrieve(caller, [found[0].studyUID], "WADO-URI image/jpeg \(target.description)")
            return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
        let instance = found[0]
        var path = instance.path
        var temporary = false
        if let ts = query.get("transferSyntax"), ts != instance.transferSyntaxUID {
            do {
                path = try await transcoded(instance, to: ts)
                temporary = true
            } catch let error as WADOError {
                source.release(found)
                throw Self.httpError(error)
            }
        }
        onRetrieve(caller, [instance.studyUID], "WADO-URI application/dicom \(target.description)")
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let streamed = path
        let isTemporary = temporary
        let body = ResponseBody(contentLength: size) { [source] writer in
            defer {
                if isTemporary { try? FileManager.default.removeItem(atPath: streamed) }
                source.release(found)
            }
            try await MultipartRelated.stream(streamed, chunkLength: 1 << 20) { try await writer.write($0) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/dicom"], body: body)
    }
}
