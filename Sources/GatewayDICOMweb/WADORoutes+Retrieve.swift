import Foundation
import Hummingbird

extension WADORoutes {
    /// Study, series or instance retrieve: `multipart/related; type="application/dicom"`, one part
    /// per instance, streamed from disk; transcoded per part when the Accept header asks for another
    /// transfer syntax (406 when DCMTK cannot convert the first instance to any acceptable one).
    func retrieve(_ request: Request, _ target: Target, _ caller: WADOCaller) async throws -> Response {
        let accept = Self.accept(request)
        let found = try await instances(target, caller)
        var released = false
        defer { if !released { source.release(found) } }
        // The rendition is chosen with the first instance: the first acceptable one it can be sent in.
        var chosen: Rendition?
        var firstCopy: String?
        // Negotiated without a stored syntax: a named one applies to every instance (each as stored when
        // it already is in it); the first one tells whether DCMTK can convert at all.
        for rendition in WADONegotiation.instances(accept, stored: "") {
            guard case .transferSyntax(let ts) = rendition, ts != found[0].transferSyntaxUID else {
                chosen = rendition
                break
            }
            do {
                firstCopy = try await transcoded(found[0], to: ts)
                chosen = rendition
                break
            } catch let error as WADOError where error.kind == .notAcceptable {
                continue
            }
        }
        guard let chosen else { throw Self.notAcceptable("\(target.description) (stored as \(found[0].transferSyntaxUID))") }
        let parts = found.enumerated().map { index, instance in
            part(instance, chosen, prepared: index == 0 ? firstCopy : nil)
        }
        onRetrieve(caller, Array(Set(found.map(\.studyUID))).sorted(), "WADO-RS retrieve \(target.description)")
        let multipart = MultipartRelated(type: "application/dicom")
        released = true
        let body = ResponseBody { [source] writer in
            defer { source.release(found) }
            try await multipart.write(parts) { try await writer.write($0) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: multipart.contentType], body: body)
    }

    private func part(_ instance: WADOInstance, _ rendition: Rendition, prepared: String?) -> MultipartPart {
        let location = instanceURL(instance)
        switch rendition {
        case .transferSyntax(let ts) where ts != instance.transferSyntaxUID:
            return MultipartPart(contentType: "application/dicom; transfer-syntax=\(ts)", location: location) {
                if let prepared { return .temporaryFile(prepared) }
                return .temporaryFile(try await self.transcoded(instance, to: ts))
            }
        default:
            return MultipartPart(contentType: "application/dicom; transfer-syntax=\(instance.transferSyntaxUID)",
                                 location: location, file: instance.path)
        }
    }

