import CDcmtk
import DicomCore

/// The C callbacks of the SCP: each turns C structs into Swift values and calls the provider.
/// Retained by `DicomServer` until the acceptor and all association threads are gone.
final class ProviderBox {
    let provider: any DicomServiceProvider
    init(_ provider: any DicomServiceProvider) { self.provider = provider }

    static func from(_ ctx: UnsafeMutableRawPointer?) -> ProviderBox {
        Unmanaged<ProviderBox>.fromOpaque(ctx!).takeUnretainedValue()
    }

    static func handlers(context: UnsafeMutableRawPointer) -> cdcm_scp_handlers {
        var h = cdcm_scp_handlers()
        h.ctx = context
        h.on_associate = { ctx, info in
            let decision = ProviderBox.from(ctx).provider.associationRequested(AssociationInfo(info!.pointee))
            switch decision {
            case .accept: return Int32(CDCM_REJECT_NONE.rawValue)
            case .rejectCallingAETitle: return Int32(CDCM_REJECT_CALLING_AE.rawValue)
            case .rejectCalledAETitle: return Int32(CDCM_REJECT_CALLED_AE.rawValue)
            case .rejectNoReason: return Int32(CDCM_REJECT_NO_REASON.rawValue)
            case .rejectBusy: return Int32(CDCM_REJECT_BUSY.rawValue)
            }
        }
        h.on_tls_failure = { ctx, host, reason, subject, bad in
            ProviderBox.from(ctx).provider.tlsHandshakeFailed(
                TLSHandshakeFailure(peerHost: string(host), reason: string(reason), certificateSubject: string(subject), badCertificate: bad != 0))
        }
        h.on_association_end = { ctx, info, how, detail in
            ProviderBox.from(ctx).provider.associationEnded(
                AssociationInfo(info!.pointee), how: AssociationEnd(rawValue: how) ?? .error,
                detail: detail.map { String(cString: $0) } ?? "")
        }
        h.on_echo = { ctx, info in
            ProviderBox.from(ctx).provider.echo(association: AssociationInfo(info!.pointee)).code
        }
        h.on_store_begin = { ctx, info, req in
            ProviderBox.from(ctx).provider.admitStore(StoreRequest(req!.pointee), association: AssociationInfo(info!.pointee)).code
        }
        h.on_store_file = { ctx, buffer, capacity in
            guard let buffer, let path = ProviderBox.from(ctx).provider.preparedStoreFile() else { return 0 }
            let bytes = Array(path.utf8)
            guard bytes.count < capacity else { return 0 }
            bytes.withUnsafeBufferPointer { source in
                buffer.withMemoryRebound(to: UInt8.self, capacity: capacity) { target in
                    target.update(from: source.baseAddress!, count: bytes.count)
                    target[bytes.count] = 0
                }
            }
            return 1
        }
        h.on_store_refused = { ctx, info, req, status, reason in
            ProviderBox.from(ctx).provider.storeRefused(StoreRequest(req!.pointee), association: AssociationInfo(info!.pointee),
                                                        status: DIMSEStatus(status), reason: reason.map { String(cString: $0) } ?? "")
        }
        h.on_store = { ctx, info, req, reply in
            let result = ProviderBox.from(ctx).provider.store(StoreRequest(req!.pointee), association: AssociationInfo(info!.pointee))
            reply!.pointee.status = result.status.code
            setFixedCString(&reply!.pointee.error_comment, result.errorComment)
        }
        h.on_find = { ctx, info, req, ids, responder, reply in
            let identifier: DicomAttributes
            switch DatasetHandle(borrowing: ids!).queryKeys() {
            case let .success(keys): identifier = keys
            case let .failure(refusal):
                ProviderBox.from(ctx).provider.queryRefused(QueryRequest(req!.pointee), association: AssociationInfo(info!.pointee),
                                                            status: .unableToProcess, reason: refusal.reason)
                reply!.pointee.status = DIMSEStatus.unableToProcess.code
                setFixedCString(&reply!.pointee.error_comment, refusal.reason)
                return
            }
            let result = ProviderBox.from(ctx).provider.find(
                QueryRequest(req!.pointee), identifier: identifier,
                association: AssociationInfo(info!.pointee), responder: FindResponder(responder!))
            reply!.pointee.status = result.status.code
            setFixedCString(&reply!.pointee.error_comment, result.errorComment)
        }
        h.on_move = { ctx, info, req, ids, responder, reply in
            ProviderBox.from(ctx).retrieve(info!, req!, ids!, responder!, reply!) { provider, request, identifier, association, responder in
                provider.move(request, identifier: identifier, association: association, responder: responder)
            }
        }
        h.on_get = { ctx, info, req, ids, responder, reply in
            ProviderBox.from(ctx).retrieve(info!, req!, ids!, responder!, reply!) { provider, request, identifier, association, responder in
                provider.get(request, identifier: identifier, association: association, responder: responder)
            }
        }
        return h
    }
}

