/* CDcmtk limits: bounds a DICOM data set (nesting, element count, value sizes) before DCMTK parses it.
 * Pure C: no DCMTK type crosses this header. */
#ifndef CDCMTK_LIMITS_H
#define CDCMTK_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a data set may contain. A field <= 0 takes its default. */
typedef struct cdcm_limits {
    int max_sequence_depth;        /* nested SQ levels; 0 = default 64 */
    long long max_elements;        /* all elements, nested ones included; 0 = default 1,000,000 */
    long long max_value_length;    /* bytes of one value other than bulk data (OB/OW/OF/OD/OL/OV/UN/pixel data fragments); 0 = default 16 MiB */
    long long max_total_bytes;     /* the whole encoded data set; 0 = no limit (a deflated data set: both the bytes fed and the inflated bytes) */
} cdcm_limits;

typedef enum cdcm_limit_kind {
    CDCM_LIMIT_OK = 0,
    CDCM_LIMIT_DEPTH = 1,
    CDCM_LIMIT_ELEMENTS = 2,
    CDCM_LIMIT_VALUE_LENGTH = 3,
    CDCM_LIMIT_TOTAL = 4,
    CDCM_LIMIT_MALFORMED = 5,      /* not a data set DCMTK can be trusted to parse the way the check did */
    CDCM_LIMIT_IO = 6              /* the file could not be read, or an argument was missing */
} cdcm_limit_kind;

/** The outcome of a check. Never contains a value of the data set (no patient data). */
typedef struct cdcm_limit_verdict {
    int kind;                      /* cdcm_limit_kind */
    uint32_t tag;                  /* the element where it was found, 0 if none */
    long long offset;              /* byte offset in the data set (cdcm_file_check_limits: in the file; deflated: in the inflated data set) */
    int depth_reached;             /* deepest nesting seen */
    long long elements;            /* elements seen */
    char text[256];                /* one line for an operator, e.g. "sequence nesting depth 65 exceeds the limit of 64 at (0040,A730), offset 1234" */
} cdcm_limit_verdict;

/** Checks a Part 10 file (preamble, meta header in Explicit VR LE, transfer syntax from (0002,0010))
 *  without DCMTK's parser. A file without preamble/meta header, or whose (0002,0010) DCMTK does not
 *  know, is checked in the encoding DCMTK itself detects from its first bytes (Implicit VR LE for
 *  ordinary such files). verdict may be NULL; limits NULL = defaults. Returns verdict.kind. */
int cdcm_file_check_limits(const char *path, const cdcm_limits *limits, cdcm_limit_verdict *verdict);

/** Checks an in-memory encoded data set (no meta header) in the given transfer syntax UID
 *  (Implicit/Explicit VR LE, Explicit VR BE, Deflated Explicit VR LE, any encapsulated TS; a UID
 *  DCMTK does not know: the encoding DCMTK would detect). Returns verdict.kind. */
int cdcm_buffer_check_limits(const void *data, size_t length, const char *transfer_syntax_uid,
                             const cdcm_limits *limits, cdcm_limit_verdict *verdict);

/** Checks the data set as it arrives (C-STORE PDV by PDV, any chunk boundaries). Example:
 *      cdcm_limit_scanner *s = cdcm_limit_scanner_new(&limits, ts_uid);
 *      for each fragment: if (!cdcm_limit_scanner_feed(s, p, n)) break;   // a verdict: stop early
 *      const cdcm_limit_verdict *v = cdcm_limit_scanner_finish(s);          // end of data
 *      ... v->kind ...; cdcm_limit_scanner_free(s);
 *  NULL only when out of memory. A scanner is used by one thread at a time. */
typedef struct cdcm_limit_scanner cdcm_limit_scanner;
cdcm_limit_scanner *cdcm_limit_scanner_new(const cdcm_limits *limits, const char *transfer_syntax_uid);
/** 1 while the data set is within the limits so far, 0 once a verdict is reached (later feeds are ignored). */
int cdcm_limit_scanner_feed(cdcm_limit_scanner *s, const void *data, size_t length);
/** End of data: the final verdict (owned by the scanner). */
const cdcm_limit_verdict *cdcm_limit_scanner_finish(cdcm_limit_scanner *s);
void cdcm_limit_scanner_free(cdcm_limit_scanner *s);

#ifdef __cplusplus
}
#endif

#endif
