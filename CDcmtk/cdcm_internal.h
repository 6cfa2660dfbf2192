/* Internal helpers shared by the CDcmtk translation units: status conversion, the
 * TCP_QUICKACK transport layer, the dataset handle. Never included from Swift. */
#ifndef CDCM_INTERNAL_H
#define CDCM_INTERNAL_H

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/dcmlayer.h"
#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmdata/dctk.h"
#include "include/CDcmtk.h"
#include "cdcm_tls.h"

#include <exception>
#include <mutex>
#include <string>

struct cdcm_dataset {
    DcmFileFormat file;                 /* meta header + dataset */
    DcmDataset *dataset() { return file.getDataset(); }
    const DcmDataset *dataset() const { return const_cast<DcmFileFormat &>(file).getDataset(); }
};

namespace cdcm {

/* Status helpers: every OFCondition becomes a cdcm_status in one place. */
void status_clear(cdcm_status *st);
void status_set(cdcm_status *st, cdcm_error_kind kind, const std::string &text);
void status_from_condition(cdcm_status *st, const OFCondition &cond, const std::string &what);
void status_from_exception(cdcm_status *st, const char *where);
cdcm_error_kind kind_of(const OFCondition &cond);

/* A transport layer whose connections set TCP_NODELAY and re-arm TCP_QUICKACK after every read,
 * so a peer that leaves Nagle on does not stall each response for the delayed-ACK timer. */
DcmTransportLayer *quickack_transport_layer();

/* After an outgoing association is negotiated: its connection walks every data set it receives
 * (C-FIND answers, retrieve identifiers...) with the crash guard (depth 512) in the accepted
 * transfer syntaxes, and resets the connection past it. Command sets are always checked. */
void arm_transport_guard(T_ASC_Association *assoc);

/* The acceptor's layer: like quickack_transport_layer, except that the connection for the socket
 * staged last replays the bytes the acceptor's gate already read from it (its A-ASSOCIATE-RQ). */
class AcceptorLayer : public DcmTransportLayer {
public:
    DcmTransportConnection *createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) override;
    /* ssl: the TLS session the gate opened on fd (owned by the stage, then by the connection). */
    void stage(int fd, std::string bytes, SSL *ssl = nullptr, PeerIdentity identity = PeerIdentity());
    /* Clears the stage; true when no connection took it (the caller still owns the socket). */
    bool unstage();

private:
    std::mutex mutex_;
    int staged_fd_ = -1;
    std::string staged_;
    SSL *staged_ssl_ = nullptr;
    PeerIdentity staged_identity_;
};

/* A transport layer for outbound associations over TLS with the context (owned by the caller:
 * delete it after the network that uses it). handshake_timeout in seconds. */
DcmTransportLayer *tls_client_layer(cdcm_tls_context *ctx, int handshake_timeout);

/* Whether an association's connection is TLS, and its peer's certificate identity. */
bool association_peer(T_ASC_Association *assoc, bool &secure, PeerIdentity &identity);

/* A short Error Comment (at most 64 characters) for a data set refused by the input limits. */
std::string limit_comment(const cdcm_limit_verdict &verdict);

/* Copy a C string into a fixed buffer, always NUL-terminated. */
void copy_string(char *dst, size_t dst_len, const char *src);

/* The components of a raw multi-valued string, each without padding (trailing spaces and NULs,
 * leading spaces); texts (LT, ST, UT) as one value without trailing spaces. */
OFString normalize_components(const OFString &raw, int vr);

/* Copy a DICOM element's value as a string; -1 absent, -2 not a string VR. */
long element_string(DcmElement *elem, char *buf, size_t buf_len);

}  // namespace cdcm

#endif
