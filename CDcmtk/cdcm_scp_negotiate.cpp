/* SCP association negotiation: application context, the Swift accept/reject decision, and
 * presentation contexts for Verification, Q/R and every storage SOP class (with SCP/SCU role selection). */
#include "cdcm_scp_internal.h"
#include "cdcm_scp_negotiate.h"

#include <cstring>

namespace {

/* Non-storage services: uncompressed only. */
const char *kQueryTransferSyntaxes[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                                        UID_BigEndianExplicitTransferSyntax};

const char *kServiceClasses[] = {UID_VerificationSOPClass,
                                 UID_FINDPatientRootQueryRetrieveInformationModel,
                                 UID_FINDStudyRootQueryRetrieveInformationModel,
                                 UID_MOVEPatientRootQueryRetrieveInformationModel,
                                 UID_MOVEStudyRootQueryRetrieveInformationModel,
                                 UID_GETPatientRootQueryRetrieveInformationModel,
                                 UID_GETStudyRootQueryRetrieveInformationModel};

/* Storage: keep what the sender has (lossless compression first), fall back to uncompressed; lossy
 * syntaxes only when a context offers nothing else, so we never make a sender compress lossily. */
const char *kStorageTransferSyntaxes[] = {
    UID_JPEGLSLosslessTransferSyntax,         UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGProcess14TransferSyntax,          UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_RLELosslessTransferSyntax,            UID_DeflatedExplicitVRLittleEndianTransferSyntax,
    UID_LittleEndianExplicitTransferSyntax,   UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,      UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess2_4TransferSyntax,         UID_JPEGLSLossyTransferSyntax,
    UID_JPEG2000TransferSyntax,               UID_MPEG2MainProfileAtMainLevelTransferSyntax,
    UID_MPEG2MainProfileAtHighLevelTransferSyntax, UID_MPEG4HighProfileLevel4_1TransferSyntax,
    UID_MPEG4BDcompatibleHighProfileLevel4_1TransferSyntax, UID_HEVCMainProfileLevel5_1TransferSyntax,
};

void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters rej = {result, source, reason};
    ASC_rejectAssociation(assoc, &rej);
}

OFCondition accept_storage_contexts(T_ASC_Association *assoc) {
    const int n = ASC_countPresentationContexts(assoc->params);
    for (int i = 0; i < n; i++) {
        T_ASC_PresentationContext pc;
        OFCondition cond = ASC_getPresentationContext(assoc->params, i, &pc);
        if (cond.bad()) return cond;
        if (!dcmIsaStorageSOPClassUID(pc.abstractSyntax, ESSC_All)) continue;
        for (const char *preferred : kStorageTransferSyntaxes) {
            bool proposed = false;
            for (int k = 0; k < pc.transferSyntaxCount; k++) {
                if (strcmp(pc.proposedTransferSyntaxes[k], preferred) == 0) proposed = true;
            }
            if (!proposed) continue;
            // Accept the role the requester proposes: SCP role means it wants C-GET sub-operations.
            cond = ASC_acceptPresentationContext(assoc->params, pc.presentationContextID, preferred, pc.proposedRole);
            if (cond.bad()) return cond;
            break;
        }
    }
    return EC_Normal;
}

}  // namespace

namespace cdcm {

NegotiationResult negotiate(ScpWorker *w) {
    T_ASC_Association *assoc = w->assoc;
    const cdcm_scp_handlers &h = w->scp->handlers;

    char context[BUFSIZ];
    if (ASC_getApplicationContextName(assoc->params, context, sizeof(context)).bad() ||
        strcmp(context, UID_StandardApplicationContext) != 0) {
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED);
        return NegotiationResult{false, "application context name not supported"};
    }

    cdcm_assoc_info info = w->info();
    int decision = h.on_associate ? h.on_associate(h.ctx, &info) : CDCM_REJECT_NONE;
    switch (decision) {
    case CDCM_REJECT_NONE:
        break;
    case CDCM_REJECT_CALLING_AE:
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
        return NegotiationResult{false, "calling AE title not recognised"};
    case CDCM_REJECT_CALLED_AE:
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
        return NegotiationResult{false, "called AE title not recognised"};
    case CDCM_REJECT_BUSY:
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        return NegotiationResult{false, "busy"};
    default:
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
        return NegotiationResult{false, "rejected"};
    }

    OFCondition cond = ASC_acceptContextsWithPreferredTransferSyntaxes(
        assoc->params, kServiceClasses, DIM_OF(kServiceClasses), kQueryTransferSyntaxes, DIM_OF(kQueryTransferSyntaxes));
    if (cond.good()) cond = accept_storage_contexts(assoc);
    if (cond.bad()) {
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
        return NegotiationResult{false, std::string("negotiation failed: ") + cond.text()};
    }
    if (ASC_countAcceptedPresentationContexts(assoc->params) == 0) {
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
        return NegotiationResult{false, "no acceptable presentation context"};
    }
    ASC_setAPTitles(assoc->params, nullptr, nullptr, assoc->params->DULparams.calledAPTitle);
    cond = ASC_acknowledgeAssociation(assoc);
    if (cond.bad()) return NegotiationResult{false, std::string("cannot acknowledge: ") + cond.text()};
    // Command sets are always guarded by the transport; data sets arriving here go through the
    // services' own checks with the configured limits (answered 0xC000/0xA900, association kept).
    return NegotiationResult{true, ""};
}

}  // namespace cdcm
