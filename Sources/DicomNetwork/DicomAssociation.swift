import CDcmtk
import DicomCore

/// An outgoing association (SCU). Every call blocks: use it from a thread of your own (the C-MOVE
/// handler's association thread, or through `DicomClient`, which does that for you).
///
/// ```swift
/// let a = try DicomAssociation.open(to: pacs, callingAE: "NETGW", contexts: [.init(SOPClass.verification)])
/// defer { a.release() }
/// try a.echo()
/// ```
public final class DicomAssociation: @unchecked Sendable {
    // Safe: the handle is used by one thread at a time, its owner's, for every call including
    // release/abort (never close it from another thread while a call runs); `lock` only makes a
    // second release/abort a no-op.
    private var handle: OpaquePointer?
    private let lock = NSLockShim()
    public let peer: DicomNode
    /// Over DICOM TLS: the peer's certificate (verified against the trusted CA); nil over plain TCP.
    public let peerCertificate: CertificateIdentity?

    private init(handle: OpaquePointer, peer: DicomNode, peerCertificate: CertificateIdentity?) {
        self.handle = handle
        self.peer = peer
        self.peerCertificate = peerCertificate
    }

    deinit { abort() }

    /// Requests an association. Throws `DicomNetworkError` with `.associationRejected` and the
    /// reason when the peer says no, `.network` when it cannot be reached. A node with `tls` is
    /// called over DICOM TLS with `tls` (default: `TLSContext.client`), and its certificate must
    /// chain to the trusted CA and meet the node's pins (`.tls` otherwise).
    public static func open(
        to node: DicomNode, callingAE: AETitle, contexts: [PresentationContextProposal],
        timeouts: DicomTimeouts = .default, maxPDU: UInt32 = 131_072, tls: TLSContext? = nil
    ) throws(DicomNetworkError) -> DicomAssociation {
        guard !contexts.isEmpty, contexts.count <= PresentationContextProposal.maximumPerAssociation else {
            throw DicomNetworkError(code: .invalidArgument, message: "an association needs 1-128 presentation contexts, not \(contexts.count)")
        }
        var context: TLSContext? = nil
        if node.tls != nil || tls != nil {
            guard let chosen = tls ?? TLSContext.client else {
                throw DicomNetworkError(code: .tls, message: "\(node) is called over DICOM TLS, but no TLS is configured (gateway.tls)")
            }
            context = chosen
        }
        let abstract = CStringArray(contexts.map(\.abstractSyntax))
        let transferLists = contexts.map { CStringArray($0.transferSyntaxes) }
        let calling = CStringArray([callingAE.value, node.aeTitle.value, node.host])
        var st = cdcm_status.empty()
        let pointer: OpaquePointer? = transferLists.withPointerLists { lists in
            var proposals = contexts.indices.map { i in
                cdcm_pc_proposal(
                    abstract_syntax: abstract.pointers[i],
                    transfer_syntaxes: lists[i],
                    transfer_syntax_count: Int32(contexts[i].transferSyntaxes.count),
                    role: contexts[i].role.rawValue)
            }
            var params = cdcm_assoc_params(
                calling_ae: calling.pointers[0], called_ae: calling.pointers[1], host: calling.pointers[2],
                port: Int32(node.port), connect_timeout: Int32(timeouts.connect), acse_timeout: Int32(timeouts.acse),
                dimse_timeout: Int32(timeouts.dimse), max_pdu: maxPDU, tls: context?.pointer)
            return withExtendedLifetime(context) { cdcm_assoc_open(&params, &proposals, Int32(proposals.count), &st) }
        }
        guard let pointer else {
            var error = DicomNetworkError(status: st)
            if error.code == .network {
                error = DicomNetworkError(code: .network, message: "cannot reach \(node): \(st.textString)")
            }
            throw error
        }
        var certificate: CertificateIdentity? = nil
        var sha = [CChar](repeating: 0, count: 65), subject = [CChar](repeating: 0, count: 512)
        if cdcm_assoc_peer_certificate(pointer, &sha, &subject, subject.count) != 0 {
            certificate = CertificateIdentity(sha256: String(cString: sha), subject: String(cString: subject))
        }
        if let requirement = node.tls, let certificate, !requirement.accepts(sha256: certificate.sha256, subject: certificate.subject) {
            cdcm_assoc_abort(pointer)
            throw DicomNetworkError(code: .tls, message: "\(node) presented the certificate \(certificate), which is not the one "
                + "its node pins (certificate_sha256 / certificate_subject): association aborted")
        }
        return DicomAssociation(handle: pointer, peer: node, peerCertificate: certificate)
    }

    /// Releases the association gracefully. Idempotent.
    public func release() {
        if let h = take() { cdcm_assoc_release(h) }
    }

    /// Aborts the association. Idempotent.
    public func abort() {
        if let h = take() { cdcm_assoc_abort(h) }
    }

    private func take() -> OpaquePointer? {
        lock.withLock {
            let h = handle
            handle = nil
            return h
        }
    }

    func live() throws(DicomNetworkError) -> OpaquePointer {
        guard let h = lock.withLock({ handle }) else {
            throw DicomNetworkError(code: .invalidArgument, message: "the association with \(peer) is closed")
        }
        return h
    }

    public func accepted(_ abstractSyntax: String) -> Bool {
        guard let h = try? live() else { return false }
        return cdcm_assoc_has_context(h, abstractSyntax) != 0
    }

    /// C-ECHO. Throws if no response or a non-success status arrives.
    public func echo() throws(DicomNetworkError) {
        var st = cdcm_status.empty()
        guard cdcm_assoc_echo(try live(), &st) == 0 else { throw DicomNetworkError(status: st) }
        guard st.dimse_status == 0 else {
            throw DicomNetworkError(code: .protocolError, message: "\(peer) answered C-ECHO with \(DIMSEStatus(st.dimse_status))")
        }
    }

    /// C-STORE one file. Returns the peer's status (a failure status is returned, not thrown).
    public func store(
        file path: String, priority: DIMSEPriority = .medium, moveOriginator: (ae: AETitle, messageID: UInt16)? = nil
    ) throws(DicomNetworkError) -> DIMSEResult {
        var st = cdcm_status.empty()
        let rc = cdcm_assoc_store_file(try live(), path, priority.code, moveOriginator?.ae.value, moveOriginator?.messageID ?? 0, &st)
        guard rc == 0 else { throw DicomNetworkError(status: st) }
        return DIMSEResult(status: DIMSEStatus(st.dimse_status), errorComment: st.errorCommentString)
    }
}

/// A DIMSE response status with its optional Error Comment (0000,0902).
public struct DIMSEResult: Sendable, Equatable {
    public let status: DIMSEStatus
    public let errorComment: String
    public init(status: DIMSEStatus, errorComment: String = "") {
        self.status = status
        self.errorComment = errorComment
    }
}

extension Array where Element == CStringArray {
    /// Calls `body` with stable `const char *const *` pointers for each array.
    func withPointerLists<R>(_ body: ([UnsafePointer<UnsafePointer<CChar>?>?]) -> R) -> R {
        var buffers: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []
        defer { buffers.forEach { $0.deallocate() } }
        for list in self {
            let buffer = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: Swift.max(1, list.pointers.count))
            for (i, p) in list.pointers.enumerated() { buffer[i] = p }
            buffers.append(buffer)
        }
        return body(buffers.map { UnsafePointer($0) })
    }
}
