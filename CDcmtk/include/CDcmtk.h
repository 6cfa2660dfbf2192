/* CDcmtk: a plain C API over DCMTK's dcmnet/dcmdata. No DCMTK type crosses this header. */
#ifndef CDCMTK_H
#define CDCMTK_H

#include <stddef.h>
#include <stdint.h>

#include "CDcmtk_journal.h"
#include "CDcmtk_limits.h"
#include "CDcmtk_tls.h"
#include "CDcmtk_web.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

/** What kind of failure a cdcm_status reports. */
typedef enum cdcm_error_kind {
    CDCM_OK = 0,
    CDCM_ERR_NETWORK = 1,          /* connect/read/write failed, peer unreachable */
    CDCM_ERR_REJECTED = 2,         /* association rejected: see reject_* fields */
    CDCM_ERR_ABORTED = 3,          /* peer aborted the association */
    CDCM_ERR_PROTOCOL = 4,         /* DIMSE/DUL protocol error */
    CDCM_ERR_NO_CONTEXT = 5,       /* no accepted presentation context for the SOP class/TS */
    CDCM_ERR_FILE = 6,             /* file missing, unreadable, not DICOM */
    CDCM_ERR_INVALID = 7,          /* invalid argument */
    CDCM_ERR_TIMEOUT = 8,          /* DIMSE or ACSE timeout */
    CDCM_ERR_INTERNAL = 9          /* a C++ exception or unexpected DCMTK condition */
} cdcm_error_kind;

/** Result of a call. Transport failure and DIMSE status are separate channels:
 *  kind != CDCM_OK means the operation did not complete; has_dimse_status says a
 *  DIMSE response arrived and dimse_status holds its Status (0000,0900). */
typedef struct cdcm_status {
    int kind;                      /* cdcm_error_kind */
    int has_dimse_status;
    uint16_t dimse_status;
    int reject_result;             /* 1 permanent, 2 transient */
    int reject_source;             /* 1 service user, 2 provider ACSE, 3 provider presentation */
    int reject_reason;             /* PS3.8 table 9-21 reason code (low byte) */
    char error_comment[65];        /* Error Comment (0000,0902) of the response, if any */
    char text[512];                /* human-readable detail */
} cdcm_status;

/* ------------------------------------------------------------------ global */

typedef enum cdcm_log_level {
    CDCM_LOG_TRACE = 0, CDCM_LOG_DEBUG = 1, CDCM_LOG_INFO = 2,
    CDCM_LOG_WARN = 3, CDCM_LOG_ERROR = 4, CDCM_LOG_FATAL = 5, CDCM_LOG_OFF = 6
} cdcm_log_level;

typedef void (*cdcm_log_fn)(void *ctx, int level, const char *logger, const char *message);

/** Once per process before any thread starts: TCP_NODELAY for every DICOM socket,
 *  no reverse DNS per association, data dictionary check. Returns 0 when the DICOM
 *  data dictionary is loaded, -1 (with text) when it is not. Idempotent. */
int cdcm_global_init(char *text, size_t text_len);

/** Route DCMTK's own log (oflog) to fn at min_level and above. fn may be NULL to silence it.
 *  ctx must stay valid for the rest of the process. */
void cdcm_set_log_handler(int min_level, cdcm_log_fn fn, void *ctx);

/* ------------------------------------------------------------------ dataset */

typedef struct cdcm_dataset cdcm_dataset;

cdcm_dataset *cdcm_dataset_new(void);
void cdcm_dataset_free(cdcm_dataset *ds);

/** Load a Part 10 file (or a raw dataset). With stop_before_pixel_data the bulk pixel data is not read.
 *  The file meta information is reachable through group 0002 tags. NULL on failure. */
cdcm_dataset *cdcm_dataset_load(const char *path, int stop_before_pixel_data, cdcm_status *st);

/** Copy the value of a top-level element (group 0002 from the meta header) as a string,
 *  multiple values joined by '\'. Returns the full length (may exceed buf_len-1: then
 *  truncated), or -1 if absent. */
long cdcm_dataset_get_string(const cdcm_dataset *ds, uint32_t tag, char *buf, size_t buf_len);

