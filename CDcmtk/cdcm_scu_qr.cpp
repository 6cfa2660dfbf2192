/* SCU: C-FIND, C-MOVE and C-GET, each reporting the final DIMSE status truthfully. */
#include "cdcm_assoc.h"

#include <cstring>

using cdcm::copy_string;

namespace {

struct FindContext {
    cdcm_assoc *as;
    T_ASC_PresentationContextID pcid;
    cdcm_find_match_fn on_match;
    void *ctx;
    bool cancelled = false;
};

void find_callback(void *data, T_DIMSE_C_FindRQ *request, int, T_DIMSE_C_FindRSP *, DcmDataset *ids) {
    FindContext *fc = static_cast<FindContext *>(data);
    if (fc->cancelled || ids == nullptr || fc->on_match == nullptr) return;
    cdcm_dataset wrapper;
    wrapper.dataset()->copyFrom(*ids);
    if (fc->on_match(fc->ctx, &wrapper) != 0) {
        fc->cancelled = true;
        DIMSE_sendCancelRequest(fc->as->assoc, fc->pcid, request->MessageID);
    }
}

struct MoveContext {
    cdcm_retrieve_progress_fn on_progress;
    void *ctx;
};

void fill_counts(cdcm_subop_counts *c, unsigned opts, DIC_US remaining, DIC_US completed, DIC_US failed,
                 DIC_US warning) {
    if (c == nullptr) return;
    c->remaining = (opts & O_MOVE_NUMBEROFREMAININGSUBOPERATIONS) ? remaining : -1;
    c->completed = (opts & O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS) ? completed : -1;
    c->failed = (opts & O_MOVE_NUMBEROFFAILEDSUBOPERATIONS) ? failed : -1;
    c->warning = (opts & O_MOVE_NUMBEROFWARNINGSUBOPERATIONS) ? warning : -1;
}

void move_callback(void *data, T_DIMSE_C_MoveRQ *, int, T_DIMSE_C_MoveRSP *rsp) {
    MoveContext *mc = static_cast<MoveContext *>(data);
    if (mc->on_progress == nullptr) return;
    cdcm_subop_counts c;
    fill_counts(&c, rsp->opts, rsp->NumberOfRemainingSubOperations, rsp->NumberOfCompletedSubOperations,
                rsp->NumberOfFailedSubOperations, rsp->NumberOfWarningSubOperations);
    mc->on_progress(mc->ctx, &c);
}

bool check_args(cdcm_assoc *as, const char *sop_class, const cdcm_dataset *identifier, cdcm_status *st) {
    if (as == nullptr || as->assoc == nullptr || sop_class == nullptr || identifier == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no association, SOP class or identifier");
        return false;
    }
    return true;
}

void copy_comment(cdcm_status *st, DcmDataset *detail) {
    const char *comment = nullptr;
    if (detail != nullptr && detail->findAndGetString(DCM_ErrorComment, comment).good() && comment != nullptr)
        copy_string(st->error_comment, sizeof(st->error_comment), comment);
}

}  // namespace

extern "C" int cdcm_common_storage_sop_classes(const char *const **uids) {
    if (uids) *uids = dcmLongSCUStorageSOPClassUIDs;
    return numberOfDcmLongSCUStorageSOPClassUIDs;
}

extern "C" int cdcm_is_storage_sop_class(const char *uid) {
    return (uid != nullptr && dcmIsaStorageSOPClassUID(uid, ESSC_All)) ? 1 : 0;
}

