/* SCP services: C-STORE into a temporary file (see cdcm_store_receive.cpp), C-FIND/C-MOVE/C-GET through the Swift handlers and the responder. */
#include "cdcm_scp_negotiate.h"
#include "cdcm_store_receive.h"
#include "cdcm_store_send.h"
#include "dcmtk/dcmnet/diutil.h"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using cdcm::copy_string;

struct cdcm_responder {
    cdcm::ScpWorker *w = nullptr;
    T_ASC_PresentationContextID pcid = 0;
    DIC_US message_id = 0;
    const char *sop_class = "";
    T_DIMSE_Priority priority = DIMSE_PRIORITY_MEDIUM;
    int kind = 0;  // 0 find, 1 move, 2 get
    bool cancelled = false;
    bool broken = false;
    std::string failed_uids;  /* backslash-separated, for the final C-MOVE/C-GET response */
};

namespace {

/* The final C-MOVE/C-GET response's identifier: the Failed SOP Instance UID List, when any failed. */
DcmDataset *failed_identifier(const cdcm_responder &r) {
    if (r.failed_uids.empty()) return nullptr;
    DcmDataset *ids = new DcmDataset();
    ids->putAndInsertString(DCM_FailedSOPInstanceUIDList, r.failed_uids.c_str());
    return ids;
}

DcmDataset *comment_detail(const cdcm_reply &reply) {
    if (reply.error_comment[0] == '\0') return nullptr;
    DcmDataset *detail = new DcmDataset();
    detail->putAndInsertString(DCM_ErrorComment, reply.error_comment);
    return detail;
}

OFCondition send_store_response(cdcm::ScpWorker *w, const T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pcid,
                                uint16_t status, DcmDataset *detail) {
    T_DIMSE_C_StoreRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.DimseStatus = status;
    rsp.MessageIDBeingRespondedTo = req.MessageID;
    rsp.DataSetType = DIMSE_DATASET_NULL;
    copy_string(rsp.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID), req.AffectedSOPClassUID);
    copy_string(rsp.AffectedSOPInstanceUID, sizeof(rsp.AffectedSOPInstanceUID), req.AffectedSOPInstanceUID);
    rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID |
               (req.opts & (O_STORE_RSP_BLANK_PADDING | O_STORE_PEER_REQUIRES_EXACT_UID_COPY));
    T_DIMSE_C_StoreRQ request = req;
    return DIMSE_sendStoreResponse(w->assoc, pcid, &request, &rsp, detail);
}

/* The identifier through the input limits. Refused (*ids NULL): *refusal holds the final answer
 * (0xA900 with an Error Comment naming the limit), and the refusal is logged. */
OFCondition receive_identifier(cdcm::ScpWorker *w, T_ASC_PresentationContextID pcid, DcmDataset **ids, cdcm_reply *refusal) {
    cdcm_limit_verdict verdict;
    // An identifier is held in memory: at most 16 MiB, whatever a C-STORE may be.
    cdcm_limits limits = w->scp->limits;
    const long long cap = 16LL << 20;
    if (limits.max_total_bytes <= 0 || limits.max_total_bytes > cap) limits.max_total_bytes = cap;
    OFCondition cond = cdcm::receive_identifier_bounded(w->assoc, pcid, w->scp->dimse_timeout, limits, ids, verdict);
    if (cond.good() && *ids == nullptr) {
        memset(refusal, 0, sizeof(*refusal));
        refusal->status = 0xA900;
        copy_string(refusal->error_comment, sizeof(refusal->error_comment), cdcm::limit_comment(verdict).c_str());
        DCMNET_WARN("query identifier from " << w->calling_ae.c_str() << " refused: " << verdict.text);
    }
    return cond;
}

void check_cancel(cdcm_responder *r) {
    // Past the shutdown grace period a long C-FIND/C-MOVE/C-GET ends as if cancelled.
    if (cdcm::scp_grace_expired(r->w->scp)) {
        r->cancelled = true;
        return;
    }
    OFCondition cond = DIMSE_checkForCancelRQ(r->w->assoc, r->pcid, r->message_id);
    if (cond.good()) r->cancelled = true;
    else if (cond == DUL_PEERABORTEDASSOCIATION || cond == DUL_NETWORKCLOSED) r->broken = true;
}

