/* The SCU association handle shared by cdcm_scu.cpp and cdcm_scu_qr.cpp. */
#ifndef CDCM_ASSOC_H
#define CDCM_ASSOC_H

#include "cdcm_internal.h"

struct cdcm_assoc {
    T_ASC_Network *net = nullptr;
    T_ASC_Association *assoc = nullptr;
    DcmTransportLayer *tls_layer = nullptr;  /* over TLS: owned, deleted after net */
    int dimse_timeout = 60;
    std::string peer;          /* "AE@host:port" for messages */
    DIC_US next_message_id() { return message_id++; }

private:
    DIC_US message_id = 1;
};

namespace cdcm {
/* Find an accepted context for the abstract syntax (any transfer syntax); 0 if none. */
T_ASC_PresentationContextID find_context(cdcm_assoc *as, const char *abstract_syntax, cdcm_status *st);
/* Fill st for a DIMSE condition on this association. */
void status_from_dimse(cdcm_status *st, cdcm_assoc *as, const OFCondition &cond, const char *what);
}  // namespace cdcm

#endif
