/* Sending one file as a C-STORE on an association: shared by the SCU and by C-GET sub-operations. */
#include "cdcm_store_send.h"

#include <cstring>

namespace cdcm {

int send_file(T_ASC_Association *assoc, const std::string &peer, const char *path, DIC_US message_id,
              T_DIMSE_Priority priority, const char *move_originator_ae, DIC_US move_originator_id, int timeout,
              cdcm_status *st) {
    DcmFileFormat ff;
    OFCondition cond = ff.loadFile(path);
    if (cond.good()) cond = ff.loadAllDataIntoMemory();  // never re-read by path while sending
    if (cond.bad()) {
        status_from_condition(st, cond, std::string("cannot read ") + path);
        st->kind = CDCM_ERR_FILE;
        return -1;
    }
    DcmDataset *data = ff.getDataset();
    const char *sop_class = nullptr;
    const char *sop_instance = nullptr;
    ff.getMetaInfo()->findAndGetString(DCM_MediaStorageSOPClassUID, sop_class);
    ff.getMetaInfo()->findAndGetString(DCM_MediaStorageSOPInstanceUID, sop_instance);
    if (sop_class == nullptr || *sop_class == '\0') data->findAndGetString(DCM_SOPClassUID, sop_class);
    if (sop_instance == nullptr || *sop_instance == '\0') data->findAndGetString(DCM_SOPInstanceUID, sop_instance);
    if (sop_class == nullptr || sop_instance == nullptr || *sop_class == '\0' || *sop_instance == '\0') {
        status_set(st, CDCM_ERR_FILE, std::string(path) + " has no SOP Class UID or SOP Instance UID");
        return -1;
    }
    // The accepted context with the file's own transfer syntax, else any accepted one we can convert to.
    DcmXfer original(data->getOriginalXfer());
    T_ASC_PresentationContextID pcid = ASC_findAcceptedPresentationContextID(assoc, sop_class, original.getXferID());
    if (pcid == 0) {
        pcid = ASC_findAcceptedPresentationContextID(assoc, sop_class);
        T_ASC_PresentationContext pc;
        if (pcid == 0 || ASC_findAcceptedPresentationContext(assoc->params, pcid, &pc).bad()) {
            status_set(st, CDCM_ERR_NO_CONTEXT, peer + " accepted no presentation context for SOP class " + sop_class);
            return -1;
        }
        DcmXfer target(pc.acceptedTransferSyntax);
        if (data->chooseRepresentation(target.getXfer(), nullptr).bad() || !data->canWriteXfer(target.getXfer())) {
            status_set(st, CDCM_ERR_NO_CONTEXT, std::string("cannot convert ") + path + " from " + original.getXferName() +
                                                    " to " + target.getXferName() + " accepted by " + peer);
            return -1;
        }
    }
    T_DIMSE_C_StoreRQ req;
    memset(&req, 0, sizeof(req));
    req.MessageID = message_id;
    copy_string(req.AffectedSOPClassUID, sizeof(req.AffectedSOPClassUID), sop_class);
    copy_string(req.AffectedSOPInstanceUID, sizeof(req.AffectedSOPInstanceUID), sop_instance);
    req.DataSetType = DIMSE_DATASET_PRESENT;
    req.Priority = priority;
    if (move_originator_ae != nullptr && *move_originator_ae != '\0') {
        copy_string(req.MoveOriginatorApplicationEntityTitle, sizeof(req.MoveOriginatorApplicationEntityTitle),
                    move_originator_ae);
        req.MoveOriginatorID = move_originator_id;
        req.opts = O_STORE_MOVEORIGINATORAETITLE | O_STORE_MOVEORIGINATORID;
    }
    T_DIMSE_C_StoreRSP rsp;
    memset(&rsp, 0, sizeof(rsp));
    DcmDataset *detail = nullptr;
    cond = DIMSE_storeUser(assoc, pcid, &req, nullptr, data, nullptr, nullptr, DIMSE_NONBLOCKING, timeout, &rsp, &detail);
    if (cond.bad()) {
        delete detail;
        status_from_condition(st, cond, "C-STORE with " + peer + " failed");
        if (cond == DUL_PEERABORTEDASSOCIATION) st->kind = CDCM_ERR_ABORTED;
        if (cond == DIMSE_NODATAAVAILABLE) st->kind = CDCM_ERR_TIMEOUT;
        return -1;
    }
    st->has_dimse_status = 1;
    st->dimse_status = rsp.DimseStatus;
    const char *comment = nullptr;
    if (detail != nullptr && detail->findAndGetString(DCM_ErrorComment, comment).good() && comment != nullptr)
        copy_string(st->error_comment, sizeof(st->error_comment), comment);
    delete detail;
    return 0;
}

}  // namespace cdcm