/** Insert or replace a top-level element; the VR comes from the data dictionary. 0 on success. */
int cdcm_dataset_put_string(cdcm_dataset *ds, uint32_t tag, const char *value, cdcm_status *st);

/** Remove a top-level element; 1 if it was present. */
int cdcm_dataset_remove(cdcm_dataset *ds, uint32_t tag);

/** Number of top-level elements in the dataset (meta header excluded). */
size_t cdcm_dataset_count(const cdcm_dataset *ds);

/** The index-th top-level element: tag, VR (two letters + NUL), and for string-like VRs its
 *  value (return value as in get_string); for sequences and binary VRs returns -2 and no value. */
long cdcm_dataset_element_at(const cdcm_dataset *ds, size_t index, uint32_t *tag, char vr[3],
                             char *buf, size_t buf_len);

/** The index-th top-level element of a query identifier, as a matching key: its full string value
 *  (no length cut-off; return value as in get_string); -2 for a return key that asks only for
 *  values back (an empty element, or a sequence whose items are all empty); -4 for a sequence
 *  with matching values inside (sequence matching); -5 for a binary value (not matchable). */
long cdcm_dataset_query_key_at(const cdcm_dataset *ds, size_t index, uint32_t *tag, char *buf, size_t buf_len);

/** Number of items of the top-level sequence seq_tag (0 when absent or not a sequence). */
size_t cdcm_dataset_item_count(const cdcm_dataset *ds, uint32_t seq_tag);

/** The value of element tag in item `item` of the top-level sequence seq_tag, as in get_string
 *  (-1 when the item or element is absent, -2 for a sequence or binary element). */
long cdcm_dataset_item_get_string(const cdcm_dataset *ds, uint32_t seq_tag, size_t item, uint32_t tag,
                                  char *buf, size_t buf_len);

/** Write the dataset as a Part 10 file in the given transfer syntax (NULL = as loaded, or Explicit VR LE). */
int cdcm_dataset_save(cdcm_dataset *ds, const char *path, const char *transfer_syntax, cdcm_status *st);

/** Probe a file: SOP class, SOP instance and transfer syntax from the meta header (or dataset),
 *  without reading pixel data. 0 on success. */
typedef struct cdcm_file_info {
    char sop_class_uid[65];
    char sop_instance_uid[65];
    char transfer_syntax_uid[65];
    char study_instance_uid[65];
    char series_instance_uid[65];
} cdcm_file_info;
int cdcm_file_probe(const char *path, cdcm_file_info *info, cdcm_status *st);

/** Storage SOP classes a C-GET requester proposes (DCMTK's list of common ones, at most 120). */
int cdcm_common_storage_sop_classes(const char *const **uids);
/** 1 if uid is a known storage SOP class. */
int cdcm_is_storage_sop_class(const char *uid);

/* ------------------------------------------------------------------ SCU */

typedef struct cdcm_assoc cdcm_assoc;

typedef enum cdcm_role { CDCM_ROLE_DEFAULT = 0, CDCM_ROLE_SCU = 1, CDCM_ROLE_SCP = 2, CDCM_ROLE_SCUSCP = 3 } cdcm_role;

/** One proposed presentation context. */
typedef struct cdcm_pc_proposal {
    const char *abstract_syntax;
    const char *const *transfer_syntaxes;
    int transfer_syntax_count;
    int role;                      /* cdcm_role; CDCM_ROLE_SCP for storage contexts of a C-GET */
} cdcm_pc_proposal;

typedef struct cdcm_assoc_params {
    const char *calling_ae;
    const char *called_ae;
    const char *host;
    int port;
    int connect_timeout;           /* seconds */
    int acse_timeout;              /* seconds */
    int dimse_timeout;             /* seconds, per response */
    uint32_t max_pdu;
    cdcm_tls_context *tls;         /* non-NULL: over DICOM TLS with this (client) context, peer verified */
} cdcm_assoc_params;

/** Open an association. Blocks: call from a thread of your own. NULL on failure (st says why). */
cdcm_assoc *cdcm_assoc_open(const cdcm_assoc_params *params, const cdcm_pc_proposal *pcs, int pc_count,
                            cdcm_status *st);
