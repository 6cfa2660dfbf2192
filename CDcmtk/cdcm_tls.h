/* Internal TLS helpers shared by the gate, the transport and the SCU: the context behind
 * cdcm_tls_context, a peer certificate's identity, and why a handshake failed. */
#ifndef CDCM_TLS_H
#define CDCM_TLS_H

#include "include/CDcmtk_tls.h"

#include <openssl/ssl.h>
#include <string>

struct cdcm_tls_context {
    SSL_CTX *ctx = nullptr;  /* one reference of our own; SSL objects made from it hold theirs */
    bool acceptor = false;
    ~cdcm_tls_context() {
        if (ctx != nullptr) SSL_CTX_free(ctx);
    }
};

namespace cdcm {

/* The identity of a verified peer: SHA-256 of its certificate (hex) and its subject (RFC 4514). */
struct PeerIdentity {
    std::string sha256, subject;
};
PeerIdentity peer_identity(SSL *ssl);
PeerIdentity certificate_identity(X509 *cert);

/* Why a handshake failed, in words (certificate verification, protocol version, cipher, I/O);
 * bad_certificate is set when the peer's certificate was missing or did not verify. */
std::string handshake_failure(SSL *ssl, int ssl_error, bool &bad_certificate);

}  // namespace cdcm

#endif
