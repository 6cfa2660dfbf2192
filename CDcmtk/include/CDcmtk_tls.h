/* CDcmtk TLS: DICOM TLS contexts (PS3.15 Annex B, BCP 195) for the listener and for outbound
 * associations, over DCMTK's dcmtls and OpenSSL. No OpenSSL or DCMTK type crosses this header. */
#ifndef CDCMTK_TLS_H
#define CDCMTK_TLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cdcm_status;

typedef enum cdcm_tls_profile {
    CDCM_TLS_BCP195_ND = 0,        /* TLS 1.2 and 1.3, four ECDHE/DHE-RSA AES-GCM suites (DCMTK TSP_Profile_BCP195_ND) */
    CDCM_TLS_BCP195_EXTENDED = 1   /* TLS 1.2 only, adds ECDSA suites (TSP_Profile_BCP195_Extended) */
} cdcm_tls_profile;

typedef struct cdcm_tls_config {
    int acceptor;                  /* 1: the listener's context; 0: for associations we open */
    const char *certificate;       /* PEM certificate (chain) presented to peers; NULL or "" for none (clients only) */
    const char *private_key;       /* PEM private key of the certificate, unencrypted */
    const char *trusted;           /* PEM CA certificate file, or a directory of them (c_rehash'ed or not) */
    const char *crl;               /* optional PEM certificate revocation list of the trusted CA(s) */
    int profile;                   /* cdcm_tls_profile */
    int require_peer_certificate;  /* listener: 1 a client certificate is required; 0 verified if presented */
} cdcm_tls_config;

/** A TLS context: certificate, key, trust store and profile, checked at creation (file missing,
 *  not PEM, expired or not yet valid, key not matching the certificate: st says which file and
 *  what). Shared by many connections; free it only after every user (server, association) is gone. */
typedef struct cdcm_tls_context cdcm_tls_context;
cdcm_tls_context *cdcm_tls_context_create(const cdcm_tls_config *cfg, struct cdcm_status *st);
void cdcm_tls_context_free(cdcm_tls_context *ctx);

/** A certificate's SHA-256 (lower-case hex of the DER), subject (RFC 4514 string) and validity end
 *  (Unix seconds), read from a PEM file; 0 on success. */
typedef struct cdcm_certificate_info {
    char sha256[65];
    char subject[512];
    long long not_after;
} cdcm_certificate_info;
int cdcm_certificate_file_info(const char *path, cdcm_certificate_info *info, struct cdcm_status *st);

#ifdef __cplusplus
}
#endif

#endif