/* Counts are US (16 bits) on the wire: clamp rather than wrap. */
DIC_US us(int n) { return static_cast<DIC_US>(n < 0 ? 0 : (n > 0xFFFF ? 0xFFFF : n)); }

void counts_to_move(T_DIMSE_C_MoveRSP &rsp, const cdcm_subop_counts &c, bool with_remaining) {
    rsp.NumberOfRemainingSubOperations = us(c.remaining);
    rsp.NumberOfCompletedSubOperations = us(c.completed);
    rsp.NumberOfFailedSubOperations = us(c.failed);
    rsp.NumberOfWarningSubOperations = us(c.warning);
    rsp.opts = O_MOVE_AFFECTEDSOPCLASSUID | O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS |
               O_MOVE_NUMBEROFFAILEDSUBOPERATIONS | O_MOVE_NUMBEROFWARNINGSUBOPERATIONS;
    if (with_remaining) rsp.opts |= O_MOVE_NUMBEROFREMAININGSUBOPERATIONS;
}

void counts_to_get(T_DIMSE_C_GetRSP &rsp, const cdcm_subop_counts &c, bool with_remaining) {
    rsp.NumberOfRemainingSubOperations = us(c.remaining);
    rsp.NumberOfCompletedSubOperations = us(c.completed);
    rsp.NumberOfFailedSubOperations = us(c.failed);
    rsp.NumberOfWarningSubOperations = us(c.warning);
    rsp.opts = O_GET_AFFECTEDSOPCLASSUID | O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS | O_GET_NUMBEROFFAILEDSUBOPERATIONS |
               O_GET_NUMBEROFWARNINGSUBOPERATIONS;
    if (with_remaining) rsp.opts |= O_GET_NUMBEROFREMAININGSUBOPERATIONS;
}

cdcm_query_request query_request(const char *sop_class, T_DIMSE_Priority priority, DIC_US message_id,
                                 const char *move_destination) {
    return cdcm_query_request{sop_class, static_cast<uint16_t>(priority), message_id, move_destination};
}

}  // namespace

