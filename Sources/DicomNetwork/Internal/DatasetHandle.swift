import CDcmtk
import DicomCore

/// Owns a `cdcm_dataset`. Used by one thread at a time; freed on deinit.
final class DatasetHandle {
    let pointer: OpaquePointer
    private let owned: Bool

    init() throws(DicomNetworkError) {
        guard let p = cdcm_dataset_new() else {
            throw DicomNetworkError(code: .internalError, message: "cannot allocate a dataset")
        }
        pointer = p
        owned = true
    }

    /// Wraps a dataset owned by someone else (valid only during a callback).
    init(borrowing pointer: OpaquePointer) {
        self.pointer = pointer
        owned = false
    }

    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
        owned = true
    }

    deinit {
        if owned { cdcm_dataset_free(pointer) }
    }

    convenience init(_ attributes: DicomAttributes) throws(DicomNetworkError) {
        try self.init()
        for (tag, value) in attributes {
            var st = cdcm_status.empty()
            if cdcm_dataset_put_string(pointer, tag.rawValue, value, &st) != 0 {
                throw DicomNetworkError(code: .invalidArgument, message: "\(tag): \(st.textString)")
            }
        }
    }

    func string(_ tag: DicomTag) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var n = cdcm_dataset_get_string(pointer, tag.rawValue, &buffer, buffer.count)
        if n < 0 { return nil }
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: n + 1)
            n = cdcm_dataset_get_string(pointer, tag.rawValue, &buffer, buffer.count)
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Every top-level string-valued attribute (sequences and binary values are skipped).
    func attributes() -> DicomAttributes {
        var result = DicomAttributes()
        let count = cdcm_dataset_count(pointer)
        var buffer = [CChar](repeating: 0, count: 1024)
        var vr = [CChar](repeating: 0, count: 3)
        for index in 0..<count {
            var tag: UInt32 = 0
            var n = cdcm_dataset_element_at(pointer, index, &tag, &vr, &buffer, buffer.count)
            if n < 0 { continue }
            if n >= buffer.count {
                buffer = [CChar](repeating: 0, count: n + 1)
                n = cdcm_dataset_element_at(pointer, index, &tag, &vr, &buffer, buffer.count)
            }
            result[DicomTag(rawValue: tag)] = String(
                decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return result
    }

    /// The matching and return keys of a C-FIND/C-MOVE/C-GET identifier, every value whole; or why
    /// the identifier asks for matching the gateway does not do (sequence or binary matching),
    /// so that it is refused instead of silently matching everything.
    func queryKeys() -> Result<DicomAttributes, QueryKeyRefusal> {
        var result = DicomAttributes()
        let count = cdcm_dataset_count(pointer)
        var buffer = [CChar](repeating: 0, count: 1024)
        for index in 0..<count {
            var tag: UInt32 = 0
            var n = cdcm_dataset_query_key_at(pointer, index, &tag, &buffer, buffer.count)
            let key = DicomTag(rawValue: tag)
            switch n {
            case -4: return .failure(QueryKeyRefusal(tag: key, reason: "sequence matching on \(key) is not supported"))
            case -5: return .failure(QueryKeyRefusal(tag: key, reason: "binary value matching on \(key) is not supported"))
            case ..<0: continue
            default: break
            }
            if n >= buffer.count {
                buffer = [CChar](repeating: 0, count: n + 1)
                n = cdcm_dataset_query_key_at(pointer, index, &tag, &buffer, buffer.count)
            }
            result[key] = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return .success(result)
    }

    /// The `keys` of each item of the top-level sequence `sequence` (absent keys are left out).
    func items(of sequence: DicomTag, keys: [DicomTag]) -> [DicomAttributes] {
        (0..<cdcm_dataset_item_count(pointer, sequence.rawValue)).map { item in
            var result = DicomAttributes()
            for key in keys {
                var buffer = [CChar](repeating: 0, count: 256)
                var n = cdcm_dataset_item_get_string(pointer, sequence.rawValue, item, key.rawValue, &buffer, buffer.count)
                if n < 0 { continue }
                if n >= buffer.count {
                    buffer = [CChar](repeating: 0, count: n + 1)
                    n = cdcm_dataset_item_get_string(pointer, sequence.rawValue, item, key.rawValue, &buffer, buffer.count)
                }
                result[key] = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            return result
        }
    }
}

/// Why a query identifier is refused before it reaches the provider.
struct QueryKeyRefusal: Error {
    let tag: DicomTag
    let reason: String
}
