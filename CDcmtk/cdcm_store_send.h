/* One C-STORE of a file on an open association (SCU side), for the SCU and C-GET sub-operations. */
#ifndef CDCM_STORE_SEND_H
#define CDCM_STORE_SEND_H

#include "cdcm_internal.h"

namespace cdcm {
/* Loads `path`, picks the accepted context with its transfer syntax (or converts to an accepted one),
 * sends it and waits for the response. 0 with st->dimse_status set when a response arrived. */
int send_file(T_ASC_Association *assoc, const std::string &peer, const char *path, DIC_US message_id,
              T_DIMSE_Priority priority, const char *move_originator_ae, DIC_US move_originator_id, int timeout,
              cdcm_status *st);
}  // namespace cdcm

#endif
