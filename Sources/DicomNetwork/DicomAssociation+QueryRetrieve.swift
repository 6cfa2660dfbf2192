import CDcmtk
import DicomCore

/// The outcome of a C-MOVE or C-GET: the final status, as the peer sent it, and the counts.
public struct RetrieveOutcome: Sendable, Equatable {
    public let status: DIMSEStatus
    public let counts: SubOperationCounts
    public let errorComment: String
    /// Success only when the final status is success and nothing failed.
    public var isCompleteSuccess: Bool { status.isSuccess && counts.failed <= 0 }
}

/// Callback box: lets a C callback reach a Swift closure during one synchronous call.
private final class CallbackBox {
    var onMatch: ((DicomAttributes) -> Bool)?
    var onProgress: ((SubOperationCounts) -> Void)?
    var onInstance: ((String, String) -> DIMSEStatus)?
}

extension SubOperationCounts {
    init(_ c: cdcm_subop_counts) {
        self.init(remaining: Int(c.remaining), completed: Int(c.completed), failed: Int(c.failed), warning: Int(c.warning))
    }
}

extension DicomAssociation {
    /// C-FIND. `keys` must hold QueryRetrieveLevel and the matching/return keys. `onMatch` is
    /// called for each match; return false to send C-CANCEL. Returns the final status.
    public func find(
        model: QueryModel, keys: DicomAttributes, priority: DIMSEPriority = .medium,
        onMatch: @escaping (DicomAttributes) -> Bool
    ) throws(DicomNetworkError) -> DIMSEResult {
        let identifier = try DatasetHandle(keys)
        let box = CallbackBox()
        box.onMatch = onMatch
        var st = cdcm_status.empty()
        let rc = withExtendedLifetime(box) {
            cdcm_assoc_find(try? live(), model.findSOPClass, priority.code, identifier.pointer, { ctx, ds in
                guard let ctx, let ds else { return 0 }
                let box = Unmanaged<CallbackBox>.fromOpaque(ctx).takeUnretainedValue()
                let attributes = DatasetHandle(borrowing: ds).attributes()
                return (box.onMatch?(attributes) ?? true) ? 0 : 1
            }, Unmanaged.passUnretained(box).toOpaque(), &st)
        }
        guard rc == 0 else { throw DicomNetworkError(status: st) }
        return DIMSEResult(status: DIMSEStatus(st.dimse_status), errorComment: st.errorCommentString)
    }

    /// C-MOVE to `destination`. The final status is returned as sent: 0xA801, 0xA7xx, 0xB000
    /// are not turned into success.
    public func move(
        model: QueryModel, keys: DicomAttributes, destination: AETitle, priority: DIMSEPriority = .medium,
        onProgress: @escaping (SubOperationCounts) -> Void = { _ in }
    ) throws(DicomNetworkError) -> RetrieveOutcome {
        let identifier = try DatasetHandle(keys)
        let box = CallbackBox()
        box.onProgress = onProgress
        var st = cdcm_status.empty()
        var counts = cdcm_subop_counts()
        let rc = withExtendedLifetime(box) {
            cdcm_assoc_move(try? live(), model.moveSOPClass, priority.code, destination.value, identifier.pointer, { ctx, c in
                guard let ctx, let c else { return }
                Unmanaged<CallbackBox>.fromOpaque(ctx).takeUnretainedValue().onProgress?(SubOperationCounts(c.pointee))
            }, Unmanaged.passUnretained(box).toOpaque(), &counts, &st)
        }
        guard rc == 0 else { throw DicomNetworkError(status: st) }
        return RetrieveOutcome(status: DIMSEStatus(st.dimse_status), counts: SubOperationCounts(counts), errorComment: st.errorCommentString)
    }

    /// C-GET: instances arrive on this association into `directory`; `onInstance(path, sopInstanceUID)`
    /// may move the file and returns the sub-operation status.
    public func get(
        model: QueryModel, keys: DicomAttributes, into directory: String, priority: DIMSEPriority = .medium,
        onProgress: @escaping (SubOperationCounts) -> Void = { _ in },
        onInstance: @escaping (String, String) -> DIMSEStatus = { _, _ in .success }
    ) throws(DicomNetworkError) -> RetrieveOutcome {
        let identifier = try DatasetHandle(keys)
        let box = CallbackBox()
        box.onProgress = onProgress
        box.onInstance = onInstance
        var st = cdcm_status.empty()
        var counts = cdcm_subop_counts()
        let rc = withExtendedLifetime(box) {
            cdcm_assoc_get(try? live(), model.getSOPClass, priority.code, identifier.pointer, directory, { ctx, c in
                guard let ctx, let c else { return }
                Unmanaged<CallbackBox>.fromOpaque(ctx).takeUnretainedValue().onProgress?(SubOperationCounts(c.pointee))
            }, { ctx, path, uid in
                guard let ctx, let path, let uid else { return DIMSEStatus.unableToProcess.code }
                let box = Unmanaged<CallbackBox>.fromOpaque(ctx).takeUnretainedValue()
                return (box.onInstance?(String(cString: path), String(cString: uid)) ?? .success).code
            }, Unmanaged.passUnretained(box).toOpaque(), &counts, &st)
        }
        guard rc == 0 else { throw DicomNetworkError(status: st) }
        return RetrieveOutcome(status: DIMSEStatus(st.dimse_status), counts: SubOperationCounts(counts), errorComment: st.errorCommentString)
    }
}
