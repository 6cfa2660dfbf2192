/* Receiving a C-STORE data set into a Part 10 file: hashed and written back to disk as it arrives. */
#ifndef CDCM_STORE_RECEIVE_H
#define CDCM_STORE_RECEIVE_H

#include "cdcm_internal.h"
#include "include/CDcmtk_limits.h"

#include <string>

namespace cdcm {

struct ReceivedDataset {
    std::string sha256;   /* lower-case hex of the data set bytes (the file after its meta header) */
    long long file_size = 0;
    /* The input-limits scanner's verdict: kind != CDCM_LIMIT_OK means the data set broke a limit
     * (or could not be walked): it was read off the association, not written past the breach,
     * and must be refused without parsing it. */
    cdcm_limit_verdict limits{};
};

/* Writes the file meta header to `path` (as DCMTK's storescp does), then streams the data set's
 * PDVs after it. DIMSE_OUTOFRESOURCES: the file could not be written (e.g. the disk is full), the
 * data set has been read off the association, which stays usable. On any failure the caller
 * removes `path`. out.sha256 is "" when the digest could not be computed. */
OFCondition receive_store_dataset(T_ASC_Association *assoc, T_DIMSE_C_StoreRQ &req, T_ASC_PresentationContextID pcid,
                                  int timeout, const cdcm_limits &limits, const char *path, ReceivedDataset &out);

/* Receives a query identifier sent on pcid into memory, checking the input limits as it arrives;
 * parses it only when within them. verdict.kind != CDCM_LIMIT_OK: refused, *out is NULL, the
 * identifier has been read off the association. */
OFCondition receive_identifier_bounded(T_ASC_Association *assoc, T_ASC_PresentationContextID pcid, int timeout,
                                       const cdcm_limits &limits, DcmDataset **out, cdcm_limit_verdict &verdict);

}  // namespace cdcm

#endif
