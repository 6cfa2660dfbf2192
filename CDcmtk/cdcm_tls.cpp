/* DICOM TLS contexts (cdcm_tls_context) built with DCMTK's DcmTLSTransportLayer for its BCP 195
 * profiles, with every file checked first so a bad one is named with what is wrong with it. */
#include "cdcm_internal.h"
#include "cdcm_tls.h"
#include "dcmtk/dcmtls/tlslayer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

namespace {

std::string openssl_error() {
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0) return "no further detail";
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    return text;
}

/* Exists and is readable: otherwise the reason, naming the file and the setting. */
bool check_readable(const char *what, const char *path, bool directory_ok, std::string &error) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        error = std::string(what) + " " + path + ": " + (errno == ENOENT ? "no such file" : strerror(errno));
        return false;
    }
    if (S_ISDIR(sb.st_mode)) {
        if (directory_ok) return true;
        error = std::string(what) + " " + path + " is a directory, not a file";
        return false;
    }
    FILE *f = fopen(path, "rb");
    if (f == nullptr) {
        error = std::string(what) + " " + path + " cannot be read: " + strerror(errno);
        return false;
    }
    fclose(f);
    return true;
}

X509 *read_certificate(const char *path, std::string &error, const char *what) {
    FILE *f = fopen(path, "rb");
    if (f == nullptr) {
        error = std::string(what) + " " + path + " cannot be read: " + strerror(errno);
        return nullptr;
    }
    X509 *cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    fclose(f);
    if (cert == nullptr) error = std::string(what) + " " + path + " holds no PEM certificate (" + openssl_error() + ")";
    return cert;
}

std::string time_text(const ASN1_TIME *t) {
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
    char text[64];
    strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

/* The certificate is within its validity period. */
bool check_validity(X509 *cert, const char *path, std::string &error) {
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        error = std::string("certificate ") + path + " expired on " + time_text(X509_get0_notAfter(cert)) +
                ": install a renewed certificate";
        return false;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
        error = std::string("certificate ") + path + " is not valid before " + time_text(X509_get0_notBefore(cert)) +
                " (check the clock)";
        return false;
    }
    return true;
}

bool nonempty(const char *s) { return s != nullptr && *s != '\0'; }

}  // namespace

namespace cdcm {

PeerIdentity certificate_identity(X509 *cert) {
    PeerIdentity id;
    if (cert == nullptr) return id;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) == 1) {
        static const char hex[] = "0123456789abcdef";
        for (unsigned int i = 0; i < len; i++) {
            id.sha256 += hex[md[i] >> 4];
            id.sha256 += hex[md[i] & 0x0F];
        }
    }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != nullptr) {
        X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
        char *data = nullptr;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data != nullptr) id.subject.assign(data, static_cast<size_t>(n));
        BIO_free(bio);
    }
    return id;
}

PeerIdentity peer_identity(SSL *ssl) {
    X509 *cert = SSL_get1_peer_certificate(ssl);
    PeerIdentity id = certificate_identity(cert);
    if (cert != nullptr) X509_free(cert);
    return id;
}

std::string handshake_failure(SSL *ssl, int ssl_error, bool &bad_certificate) {
    bad_certificate = false;
    long verify = SSL_get_verify_result(ssl);
    unsigned long e = ERR_peek_last_error();
    std::string reason;
    if (e != 0) {
        const char *r = ERR_reason_error_string(e);
        reason = r != nullptr ? r : "TLS error";
        if (ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
            bad_certificate = true;
            reason = "the peer sent no certificate";
        }
    }
    ERR_clear_error();
    if (verify != X509_V_OK && (e == 0 || ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)) {
        bad_certificate = true;
        return std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
    }
    if (!reason.empty()) return reason;
    if (ssl_error == SSL_ERROR_SYSCALL) return "connection closed or reset during the TLS handshake";
    if (ssl_error == SSL_ERROR_ZERO_RETURN) return "connection closed during the TLS handshake";
    return "TLS handshake failed";
}

}  // namespace cdcm