/** Release (graceful) and free. Safe with NULL. */
void cdcm_assoc_release(cdcm_assoc *as);
/** Abort and free. Safe with NULL. */
void cdcm_assoc_abort(cdcm_assoc *as);
/** Over TLS: 1, and the peer's certificate SHA-256 (hex) and subject (RFC 4514); 0 for plain TCP. */
int cdcm_assoc_peer_certificate(cdcm_assoc *as, char sha256[65], char *subject, size_t subject_len);
/** 1 if a context for the abstract syntax was accepted (with any transfer syntax). */
int cdcm_assoc_has_context(cdcm_assoc *as, const char *abstract_syntax);

int cdcm_assoc_echo(cdcm_assoc *as, cdcm_status *st);

/** C-STORE one file. Uses the accepted context whose transfer syntax equals the file's (streamed
 *  from disk) or else converts to an accepted uncompressed one. move_originator_* for sub-operations
 *  of a C-MOVE (NULL/0 otherwise). st->dimse_status holds the response. 0 if a response arrived. */
int cdcm_assoc_store_file(cdcm_assoc *as, const char *path, uint16_t priority,
                          const char *move_originator_ae, uint16_t move_originator_msg_id, cdcm_status *st);

/** Called for each C-FIND match; return nonzero to send C-CANCEL. ds is valid only during the call. */
typedef int (*cdcm_find_match_fn)(void *ctx, const cdcm_dataset *ds);

int cdcm_assoc_find(cdcm_assoc *as, const char *sop_class, uint16_t priority, const cdcm_dataset *identifier,
                    cdcm_find_match_fn on_match, void *ctx, cdcm_status *st);

typedef struct cdcm_subop_counts {
    int remaining, completed, failed, warning;
} cdcm_subop_counts;

/** Called for each pending C-MOVE/C-GET response. */
typedef void (*cdcm_retrieve_progress_fn)(void *ctx, const cdcm_subop_counts *counts);
/** Called for each instance a C-GET stored (path of the new file, SOP instance UID). Return a DIMSE status for the sub-operation. */
typedef uint16_t (*cdcm_get_instance_fn)(void *ctx, const char *path, const char *sop_instance_uid);

/** C-MOVE. final counts in *counts; st->dimse_status is the final status (failures are NOT success). */
int cdcm_assoc_move(cdcm_assoc *as, const char *sop_class, uint16_t priority, const char *move_destination,
                    const cdcm_dataset *identifier, cdcm_retrieve_progress_fn on_progress, void *ctx,
                    cdcm_subop_counts *counts, cdcm_status *st);

/** C-GET, receiving the C-STORE sub-operations into out_dir (files named by a sequence number). */
int cdcm_assoc_get(cdcm_assoc *as, const char *sop_class, uint16_t priority, const cdcm_dataset *identifier,
                   const char *out_dir, cdcm_retrieve_progress_fn on_progress, cdcm_get_instance_fn on_instance,
                   void *ctx, cdcm_subop_counts *counts, cdcm_status *st);

/* ------------------------------------------------------------------ SCP */

typedef struct cdcm_scp cdcm_scp;
typedef struct cdcm_responder cdcm_responder;

/** Who is asking, for every callback. Strings are valid only during the callback. */
typedef struct cdcm_assoc_info {
    uint64_t association_id;
    const char *calling_ae;
    const char *called_ae;
    const char *peer_host;
    int tls;                              /* 1 when the association came over DICOM TLS */
    const char *peer_certificate_sha256;  /* over TLS: the peer certificate's SHA-256 (hex), "" if none */
    const char *peer_certificate_subject; /* over TLS: its subject (RFC 4514), "" if none */
} cdcm_assoc_info;

typedef enum cdcm_reject_reason {
    CDCM_REJECT_NONE = 0,
    CDCM_REJECT_CALLING_AE = 1,    /* permanent, service user, calling AE title not recognized */
    CDCM_REJECT_CALLED_AE = 2,     /* permanent, service user, called AE title not recognized */
    CDCM_REJECT_NO_REASON = 3,     /* permanent, service user, no reason given */
    CDCM_REJECT_BUSY = 4           /* transient, service provider (presentation), local limit exceeded */
} cdcm_reject_reason;