    /// A copy of the instance in `ts` in the temporary directory (the caller deletes it).
    func transcoded(_ instance: WADOInstance, to ts: String) async throws -> String {
        let output = temporaryDirectory + "/wado-\(UUID().uuidString).dcm"
        let reader = self.reader
        let directory = temporaryDirectory
        do {
            try await Self.offPool {
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try reader.transcode(instance, to: ts, output: output)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw error
        }
        return output
    }

    /// `/metadata`: a DICOM JSON array, one object per instance.
    func metadata(_ request: Request, _ target: Target, _ caller: WADOCaller) async throws -> Response {
        guard WADONegotiation.acceptsJSON(Self.accept(request)) else { throw Self.notAcceptable("metadata") }
        let found = try await instances(target, caller)
        defer { source.release(found) }
        let cache = metadataCache
        let view = caller.node ?? ""
        let json: [UInt8]
        do {
            json = try await Self.offPool { [self] in
                try cache.metadata(of: found, view: view, instanceURL: { self.instanceURL($0) })
            }
        } catch let error as WADOError {
            throw Self.httpError(error)
        }
        onRetrieve(caller, Array(Set(found.map(\.studyUID))).sorted(), "WADO-RS metadata \(target.description)")
        return Response(status: .ok, headers: [.contentType: "application/dicom+json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// `/frames/{list}`: one part per frame, `transfer-syntax` in each part's Content-Type. The first
    /// frame settles the transfer syntax (406 when none acceptable can be made); frames sent as stored
    /// are then read one at a time as the client reads, so a long list never sits in memory.
    func frames(_ request: Request, _ target: Target, _ numbers: [Int], _ caller: WADOCaller) async throws -> Response {
        let accept = Self.accept(request)
        let found = try await instances(target, caller)
        var released = false
        defer { if !released { source.release(found) } }
        let instance = found[0]
        let renditions = WADONegotiation.frames(accept, stored: instance.transferSyntaxUID)
        guard !renditions.isEmpty else { throw Self.notAcceptable("frames") }
        var first: (frames: [[UInt8]], transferSyntaxUID: String)?
        var wanted: String?
        var lastError: WADOError?
        for rendition in renditions {
            if case .transferSyntax(let ts) = rendition { wanted = ts } else { wanted = nil }
            do {
                first = try await Self.offPool { [reader, wanted] in
                    try reader.frames(instance, numbers: [numbers[0]], transferSyntaxUID: wanted)
                }
                break
            } catch let error as WADOError where error.kind == .notAcceptable {
                lastError = error
            } catch let error as WADOError {
                throw Self.httpError(error)
            }
        }
        guard let first, let firstBytes = first.frames.first else {
            throw Self.httpError(lastError ?? WADOError(.notAcceptable, "frames cannot be sent"))
        }
        let ts = first.transferSyntaxUID
        let rest = Array(numbers.dropFirst())
        var converted: [[UInt8]] = []
        if wanted != nil && !rest.isEmpty {
            // Converted frames come from one decoding of the file.
            do {
                converted = try await Self.offPool { [reader, wanted] in
                    try reader.frames(instance, numbers: rest, transferSyntaxUID: wanted).frames
                }
            } catch let error as WADOError {
                throw Self.httpError(error)
            }
        }
        let partType = Self.framePartType(accept)
        let contentType = "\(partType); transfer-syntax=\(ts)"
        let location = instanceURL(instance) + "/frames/"
        var parts = [MultipartPart(contentType: contentType, location: location + "\(numbers[0])", bytes: firstBytes)]
        for (index, number) in rest.enumerated() {
            if wanted != nil {
                parts.append(MultipartPart(contentType: contentType, location: location + "\(number)", bytes: converted[index]))
            } else {
                parts.append(MultipartPart(contentType: contentType, location: location + "\(number)") { [reader] in
                    let frame = try await Self.offPool { try reader.frames(instance, numbers: [number], transferSyntaxUID: nil) }
                    return .bytes(frame.frames.first ?? [])
                })
            }
        }
        onRetrieve(caller, [instance.studyUID], "WADO-RS frames \(target.description)")
        let multipart = MultipartRelated(type: partType)
        released = true
        let body = ResponseBody { [source, parts] writer in
            defer { source.release(found) }
            try await multipart.write(parts) { try await writer.write($0) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: multipart.contentType], body: body)
    }

    /// The parts' media type: the image type the client asked for, else application/octet-stream.
    static func framePartType(_ accept: [AcceptedMediaType]) -> String {
        for range in accept where range.mediaType == "multipart/related" {
            if let type = range.partType, type != "*/*", !type.hasSuffix("/*") { return type }
        }
        return "application/octet-stream"
    }

    /// `/bulkdata/{tag}`: the value of a top-level binary attribute, one part.
    func bulkData(_ request: Request, _ target: Target, _ tagText: String, _ caller: WADOCaller) async throws -> Response {
        guard tagText.count == 8, let tag = UInt32(tagText, radix: 16) else {
            throw HTTPError(.badRequest, message: "bulkdata: an attribute tag as 8 hexadecimal digits (GGGGEEEE)")
        }
        let accept = Self.accept(request)
        guard accept.contains(where: { $0.matches("multipart/related") || $0.matches("application/octet-stream") }) else {
            throw Self.notAcceptable("bulk data")
        }
        let found = try await instances(target, caller)
        defer { source.release(found) }
        let value: (bytes: [UInt8], transferSyntaxUID: String)
        do {
            value = try await Self.offPool { [reader] in try reader.bulkData(found[0], tag: tag) }
        } catch let error as WADOError {
            throw Self.httpError(error)
        }
        onRetrieve(caller, [found[0].studyUID], "WADO-RS bulk data \(target.description)")
        let multipart = MultipartRelated(type: "application/octet-stream")
        let part = MultipartPart(contentType: "application/octet-stream; transfer-syntax=\(value.transferSyntaxUID)",
                                 location: instanceURL(found[0]) + "/bulkdata/" + tagText.uppercased(), bytes: value.bytes)
        return Response(status: .ok, headers: [.contentType: multipart.contentType], body: multipart.body([part]))
    }

    /// `/rendered` and `/thumbnail` of an instance or one frame: a JPEG (`viewport=w,h` bounds its
    /// size, `quality` 1-100; thumbnails fit 128 pixels unless a viewport says otherwise).
    func rendered(_ request: Request, _ target: Target, frame: Int, thumbnail: Bool, _ caller: WADOCaller) async throws
        -> Response
    {
        guard WADONegotiation.acceptsJPEG(Self.accept(request)) else { throw Self.notAcceptable("rendered (image/jpeg only)") }
        let query = request.uri.queryParameters
        var maxSide = thumbnail ? 128 : 0
        if let viewport = query.get("viewport") {
            let sides = viewport.split(separator: ",").prefix(2).map { Int($0) }
            guard !sides.isEmpty, sides.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 8192 }) else {
                throw HTTPError(.badRequest, message: "viewport: width,height in pixels")
            }
            maxSide = sides.map { $0! }.max()!
        }
        var quality = 90
        if let text = query.get("quality") {
            guard let q = Int(text), (1...100).contains(q) else { throw HTTPError(.badRequest, message: "quality: 1 to 100") }
            quality = q
        }
        let found = try await instances(target, caller)
        defer { source.release(found) }
        let jpeg = try await renderJPEG(found[0], frame: frame, maxSide: maxSide, quality: quality)
        onRetrieve(caller, [found[0].studyUID], "WADO-RS rendered \(target.description)")
        return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: jpeg)))
    }

    func renderJPEG(_ instance: WADOInstance, frame: Int, maxSide: Int, quality: Int) async throws -> [UInt8] {
        do {
            return try await Self.offPool { [reader] in
                try reader.renderJPEG(instance, frame: frame, maxSide: maxSide, quality: quality)
            }
        } catch let error as WADOError {
            throw Self.httpError(error)
        }
    }
}
