/* Association negotiation for the SCP. */
#ifndef CDCM_SCP_NEGOTIATE_H
#define CDCM_SCP_NEGOTIATE_H

#include "cdcm_scp_internal.h"

namespace cdcm {
struct NegotiationResult {
    bool accepted;
    std::string reason;
};
/* Decide (with the Swift handler), negotiate and acknowledge or reject. */
NegotiationResult negotiate(ScpWorker *w);

/* Service handlers (cdcm_scp_services.cpp); each returns a bad condition only when the association broke. */
OFCondition serve_store(ScpWorker *w, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pcid);
OFCondition serve_find(ScpWorker *w, T_DIMSE_C_FindRQ &req, T_ASC_PresentationContextID pcid);
OFCondition serve_move(ScpWorker *w, T_DIMSE_C_MoveRQ &req, T_ASC_PresentationContextID pcid);
OFCondition serve_get(ScpWorker *w, T_DIMSE_C_GetRQ &req, T_ASC_PresentationContextID pcid);
}  // namespace cdcm

#endif