namespace cdcm {

OFCondition serve_store(ScpWorker *w, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pcid) {
    const cdcm_scp_handlers &h = w->scp->handlers;
    T_ASC_PresentationContext pc;
    ASC_findAcceptedPresentationContext(w->assoc->params, pcid, &pc);
    // The temporary name comes from the association id and a counter, never from the wire.
    char path[4096];
    snprintf(path, sizeof(path), "%s/incoming-%d-%llu-%lu.part", w->scp->temp_dir.c_str(), static_cast<int>(getpid()),
             static_cast<unsigned long long>(w->id), ++w->store_sequence);
    cdcm_store_request sreq{req.AffectedSOPClassUID, req.AffectedSOPInstanceUID, pc.acceptedTransferSyntax,
                            static_cast<uint16_t>(req.Priority), req.MessageID,
                            (req.opts & O_STORE_MOVEORIGINATORAETITLE) ? req.MoveOriginatorApplicationEntityTitle : "",
                            (req.opts & O_STORE_MOVEORIGINATORID) ? req.MoveOriginatorID : static_cast<DIC_US>(0),
                            path};
    cdcm_assoc_info info = w->info();
    uint16_t admission = h.on_store_begin ? h.on_store_begin(h.ctx, &info, &sreq) : 0;
    if (admission != 0) {
        DIC_UL bytes = 0, pdvs = 0;
        OFCondition cond = DIMSE_ignoreDataSet(w->assoc, DIMSE_NONBLOCKING, w->scp->dimse_timeout, &bytes, &pdvs);
        if (cond.bad()) return cond;
        return send_store_response(w, req, pcid, admission, nullptr);
    }
    // A prepared file if the application has one (it overwrites `path`, which sreq points at).
    if (h.on_store_file != nullptr && h.on_store_file(h.ctx, path, sizeof(path)) != 1) {
        snprintf(path, sizeof(path), "%s/incoming-%d-%llu-%lu.part", w->scp->temp_dir.c_str(), static_cast<int>(getpid()),
                 static_cast<unsigned long long>(w->id), w->store_sequence);
    }
    cdcm::ReceivedDataset received;
    OFCondition cond = cdcm::receive_store_dataset(w->assoc, req, pcid, w->scp->dimse_timeout, w->scp->limits, path, received);
    if (cond.good() && received.limits.kind != CDCM_LIMIT_OK) {
        // Over the input limits (or not walkable): refused before anything parses it.
        unlink(path);
        if (h.on_store_refused) h.on_store_refused(h.ctx, &info, &sreq, 0xC000, received.limits.text);
        cdcm_reply refusal;
        memset(&refusal, 0, sizeof(refusal));
        copy_string(refusal.error_comment, sizeof(refusal.error_comment), cdcm::limit_comment(received.limits).c_str());
        DcmDataset *detail = comment_detail(refusal);
        cond = send_store_response(w, req, pcid, 0xC000, detail);
        delete detail;
        return cond;
    }
    if (cond.bad()) {
        unlink(path);
        // The data set was read off the association but could not be written (e.g. the disk
        // filled): refuse this instance, keep the association.
        if (cond == DIMSE_OUTOFRESOURCES) return send_store_response(w, req, pcid, STATUS_STORE_Refused_OutOfResources, nullptr);
        return cond;
    }
    sreq.dataset_sha256 = received.sha256.empty() ? nullptr : received.sha256.c_str();
    sreq.file_size = received.file_size;
    cdcm_reply reply;
    memset(&reply, 0, sizeof(reply));
    reply.status = STATUS_STORE_Error_CannotUnderstand;
    if (h.on_store != nullptr) {
        h.on_store(h.ctx, &info, &sreq, &reply);  // the handler owns the file from here
    } else {
        unlink(path);
    }
    DcmDataset *detail = comment_detail(reply);
    cond = send_store_response(w, req, pcid, reply.status, detail);
    delete detail;
    return cond;
}

OFCondition serve_find(ScpWorker *w, T_DIMSE_C_FindRQ &req, T_ASC_PresentationContextID pcid) {
    const cdcm_scp_handlers &h = w->scp->handlers;
    DcmDataset *ids = nullptr;
    cdcm_reply refusal{};
    OFCondition cond = receive_identifier(w, pcid, &ids, &refusal);
    if (cond.bad()) return cond;
    cdcm_dataset identifier;
    if (ids != nullptr) identifier.dataset()->copyFrom(*ids);
    delete ids;
    cdcm_responder r;
    r.w = w; r.pcid = pcid; r.message_id = req.MessageID; r.sop_class = req.AffectedSOPClassUID;
    r.priority = req.Priority; r.kind = 0;
    cdcm_reply reply;
    memset(&reply, 0, sizeof(reply));
    reply.status = STATUS_FIND_Refused_SOPClassNotSupported;
    if (refusal.status != 0) {
        reply = refusal;
    } else if (h.on_find) {
        cdcm_assoc_info info = w->info();
        cdcm_query_request q = query_request(req.AffectedSOPClassUID, req.Priority, req.MessageID, "");
        h.on_find(h.ctx, &info, &q, &identifier, &r, &reply);
    }
    if (r.broken) return DUL_PEERABORTEDASSOCIATION;
    T_DIMSE_C_FindRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.DimseStatus = r.cancelled ? STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest : reply.status;
    DcmDataset *detail = comment_detail(reply);
    cond = DIMSE_sendFindResponse(w->assoc, pcid, &req, &rsp, nullptr, detail);
    delete detail;
    return cond;
}

OFCondition serve_move(ScpWorker *w, T_DIMSE_C_MoveRQ &req, T_ASC_PresentationContextID pcid) {
    const cdcm_scp_handlers &h = w->scp->handlers;
    DcmDataset *ids = nullptr;
    cdcm_reply refusal{};
    OFCondition cond = receive_identifier(w, pcid, &ids, &refusal);
    if (cond.bad()) return cond;
    cdcm_dataset identifier;
    if (ids != nullptr) identifier.dataset()->copyFrom(*ids);
    delete ids;
    cdcm_responder r;
    r.w = w; r.pcid = pcid; r.message_id = req.MessageID; r.sop_class = req.AffectedSOPClassUID;
    r.priority = req.Priority; r.kind = 1;
    cdcm_reply reply;
    memset(&reply, 0, sizeof(reply));
    reply.status = STATUS_MOVE_Refused_SOPClassNotSupported;
    if (refusal.status != 0) {
        reply = refusal;
    } else if (h.on_move) {
        cdcm_assoc_info info = w->info();
        cdcm_query_request q = query_request(req.AffectedSOPClassUID, req.Priority, req.MessageID, req.MoveDestination);
        h.on_move(h.ctx, &info, &q, &identifier, &r, &reply);
    }
    if (r.broken) return DUL_PEERABORTEDASSOCIATION;
    T_DIMSE_C_MoveRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.MessageIDBeingRespondedTo = req.MessageID;
    copy_string(rsp.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID), req.AffectedSOPClassUID);
    rsp.DimseStatus = r.cancelled ? STATUS_MOVE_Cancel_SubOperationsTerminatedDueToCancelIndication : reply.status;
    counts_to_move(rsp, reply.counts, r.cancelled);
    DcmDataset *failed = failed_identifier(r);
    rsp.DataSetType = failed ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
    DcmDataset *detail = comment_detail(reply);
    cond = DIMSE_sendMoveResponse(w->assoc, pcid, &req, &rsp, failed, detail);
    delete detail;
    delete failed;
    return cond;
}

