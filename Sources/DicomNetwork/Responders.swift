import CDcmtk
import DicomCore

/// What the requester wants after a response was sent.
public enum ResponderState: Sendable, Equatable {
    case proceed      // keep going
    case cancelled    // the requester sent C-CANCEL: stop and return
    case broken       // the association is gone
}

private func state(_ rc: Int32) -> ResponderState {
    rc == 0 ? .proceed : (rc == 1 ? .cancelled : .broken)
}

/// Sends C-FIND pending responses. Valid only during the `find` call it was given to.
public final class FindResponder {
    private let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    /// Sends one match (status pending 0xFF00) and reports whether to go on.
    public func send(_ match: DicomAttributes) -> ResponderState {
        guard let handle = try? DatasetHandle(match) else { return .proceed }
        return state(cdcm_responder_find_match(pointer, handle.pointer))
    }
}

/// Sends C-MOVE/C-GET pending responses and, for C-GET, the C-STORE sub-operations on the
/// requester's association. Valid only during the `move`/`get` call it was given to.
public final class RetrieveResponder {
    private let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    public func pending(_ counts: SubOperationCounts) -> ResponderState {
        var c = cdcm_subop_counts(
            remaining: Int32(counts.remaining), completed: Int32(counts.completed), failed: Int32(counts.failed),
            warning: Int32(counts.warning))
        return state(cdcm_responder_pending(pointer, &c))
    }

    /// C-GET only: sends one file as a C-STORE sub-operation and returns its status.
    public func store(file path: String) throws(DicomNetworkError) -> DIMSEStatus {
        var status: UInt16 = 0
        var st = cdcm_status.empty()
        guard cdcm_responder_get_store(pointer, path, &status, &st) == 0 else { throw DicomNetworkError(status: st) }
        return DIMSEStatus(status)
    }
}
