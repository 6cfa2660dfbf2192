/* CDcmtk: what DICOMweb's WADO-RS needs from a stored file (DICOM JSON metadata, bulk data,
 * frames, transcoding, rendering to JPEG). Plain C; included by CDcmtk.h. */
#ifndef CDCMTK_WEB_H
#define CDCMTK_WEB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cdcm_status;

/** Bytes allocated by the shim (malloc); release with cdcm_buffer_free. */
typedef struct cdcm_buffer {
    uint8_t *data;
    size_t length;
} cdcm_buffer;

void cdcm_buffer_free(cdcm_buffer *buffer);

/** Results of the web entry points: done, not possible for this file (answer 406 or 404), failed. */
typedef enum cdcm_web_result {
    CDCM_WEB_OK = 0,
    CDCM_WEB_NOT_POSSIBLE = 1,     /* e.g. no codec for the transfer syntax; st->text says why */
    CDCM_WEB_NOT_FOUND = 2,        /* the frame or attribute asked for is not in the file */
    CDCM_WEB_FAILED = -1           /* unreadable file or internal error; st says why */
} cdcm_web_result;

/** The data set of the file at path as DICOM JSON (PS3.18 F.2), one object "{...}", UTF-8, without
 *  the file meta information and group lengths. PixelData and top-level binary values (OB, OW, OF,
 *  OD, OL, OV, UN) longer than inline_limit bytes become "BulkDataURI": instance_url +
 *  "/bulkdata/GGGGEEEE"; smaller binary values are "InlineBinary". The pixel data is not read. */
int cdcm_web_metadata(const char *path, const char *instance_url, uint32_t inline_limit, cdcm_buffer *out,
                      struct cdcm_status *st);

/** The value of the top-level element tag (GGGGEEEE): native values as stored (little endian);
 *  encapsulated pixel data as its fragments one after another. transfer_syntax receives the
 *  transfer syntax the bytes are in. CDCM_WEB_NOT_FOUND when absent or not a binary value. */
int cdcm_web_bulkdata(const char *path, uint32_t tag, cdcm_buffer *out, char transfer_syntax[65],
                      struct cdcm_status *st);

/** Frames (1-based numbers, count of them) of the pixel data into outs[0..count-1]: native frames
 *  sliced from the pixel data; encapsulated frames as their fragments (found by the Basic Offset
 *  Table, one fragment per frame, or the codec's fragment search). want_ts NULL or "" or "*": as
 *  stored; otherwise the file is converted first (CDCM_WEB_NOT_POSSIBLE when DCMTK cannot).
 *  transfer_syntax receives the frames' transfer syntax. A frame number out of range:
 *  CDCM_WEB_NOT_FOUND. On anything but CDCM_WEB_OK no buffer needs freeing. */
int cdcm_web_frames(const char *path, const uint32_t *numbers, size_t count, const char *want_ts,
                    cdcm_buffer *outs, char transfer_syntax[65], struct cdcm_status *st);

/** Writes the file at path as a Part 10 file in transfer syntax ts to out_path (decompressing or
 *  compressing with DCMTK's JPEG, JPEG-LS and RLE codecs). CDCM_WEB_NOT_POSSIBLE when DCMTK cannot. */
int cdcm_web_transcode(const char *path, const char *ts, const char *out_path, struct cdcm_status *st);

/** Renders frame (1-based; 0 = the first) as a JPEG of quality 1..100, scaled down so neither side
 *  exceeds max_side (0: as is). Monochrome: the file's first VOI window, else the min-max window.
 *  CDCM_WEB_NOT_POSSIBLE when DCMTK cannot render it (no pixel data, unsupported photometric). */
int cdcm_web_render_jpeg(const char *path, uint32_t frame, uint32_t max_side, int quality, cdcm_buffer *out,
                         struct cdcm_status *st);

#ifdef __cplusplus
}
#endif

#endif /* CDCMTK_WEB_H */