extern "C" cdcm_tls_context *cdcm_tls_context_create(const cdcm_tls_config *cfg, cdcm_status *st) {
    cdcm::status_clear(st);
    if (cfg == nullptr || !nonempty(cfg->trusted)) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "TLS needs a trusted CA certificate file or directory (trusted)");
        return nullptr;
    }
    if (cfg->acceptor && (!nonempty(cfg->certificate) || !nonempty(cfg->private_key))) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "a TLS listener needs a certificate and a private key");
        return nullptr;
    }
    if (nonempty(cfg->certificate) != nonempty(cfg->private_key)) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "a TLS certificate and its private key go together: give both or neither");
        return nullptr;
    }
    try {
        std::string error;
        ERR_clear_error();
        // Each file checked first, so the message names it and says what is wrong.
        if (nonempty(cfg->certificate)) {
            if (!check_readable("certificate", cfg->certificate, false, error) ||
                !check_readable("private key", cfg->private_key, false, error)) {
                cdcm::status_set(st, CDCM_ERR_FILE, error);
                return nullptr;
            }
            X509 *cert = read_certificate(cfg->certificate, error, "certificate");
            if (cert == nullptr) {
                cdcm::status_set(st, CDCM_ERR_FILE, error);
                return nullptr;
            }
            bool valid = check_validity(cert, cfg->certificate, error);
            X509_free(cert);
            if (!valid) {
                cdcm::status_set(st, CDCM_ERR_FILE, error);
                return nullptr;
            }
        }
        if (!check_readable("trusted", cfg->trusted, true, error) ||
            (nonempty(cfg->crl) && !check_readable("crl", cfg->crl, false, error))) {
            cdcm::status_set(st, CDCM_ERR_FILE, error);
            return nullptr;
        }
        DcmTLSTransportLayer layer(cfg->acceptor ? NET_ACCEPTOR : NET_REQUESTOR, nullptr, OFTrue);
        if (nonempty(cfg->certificate)) {
            if (layer.setPrivateKeyFile(cfg->private_key, DCF_Filetype_PEM).bad()) {
                cdcm::status_set(st, CDCM_ERR_FILE, std::string("private key ") + cfg->private_key +
                                                         " is not an unencrypted PEM private key (" + openssl_error() + ")");
                return nullptr;
            }
            if (layer.setCertificateFile(cfg->certificate, DCF_Filetype_PEM).bad()) {
                cdcm::status_set(st, CDCM_ERR_FILE, std::string("certificate ") + cfg->certificate + " cannot be used (" +
                                                         openssl_error() + ")");
                return nullptr;
            }
            // DCMTK 3.6.7 ignores a mismatch when it loads them: check it here.
            if (!layer.checkPrivateKeyMatchesCertificate()) {
                ERR_clear_error();
                cdcm::status_set(st, CDCM_ERR_FILE, std::string("private key ") + cfg->private_key +
                                                         " does not belong to certificate " + cfg->certificate);
                return nullptr;
            }
        }
        struct stat sb;
        OFCondition cond = (stat(cfg->trusted, &sb) == 0 && S_ISDIR(sb.st_mode))
                               ? layer.addTrustedCertificateDir(cfg->trusted, DCF_Filetype_PEM)
                               : layer.addTrustedCertificateFile(cfg->trusted, DCF_Filetype_PEM);
        if (cond.bad()) {
            cdcm::status_set(st, CDCM_ERR_FILE, std::string("trusted ") + cfg->trusted +
                                                     " holds no PEM CA certificate (" + openssl_error() + ")");
            return nullptr;
        }
        if (nonempty(cfg->crl)) {
            if (layer.addCertificateRevocationList(cfg->crl, DCF_Filetype_PEM).bad() ||
                layer.setCRLverification(TCR_checkLeafCRL).bad()) {
                cdcm::status_set(st, CDCM_ERR_FILE, std::string("crl ") + cfg->crl + " holds no PEM certificate revocation list (" +
                                                         openssl_error() + ")");
                return nullptr;
            }
        }
        DcmTLSSecurityProfile profile =
            cfg->profile == CDCM_TLS_BCP195_EXTENDED ? TSP_Profile_BCP195_Extended : TSP_Profile_BCP195_ND;
        if (layer.setTLSProfile(profile).bad() || layer.activateCipherSuites().bad()) {
            cdcm::status_set(st, CDCM_ERR_INTERNAL, "cannot set the TLS profile (" + openssl_error() + ")");
            return nullptr;
        }
        layer.setCertificateVerification(cfg->acceptor && !cfg->require_peer_certificate ? DCV_checkCertificate
                                                                                         : DCV_requireCertificate);
        SSL_CTX *ctx = layer.getNativeHandle();
        if (ctx == nullptr || SSL_CTX_up_ref(ctx) != 1) {
            cdcm::status_set(st, CDCM_ERR_INTERNAL, "no TLS context");
            return nullptr;
        }
        if (cfg->acceptor) {
            static const unsigned char sid[] = "dicom-gateway";
            SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
            // No TLS 1.3 session tickets: a client that only polls for DICOM data would see them as data.
            SSL_CTX_set_num_tickets(ctx, 0);
        }
        // Non-blocking handshakes in the gate write partially; blocking connections retry themselves.
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
        cdcm_tls_context *out = new cdcm_tls_context();
        out->ctx = ctx;
        out->acceptor = cfg->acceptor != 0;
        return out;  // the layer's destructor drops its reference; ours keeps the context
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_tls_context_create");
        return nullptr;
    }
}

extern "C" void cdcm_tls_context_free(cdcm_tls_context *ctx) { delete ctx; }

extern "C" int cdcm_certificate_file_info(const char *path, cdcm_certificate_info *info, cdcm_status *st) {
    cdcm::status_clear(st);
    if (path == nullptr || info == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no certificate file");
        return -1;
    }
    std::string error;
    X509 *cert = read_certificate(path, error, "certificate");
    if (cert == nullptr) {
        cdcm::status_set(st, CDCM_ERR_FILE, error);
        return -1;
    }
    cdcm::PeerIdentity id = cdcm::certificate_identity(cert);
    cdcm::copy_string(info->sha256, sizeof(info->sha256), id.sha256.c_str());
    cdcm::copy_string(info->subject, sizeof(info->subject), id.subject.c_str());
    time_t end = 0;
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) end = timegm(&tm);
    info->not_after = static_cast<long long>(end);
    X509_free(cert);
    return 0;
}