OFCondition serve_get(ScpWorker *w, T_DIMSE_C_GetRQ &req, T_ASC_PresentationContextID pcid) {
    const cdcm_scp_handlers &h = w->scp->handlers;
    DcmDataset *ids = nullptr;
    cdcm_reply refusal{};
    OFCondition cond = receive_identifier(w, pcid, &ids, &refusal);
    if (cond.bad()) return cond;
    cdcm_dataset identifier;
    if (ids != nullptr) identifier.dataset()->copyFrom(*ids);
    delete ids;
    cdcm_responder r;
    r.w = w; r.pcid = pcid; r.message_id = req.MessageID; r.sop_class = req.AffectedSOPClassUID;
    r.priority = req.Priority; r.kind = 2;
    cdcm_reply reply;
    memset(&reply, 0, sizeof(reply));
    reply.status = STATUS_GET_Refused_SOPClassNotSupported;
    if (refusal.status != 0) {
        reply = refusal;
    } else if (h.on_get) {
        cdcm_assoc_info info = w->info();
        cdcm_query_request q = query_request(req.AffectedSOPClassUID, req.Priority, req.MessageID, "");
        h.on_get(h.ctx, &info, &q, &identifier, &r, &reply);
    }
    if (r.broken) return DUL_PEERABORTEDASSOCIATION;
    T_DIMSE_C_GetRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.MessageIDBeingRespondedTo = req.MessageID;
    copy_string(rsp.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID), req.AffectedSOPClassUID);
    rsp.DimseStatus = r.cancelled ? STATUS_GET_Cancel_SubOperationsTerminatedDueToCancelIndication : reply.status;
    counts_to_get(rsp, reply.counts, r.cancelled);
    DcmDataset *failed = failed_identifier(r);
    rsp.DataSetType = failed ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
    DcmDataset *detail = comment_detail(reply);
    cond = DIMSE_sendGetResponse(w->assoc, pcid, &req, &rsp, failed, detail);
    delete detail;
    delete failed;
    return cond;
}

}  // namespace cdcm

extern "C" int cdcm_responder_find_match(cdcm_responder *r, const cdcm_dataset *match) {
    if (r == nullptr || match == nullptr || r->kind != 0) return -1;
    if (r->broken) return -1;
    if (r->cancelled) return 1;
    try {
        T_DIMSE_C_FindRQ req;
        memset(&req, 0, sizeof(req));
        req.MessageID = r->message_id;
        copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), r->sop_class);
        T_DIMSE_C_FindRSP rsp;
        memset(&rsp, 0, sizeof(rsp));
        rsp.DimseStatus = STATUS_Pending;
        DcmDataset ids(*match->dataset());
        OFCondition cond = DIMSE_sendFindResponse(r->w->assoc, r->pcid, &req, &rsp, &ids, nullptr);
        if (cond.bad()) {
            r->broken = true;
            return -1;
        }
        check_cancel(r);
        return r->broken ? -1 : (r->cancelled ? 1 : 0);
    } catch (...) {
        r->broken = true;
        return -1;
    }
}

