/* Helpers shared by the DICOMweb translation units (metadata, frames, rendering). Never included from Swift. */
#ifndef CDCM_WEB_INTERNAL_H
#define CDCM_WEB_INTERNAL_H

#include "cdcm_internal.h"
#include "include/CDcmtk_web.h"

#include <string>

namespace cdcm {

/* Copies bytes into a malloc'd buffer; false when out of memory. */
bool buffer_set(cdcm_buffer *out, const void *bytes, size_t length);

/* Loads the file at path (values longer than max_read stay on disk until asked for); on failure
 * fills st (a CDCM_ERR_FILE naming the path) and returns false. */
bool load_file(DcmFileFormat &file, const char *path, Uint32 max_read, cdcm_status *st);

/* OB, OW, OF, OD, OL, OV, UN and DCMTK's internal pixel data VRs. */
bool is_binary_vr(DcmEVR vr);

/* "GGGGEEEE" */
std::string tag_hex(const DcmTagKey &key);

/* The UID of the transfer syntax native pixel data read from a file in xfer is in, once read
 * little endian: Implicit VR LE stays, everything else is Explicit VR LE. */
const char *native_xfer_id(E_TransferSyntax xfer);

/* Every fragment of the encapsulated pixel data, one after another. A cdcm_web_result. */
int encapsulated_all(DcmDataset *ds, E_TransferSyntax xfer, std::string &bytes, cdcm_status *st);

/* DCMTK's JPEG, JPEG-LS and RLE decoders and encoders, registered once per process. */
void register_codecs();

}  // namespace cdcm

#endif