typedef struct cdcm_store_request {
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *transfer_syntax_uid;
    uint16_t priority;
    uint16_t message_id;
    const char *move_originator_ae;   /* "" unless a C-MOVE sub-operation */
    uint16_t move_originator_msg_id;
    const char *file_path;            /* complete Part 10 file just received; the callee owns it now */
    const char *dataset_sha256;       /* SHA-256 (hex) of the data set, after the meta header; NULL if unknown */
    long long file_size;              /* bytes of the whole file, when dataset_sha256 is set */
} cdcm_store_request;

typedef struct cdcm_query_request {
    const char *sop_class_uid;        /* the FIND/MOVE/GET SOP class */
    uint16_t priority;
    uint16_t message_id;
    const char *move_destination;     /* C-MOVE only, else "" */
} cdcm_query_request;

/** The answer of a handler: a DIMSE status, an optional Error Comment (at most 64 characters). */
typedef struct cdcm_reply {
    uint16_t status;
    char error_comment[65];
    cdcm_subop_counts counts;         /* final counts for C-MOVE / C-GET */
} cdcm_reply;

/** Handlers called on the association's own thread. Each may block (it is not Swift's pool).
 *  Any handler may be NULL: the service then answers "SOP class not supported" / refuses. */
typedef struct cdcm_scp_handlers {
    void *ctx;
    /** Accept (return CDCM_REJECT_NONE) or reject an association request. */
    int (*on_associate)(void *ctx, const cdcm_assoc_info *info);
    /** Association ended: how = 0 released, 1 aborted by peer, 2 error/timeout, 3 stopped by server. */
    void (*on_association_end)(void *ctx, const cdcm_assoc_info *info, int how, const char *detail);
    /** May we receive this instance? Called before the data set is read; a non-zero status
     *  refuses it (the data set is read and discarded), e.g. 0xA700 when the disk is full. */
    uint16_t (*on_store_begin)(void *ctx, const cdcm_assoc_info *info, const cdcm_store_request *req);
    /** An instance was refused after it arrived, before anything parsed it (it broke the input
     *  limits, e.g. sequence nesting deeper than allowed): for the log and the audit trail. The
     *  reason names the limit and the tag, never a value. May be NULL. */
    void (*on_store_refused)(void *ctx, const cdcm_assoc_info *info, const cdcm_store_request *req, uint16_t status,
                             const char *reason);
    /** An instance arrived in req->file_path. Answer with the C-STORE status. */
    void (*on_store)(void *ctx, const cdcm_assoc_info *info, const cdcm_store_request *req, cdcm_reply *reply);
    /** C-FIND: call cdcm_responder_find_match for each match, then return the final status. */
    void (*on_find)(void *ctx, const cdcm_assoc_info *info, const cdcm_query_request *req,
                    const cdcm_dataset *identifier, cdcm_responder *responder, cdcm_reply *reply);
    /** C-MOVE: drive the sub-operations yourself, report progress with cdcm_responder_pending. */
    void (*on_move)(void *ctx, const cdcm_assoc_info *info, const cdcm_query_request *req,
                    const cdcm_dataset *identifier, cdcm_responder *responder, cdcm_reply *reply);
    /** C-GET: send each instance with cdcm_responder_get_store on this association. */
    void (*on_get)(void *ctx, const cdcm_assoc_info *info, const cdcm_query_request *req,
                   const cdcm_dataset *identifier, cdcm_responder *responder, cdcm_reply *reply);
    /** C-ECHO: the status to answer (0 success; e.g. 0x0124 refused: not authorized). NULL: success. */
    uint16_t (*on_echo)(void *ctx, const cdcm_assoc_info *info);
    /** A TLS connection closed before association: its handshake failed (reason in words; the
     *  subject of the certificate it sent, or ""; bad_certificate when the certificate was missing or
     *  did not verify) or did not finish in time. Called on the acceptor's thread: be quick. May be NULL. */
    void (*on_tls_failure)(void *ctx, const char *peer_host, const char *reason, const char *subject,
                           int bad_certificate);
    /** Where to receive an admitted instance: a file prepared in advance (its directory entry
     *  already durable), written into path (at most capacity bytes with the NUL); return 1. Return
     *  0 to receive into a temporary file in temp_dir instead. May be NULL. */
    int (*on_store_file)(void *ctx, char *path, size_t capacity);
} cdcm_scp_handlers;