extern "C" int cdcm_assoc_find(cdcm_assoc *as, const char *sop_class, uint16_t priority,
                               const cdcm_dataset *identifier, cdcm_find_match_fn on_match, void *ctx,
                               cdcm_status *st) {
    cdcm::status_clear(st);
    if (!check_args(as, sop_class, identifier, st)) return -1;
    try {
        T_ASC_PresentationContextID pcid = cdcm::find_context(as, sop_class, st);
        if (pcid == 0) return -1;
        T_DIMSE_C_FindRQ req;
        memset(&req, 0, sizeof(req));
        req.MessageID = as->next_message_id();
        copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), sop_class);
        req.DataSetType = DIMSE_DATASET_PRESENT;
        req.Priority = static_cast<T_DIMSE_Priority>(priority);
        FindContext fc{as, pcid, on_match, ctx};
        T_DIMSE_C_FindRSP rsp;
        memset(&rsp, 0, sizeof(rsp));
        DcmDataset *detail = nullptr;
        int count = 0;
        DcmDataset query(*identifier->dataset());
        OFCondition cond = DIMSE_findUser(as->assoc, pcid, &req, &query, count, find_callback, &fc,
                                          DIMSE_NONBLOCKING, as->dimse_timeout, &rsp, &detail);
        if (cond.bad()) {
            delete detail;
            cdcm::status_from_dimse(st, as, cond, "C-FIND");
            return -1;
        }
        st->has_dimse_status = 1;
        st->dimse_status = rsp.DimseStatus;
        copy_comment(st, detail);
        delete detail;
        return 0;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_assoc_find");
        return -1;
    }
}

extern "C" int cdcm_assoc_move(cdcm_assoc *as, const char *sop_class, uint16_t priority,
                               const char *move_destination, const cdcm_dataset *identifier,
                               cdcm_retrieve_progress_fn on_progress, void *ctx, cdcm_subop_counts *counts,
                               cdcm_status *st) {
    cdcm::status_clear(st);
    if (!check_args(as, sop_class, identifier, st)) return -1;
    if (move_destination == nullptr || *move_destination == '\0') {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no move destination");
        return -1;
    }
    try {
        T_ASC_PresentationContextID pcid = cdcm::find_context(as, sop_class, st);
        if (pcid == 0) return -1;
        T_DIMSE_C_MoveRQ req;
        memset(&req, 0, sizeof(req));
        req.MessageID = as->next_message_id();
        copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), sop_class);
        copy_string(req.MoveDestination, sizeof(req.MoveDestination), move_destination);
        req.DataSetType = DIMSE_DATASET_PRESENT;
        req.Priority = static_cast<T_DIMSE_Priority>(priority);
        MoveContext mc{on_progress, ctx};
        T_DIMSE_C_MoveRSP rsp;
        memset(&rsp, 0, sizeof(rsp));
        DcmDataset *detail = nullptr;
        DcmDataset *rsp_ids = nullptr;
        DcmDataset query(*identifier->dataset());
        OFCondition cond = DIMSE_moveUser(as->assoc, pcid, &req, &query, move_callback, &mc, DIMSE_NONBLOCKING,
                                          as->dimse_timeout, nullptr, nullptr, nullptr, &rsp, &detail, &rsp_ids,
                                          OFTrue);
        delete rsp_ids;
        if (cond.bad()) {
            delete detail;
            cdcm::status_from_dimse(st, as, cond, "C-MOVE");
            return -1;
        }
        // DIMSE_moveUser returns EC_Normal whatever the final status: report that status itself.
        st->has_dimse_status = 1;
        st->dimse_status = rsp.DimseStatus;
        fill_counts(counts, rsp.opts, rsp.NumberOfRemainingSubOperations, rsp.NumberOfCompletedSubOperations,
                    rsp.NumberOfFailedSubOperations, rsp.NumberOfWarningSubOperations);
        copy_comment(st, detail);
        delete detail;
        return 0;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_assoc_move");
        return -1;
    }
}

namespace {

struct GetStoreContext {
    cdcm_get_instance_fn on_instance;
    void *ctx;
};

void get_store_callback(void *data, T_DIMSE_StoreProgress *progress, T_DIMSE_C_StoreRQ *req, char *file_name,
                        DcmDataset **, T_DIMSE_C_StoreRSP *rsp, DcmDataset **) {
    if (progress->state != DIMSE_StoreEnd) return;
    GetStoreContext *gc = static_cast<GetStoreContext *>(data);
    if (rsp->DimseStatus != STATUS_Success || gc->on_instance == nullptr) return;
    rsp->DimseStatus = gc->on_instance(gc->ctx, file_name, req->AffectedSOPInstanceUID);
}

}  // namespace