extern "C" int cdcm_responder_pending(cdcm_responder *r, const cdcm_subop_counts *c) {
    if (r == nullptr || c == nullptr || r->kind == 0) return -1;
    if (r->broken) return -1;
    if (r->cancelled) return 1;
    try {
        OFCondition cond = EC_Normal;
        if (r->kind == 1) {
            T_DIMSE_C_MoveRQ req;
            memset(&req, 0, sizeof(req));
            req.MessageID = r->message_id;
            copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), r->sop_class);
            T_DIMSE_C_MoveRSP rsp;
            memset(&rsp, 0, sizeof(rsp));
            rsp.MessageIDBeingRespondedTo = r->message_id;
            copy_string(rsp.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID), r->sop_class);
            rsp.DimseStatus = STATUS_Pending;
            rsp.DataSetType = DIMSE_DATASET_NULL;
            counts_to_move(rsp, *c, true);
            cond = DIMSE_sendMoveResponse(r->w->assoc, r->pcid, &req, &rsp, nullptr, nullptr);
        } else {
            T_DIMSE_C_GetRQ req;
            memset(&req, 0, sizeof(req));
            req.MessageID = r->message_id;
            copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), r->sop_class);
            T_DIMSE_C_GetRSP rsp;
            memset(&rsp, 0, sizeof(rsp));
            rsp.MessageIDBeingRespondedTo = r->message_id;
            copy_string(rsp.AffectedSOPClassUID, sizeof(rsp.AffectedSOPClassUID), r->sop_class);
            rsp.DimseStatus = STATUS_Pending;
            rsp.DataSetType = DIMSE_DATASET_NULL;
            counts_to_get(rsp, *c, true);
            cond = DIMSE_sendGetResponse(r->w->assoc, r->pcid, &req, &rsp, nullptr, nullptr);
        }
        if (cond.bad()) {
            r->broken = true;
            return -1;
        }
        check_cancel(r);
        return r->broken ? -1 : (r->cancelled ? 1 : 0);
    } catch (...) {
        r->broken = true;
        return -1;
    }
}

extern "C" int cdcm_responder_get_store(cdcm_responder *r, const char *path, uint16_t *sub_status, cdcm_status *st) {
    cdcm::status_clear(st);
    if (r == nullptr || r->kind != 2 || path == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "not a C-GET responder, or no file");
        return -1;
    }
    if (r->broken) {
        cdcm::status_set(st, CDCM_ERR_ABORTED, "the C-GET requester's association is gone");
        return -1;
    }
    try {
        if (cdcm::scp_grace_expired(r->w->scp)) {
            r->cancelled = true;
            cdcm::status_set(st, CDCM_ERR_ABORTED, "the gateway is stopping");
            return -1;
        }
        if (cdcm::send_file(r->w->assoc, "the C-GET requester", path, r->w->next_message_id++, r->priority, nullptr, 0,
                            r->w->scp->dimse_timeout, st) != 0) {
            if (st->kind == CDCM_ERR_ABORTED || st->kind == CDCM_ERR_NETWORK || st->kind == CDCM_ERR_TIMEOUT ||
                st->kind == CDCM_ERR_PROTOCOL)
                r->broken = true;
            return -1;
        }
        if (sub_status) *sub_status = st->dimse_status;
        return 0;
    } catch (...) {
        r->broken = true;
        cdcm::status_from_exception(st, "cdcm_responder_get_store");
        return -1;
    }
}

extern "C" void cdcm_responder_set_failed(cdcm_responder *r, const char *uids) {
    if (r != nullptr) r->failed_uids = uids != nullptr ? uids : "";
}