typedef struct cdcm_scp_config {
    const char *bind_address;         /* IPv4 address to listen on; NULL, "", "0.0.0.0" or "::" = all interfaces */
    int port;
    int max_associations;
    uint32_t max_pdu;
    int acse_timeout;
    int dimse_timeout;                /* idle time between commands before the association is aborted */
    const char *temp_dir;             /* where incoming C-STORE data sets are streamed */
    /* Before association: each connection's A-ASSOCIATE-RQ is read by a gate that never blocks,
     * so idle or slow connections hold no slot and no thread (0 = defaults: 5000 ms, 32, 512). */
    int association_request_timeout_ms;
    int max_pending_per_address;      /* a newer connection closes that address's oldest waiting one */
    int max_pending;
    /* What a received data set (C-STORE, C-FIND/C-MOVE/C-GET identifier) may contain, checked as
     * it arrives, before DCMTK parses it (0 fields = defaults; see CDcmtk_limits.h). */
    cdcm_limits limits;
    /* DICOM TLS: a listener context (cdcm_tls_context_create with acceptor 1) and its port (0 = any
     * free port). NULL: no TLS listener. With TLS, port -1 means no plain listener at all. */
    cdcm_tls_context *tls;
    int tls_port;
} cdcm_scp_config;

/** Bind the port (errors come back here, synchronously). The handlers' ctx must stay valid
 *  until cdcm_scp_free. */
cdcm_scp *cdcm_scp_create(const cdcm_scp_config *cfg, const cdcm_scp_handlers *handlers, cdcm_status *st);
/** Accept associations until cdcm_scp_stop; each runs on a thread of its own. Returns when the
 *  acceptor has stopped and every association thread has been joined. */
int cdcm_scp_run(cdcm_scp *scp, cdcm_status *st);
/** Ask the acceptor to stop: no new associations; in-flight commands finish, idle associations
 *  are aborted; after grace_seconds any remaining association is aborted. Thread-safe. */
void cdcm_scp_stop(cdcm_scp *scp, int grace_seconds);
int cdcm_scp_active_associations(cdcm_scp *scp);
/** The port actually bound (useful with port 0); the TLS port when there is no plain listener. */
int cdcm_scp_port(cdcm_scp *scp);
/** The TLS port actually bound, or -1 without TLS. */
int cdcm_scp_tls_port(cdcm_scp *scp);
/** New connections use this TLS context from now on (certificates reloaded); connections already
 *  open keep theirs. The caller may free the old context once this returns. 0 on success. */
int cdcm_scp_set_tls(cdcm_scp *scp, cdcm_tls_context *tls);
void cdcm_scp_free(cdcm_scp *scp);

/** C-FIND: send one pending match. Returns 1 if the requester sent C-CANCEL (stop sending), 0 to go on,
 *  -1 if the association failed. */
int cdcm_responder_find_match(cdcm_responder *r, const cdcm_dataset *match);
/** C-MOVE/C-GET: send a pending response with the counts. Returns as cdcm_responder_find_match. */
int cdcm_responder_pending(cdcm_responder *r, const cdcm_subop_counts *counts);
/** C-GET: send one instance as a C-STORE sub-operation on the requester's association.
 *  Returns 0 with *sub_status set when a response arrived, -1 if the association failed. */
int cdcm_responder_get_store(cdcm_responder *r, const char *path, uint16_t *sub_status, cdcm_status *st);
/** C-MOVE/C-GET: the SOP Instance UIDs whose sub-operations failed, backslash-separated; the final
 *  response carries them as Failed SOP Instance UID List (0008,0058) (PS3.4 C.4.2.1.4). Copied. */
void cdcm_responder_set_failed(cdcm_responder *r, const char *uids);

#ifdef __cplusplus
}
#endif

#endif /* CDCMTK_H */