extern "C" int cdcm_assoc_get(cdcm_assoc *as, const char *sop_class, uint16_t priority,
                              const cdcm_dataset *identifier, const char *out_dir,
                              cdcm_retrieve_progress_fn on_progress, cdcm_get_instance_fn on_instance, void *ctx,
                              cdcm_subop_counts *counts, cdcm_status *st) {
    cdcm::status_clear(st);
    if (!check_args(as, sop_class, identifier, st)) return -1;
    if (out_dir == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no output directory");
        return -1;
    }
    try {
        T_ASC_PresentationContextID pcid = cdcm::find_context(as, sop_class, st);
        if (pcid == 0) return -1;
        T_DIMSE_Message msg;
        memset(&msg, 0, sizeof(msg));
        msg.CommandField = DIMSE_C_GET_RQ;
        T_DIMSE_C_GetRQ &req = msg.msg.CGetRQ;
        req.MessageID = as->next_message_id();
        copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), sop_class);
        req.DataSetType = DIMSE_DATASET_PRESENT;
        req.Priority = static_cast<T_DIMSE_Priority>(priority);
        DcmDataset query(*identifier->dataset());
        OFCondition cond = DIMSE_sendMessageUsingMemoryData(as->assoc, pcid, &msg, nullptr, &query, nullptr,
                                                            nullptr);
        if (cond.bad()) {
            cdcm::status_from_dimse(st, as, cond, "C-GET");
            return -1;
        }
        GetStoreContext gc{on_instance, ctx};
        unsigned long sequence = 0;
        for (;;) {
            T_DIMSE_Message in;
            T_ASC_PresentationContextID in_pc = 0;
            DcmDataset *detail = nullptr;
            cond = DIMSE_receiveCommand(as->assoc, DIMSE_NONBLOCKING, as->dimse_timeout, &in_pc, &in, &detail);
            if (cond.bad()) {
                delete detail;
                cdcm::status_from_dimse(st, as, cond, "C-GET");
                return -1;
            }
            if (in.CommandField == DIMSE_C_GET_RSP) {
                T_DIMSE_C_GetRSP &rsp = in.msg.CGetRSP;
                if (rsp.DataSetType != DIMSE_DATASET_NULL) {
                    DcmDataset *ids = nullptr;
                    T_ASC_PresentationContextID ds_pc = 0;
                    DIMSE_receiveDataSetInMemory(as->assoc, DIMSE_NONBLOCKING, as->dimse_timeout, &ds_pc, &ids,
                                                 nullptr, nullptr);
                    delete ids;
                }
                cdcm_subop_counts c;
                fill_counts(&c, rsp.opts, rsp.NumberOfRemainingSubOperations, rsp.NumberOfCompletedSubOperations,
                            rsp.NumberOfFailedSubOperations, rsp.NumberOfWarningSubOperations);
                if (DICOM_PENDING_STATUS(rsp.DimseStatus)) {
                    delete detail;
                    if (on_progress) on_progress(ctx, &c);
                    continue;
                }
                st->has_dimse_status = 1;
                st->dimse_status = rsp.DimseStatus;
                if (counts) *counts = c;
                copy_comment(st, detail);
                delete detail;
                return 0;
            }
            delete detail;
            if (in.CommandField == DIMSE_C_STORE_RQ) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/get-%06lu.dcm", out_dir, ++sequence);
                cond = DIMSE_storeProvider(as->assoc, in_pc, &in.msg.CStoreRQ, path, 1, nullptr, get_store_callback,
                                           &gc, DIMSE_NONBLOCKING, as->dimse_timeout);
                if (cond.bad()) {
                    cdcm::status_from_dimse(st, as, cond, "C-STORE sub-operation of C-GET");
                    return -1;
                }
                continue;
            }
            cdcm::status_set(st, CDCM_ERR_PROTOCOL,
                             as->peer + " sent an unexpected DIMSE command during C-GET (command field " +
                                 std::to_string(in.CommandField) + ")");
            return -1;
        }
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_assoc_get");
        return -1;
    }
}