private func string(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

extension AssociationInfo {
    init(_ c: cdcm_assoc_info) {
        self.init(id: c.association_id, callingAE: string(c.calling_ae), calledAE: string(c.called_ae), peerHost: string(c.peer_host))
        overTLS = c.tls != 0
        let sha = string(c.peer_certificate_sha256)
        if overTLS, !sha.isEmpty { peerCertificate = CertificateIdentity(sha256: sha, subject: string(c.peer_certificate_subject)) }
    }
}

extension StoreRequest {
    init(_ c: cdcm_store_request) {
        let originator = string(c.move_originator_ae)
        self.init(
            sopClassUID: string(c.sop_class_uid), sopInstanceUID: string(c.sop_instance_uid),
            transferSyntaxUID: string(c.transfer_syntax_uid), priority: DIMSEPriority(code: c.priority), messageID: c.message_id,
            moveOriginatorAE: originator.isEmpty ? nil : originator, moveOriginatorMessageID: c.move_originator_msg_id,
            filePath: string(c.file_path),
            datasetSHA256: c.dataset_sha256.map { String(cString: $0) }, fileSize: Int64(c.file_size))
    }
}

extension QueryRequest {
    init(_ c: cdcm_query_request) {
        let destination = string(c.move_destination)
        let sopClass = string(c.sop_class_uid)
        self.init(
            sopClassUID: sopClass, model: QueryModel(sopClass: sopClass), priority: DIMSEPriority(code: c.priority),
            messageID: c.message_id, moveDestination: destination.isEmpty ? nil : destination)
    }
}

extension cdcm_reply {
    mutating func set(_ result: RetrieveReply) {
        status = result.status.code
        setFixedCString(&error_comment, result.errorComment)
        counts = cdcm_subop_counts(
            remaining: Int32(result.counts.remaining), completed: Int32(result.counts.completed),
            failed: Int32(result.counts.failed), warning: Int32(result.counts.warning))
    }
}

extension ProviderBox {
    /// A C-MOVE or C-GET: its keys read (or refused, audited through the provider), the provider's
    /// answer set as the final response with its failed instances.
    private func retrieve(
        _ info: UnsafePointer<cdcm_assoc_info>, _ req: UnsafePointer<cdcm_query_request>, _ ids: OpaquePointer,
        _ responder: OpaquePointer, _ reply: UnsafeMutablePointer<cdcm_reply>,
        _ handle: (any DicomServiceProvider, QueryRequest, DicomAttributes, AssociationInfo, RetrieveResponder) -> RetrieveReply
    ) {
        let request = QueryRequest(req.pointee), association = AssociationInfo(info.pointee)
        switch DatasetHandle(borrowing: ids).queryKeys() {
        case let .failure(refusal):
            provider.queryRefused(request, association: association, status: .unableToProcess, reason: refusal.reason)
            reply.pointee.set(RetrieveReply(status: .unableToProcess, errorComment: refusal.reason))
        case let .success(identifier):
            let result = handle(provider, request, identifier, association, RetrieveResponder(responder))
            reply.pointee.set(result)
            if !result.failedSOPInstanceUIDs.isEmpty {
                cdcm_responder_set_failed(responder, result.failedSOPInstanceUIDs.joined(separator: "\\"))
            }
        }
    }
}
