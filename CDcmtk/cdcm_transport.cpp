/* Transport layers: TCP connections that set TCP_NODELAY and re-arm TCP_QUICKACK after each read,
 * optionally over TLS, and, for the acceptor, connections that first replay the A-ASSOCIATE-RQ the
 * gate already read (and, over TLS, continue the session the gate's handshake opened). */
#include "cdcm_internal.h"
#include "cdcm_limits.h"
#include "cdcm_tls.h"
#include "dcmtk/dcmnet/dulstruc.h"

#include <map>
#include <memory>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace {

/* Largest P-DATA-TF PDU re-framed: the largest PDU DCMTK accepts (bigger ones pass through
 * unchanged, and DCMTK refuses them itself). */
constexpr size_t kMaxReframedPDU = ASC_MAXIMUMPDUSIZE + 100;

/* Command sets are flat and small (PS3.7 9.3): DCMTK parses them as they arrive, so a nested
 * "command" must be stopped here. */
cdcm_limits command_limits() {
    cdcm_limits l{};
    l.max_sequence_depth = 1;
    l.max_elements = 256;
    l.max_value_length = 65536;
    l.max_total_bytes = 1 << 20;
    return l;
}

/* Every data set DCMTK may parse (query answers, retrieve identifiers, as well as what the
 * services check more strictly with the configured limits): a crash guard, far above any
 * configurable limit (256) and far below what a thread's stack allows. */
cdcm_limits guard_limits() {
    cdcm_limits l{};
    l.max_sequence_depth = 512;
    l.max_elements = 10000000;
    l.max_value_length = 1LL << 62;
    l.max_total_bytes = 0;
    return l;
}

/* A TCP connection that sets TCP_NODELAY, re-arms TCP_QUICKACK after each read, and hands DCMTK
 * every P-DATA-TF PDU as PDUs of one PDV each: DCMTK 3.6.7's DUL_NextPDV mishandles a PDU that
 * carries several PDVs in some layouts (a remote crash; storescp dies on the same bytes). The
 * standard makes the two framings the same message (PS3.8 9.3.5). A PDU whose PDV items do not
 * add up to its length ends the connection as a network error. `prefetched`: bytes the acceptor's
 * gate already read (a whole A-ASSOCIATE-RQ), served first. */
class QuickAckConnection : public DcmTCPConnection {
public:
    /* `ssl`: a TLS session over the socket, owned from now on (the gate's, handshake done; or a
     * client's, whose handshake clientSideHandshake does). */
    explicit QuickAckConnection(DcmNativeSocketType s, std::string prefetched = std::string(), SSL *ssl = nullptr,
                                int handshake_timeout = 30)
        : DcmTCPConnection(s), ssl_(ssl), handshake_timeout_(handshake_timeout), out_(std::move(prefetched)) {
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }

    ~QuickAckConnection() override {
        if (ssl_ != nullptr) SSL_free(ssl_);
    }

    /* Client side: the TLS handshake over the connected (blocking) socket, within the timeout. */
    OFCondition clientSideHandshake() override {
        if (ssl_ == nullptr) return DcmTCPConnection::clientSideHandshake();
        struct timeval tv = {handshake_timeout_, 0}, none = {0, 0};
        setsockopt(getSocket(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(getSocket(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ERR_clear_error();
        SSL_set_fd(ssl_, getSocket());
        int r = SSL_connect(ssl_);
        setsockopt(getSocket(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
        setsockopt(getSocket(), SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
        if (r != 1) {
            bool bad_certificate = false;
            handshake_error_ = cdcm::handshake_failure(ssl_, SSL_get_error(ssl_, r), bad_certificate);
            return makeDcmnetCondition(DULC_TLSERROR, OF_error, ("TLS handshake failed: " + handshake_error_).c_str());
        }
        identity_ = cdcm::peer_identity(ssl_);
        return EC_Normal;
    }

    ssize_t write(void *buf, size_t nbyte) override {
        if (ssl_ == nullptr) return DcmTCPConnection::write(buf, nbyte);
        size_t done = 0;
        while (done < nbyte) {
            ERR_clear_error();
            int n = SSL_write(ssl_, static_cast<char *>(buf) + done, static_cast<int>(std::min<size_t>(nbyte - done, 1 << 30)));
            if (n <= 0) {
                int e = SSL_get_error(ssl_, n);
                if ((e == SSL_ERROR_SYSCALL && errno == EINTR) || e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) continue;
                errno = EPIPE;
                return done > 0 ? static_cast<ssize_t>(done) : -1;
            }
            done += static_cast<size_t>(n);
        }
        return static_cast<ssize_t>(done);
    }

    void close() override {
        if (ssl_ != nullptr && !closed_) SSL_shutdown(ssl_);  // close_notify, without waiting for the peer's
        closed_ = true;
        DcmTCPConnection::close();
    }

    unsigned long getPeerCertificateLength() override { return 0; }
    unsigned long getPeerCertificate(void *, unsigned long) override { return 0; }

    bool secure() const { return ssl_ != nullptr; }
    const cdcm::PeerIdentity &identity() const { return identity_; }
    void set_identity(cdcm::PeerIdentity identity) { identity_ = std::move(identity); }
    const std::string &handshake_error() const { return handshake_error_; }

    ssize_t read(void *buf, size_t nbyte) override {
        if (nbyte == 0) return 0;
        if (out_pos_ < out_.size()) return serve(buf, nbyte);
        if (passthrough_ > 0) {
            ssize_t n = socket_read(buf, std::min<size_t>(nbyte, passthrough_));
            if (n > 0) passthrough_ -= static_cast<size_t>(n);
            return n;
        }
        char chunk[65536];
        ssize_t n = socket_read(chunk, sizeof(chunk));
        if (n <= 0) return n;
        in_.append(chunk, static_cast<size_t>(n));
        if (!reframe()) {
            errno = ECONNRESET;
            return -1;
        }
        if (out_pos_ < out_.size()) return serve(buf, nbyte);
        // Only part of a PDU so far: DCMTK waits for more data (with its timeout) and reads again.
        errno = EINTR;
        return -1;
    }

    OFBool networkDataAvailable(int timeout) override {
        if (out_pos_ < out_.size()) return OFTrue;
        if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return OFTrue;  // decrypted already, nothing on the socket
        return DcmTCPConnection::networkDataAvailable(timeout);
    }

    /* Never polled behind our back: bytes may be waiting here, not on the socket. */
    OFBool isTransparentConnection() override { return OFFalse; }

    /* The accepted presentation contexts' encodings, once negotiated: data PDVs are then walked
     * by the crash guard too. */
    void set_encodings(std::map<int, cdcm::DatasetEncoding> encodings) { encodings_ = std::move(encodings); }

private:
    ssize_t socket_read(void *buf, size_t nbyte) {
        ssize_t n = ssl_ != nullptr ? tls_read(buf, nbyte) : DcmTCPConnection::read(buf, nbyte);
        // Linux clears QUICKACK after some ACKs; re-arm it so our ACKs never wait for the delayed-ACK timer.
        int one = 1;
        setsockopt(getSocket(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        return n;
    }

    ssize_t tls_read(void *buf, size_t nbyte) {
        for (;;) {
            ERR_clear_error();
            int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(nbyte, 1 << 30)));
            if (n > 0) return n;
            int e = SSL_get_error(ssl_, n);
            if (e == SSL_ERROR_ZERO_RETURN) return 0;
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
            if (e == SSL_ERROR_SYSCALL && errno == EINTR) continue;
            if (e == SSL_ERROR_SYSCALL && n == 0) return 0;  // closed without close_notify
            errno = ECONNRESET;
            return -1;
        }
    }

    ssize_t serve(void *buf, size_t nbyte) {
        size_t n = std::min(nbyte, out_.size() - out_pos_);
        memcpy(buf, out_.data() + out_pos_, n);
        out_pos_ += n;
        if (out_pos_ == out_.size()) {
            out_.clear();
            out_pos_ = 0;
        }
        return static_cast<ssize_t>(n);
    }

    static uint32_t be32(const unsigned char *p) {
        return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
    }

    /* Moves every complete PDU from in_ to out_, P-DATA-TF split into one PDV per PDU; a PDU too
     * large to re-frame, or of another type, starts a pass-through. False when a P-DATA-TF's PDV
     * items are malformed. */
    bool reframe() {
        size_t at = 0;
        while (in_.size() - at >= 6 && passthrough_ == 0) {
            const unsigned char *h = reinterpret_cast<const unsigned char *>(in_.data()) + at;
            size_t length = be32(h + 2);
            if (h[0] != 0x04 || length > kMaxReframedPDU) {
                size_t whole = 6 + length;
                size_t have = std::min(whole, in_.size() - at);
                out_.append(in_, at, have);
                at += have;
                passthrough_ = whole - have;
                continue;
            }
            if (in_.size() - at < 6 + length) break;
            size_t pos = at + 6, end = at + 6 + length;
            if (pos == end) return false;  // a P-DATA-TF without any PDV
            while (pos < end) {
                if (end - pos < 4) return false;
                size_t item = be32(reinterpret_cast<const unsigned char *>(in_.data()) + pos);
                if (item < 2 || item > end - pos - 4) return false;
                uint32_t pdu_length = static_cast<uint32_t>(item + 4);
                const unsigned char header[6] = {0x04, 0x00, static_cast<unsigned char>(pdu_length >> 24),
                                                 static_cast<unsigned char>(pdu_length >> 16),
                                                 static_cast<unsigned char>(pdu_length >> 8),
                                                 static_cast<unsigned char>(pdu_length)};
                if (!guard(reinterpret_cast<const unsigned char *>(in_.data()) + pos + 4, item)) return false;
                out_.append(reinterpret_cast<const char *>(header), 6);
                out_.append(in_, pos, item + 4);
                pos += item + 4;
            }
            at = end;
        }
        in_.erase(0, at);
        return true;
    }

    /* One PDV (presentation context id, control header, fragment) through the guards. False:
     * a command set that is not flat and small, or a data set nested past the guard. */
    bool guard(const unsigned char *pdv, size_t length) {
        const int pcid = pdv[0];
        const bool command = (pdv[1] & 0x01) != 0, last = (pdv[1] & 0x02) != 0;
        const unsigned char *fragment = pdv + 2;
        const size_t n = length - 2;
        if (command) {
            if (!command_) {
                static const cdcm_limits limits = command_limits();
                command_.reset(new cdcm::DatasetLimitScanner(&limits, cdcm::DatasetEncoding::ImplicitLittle));
            }
            if (!command_->feed(fragment, n)) return false;
            if (last) {
                bool ok = command_->finish().kind == CDCM_LIMIT_OK;
                command_.reset();
                if (!ok) return false;
            }
            return true;
        }
        auto encoding = encodings_.find(pcid);
        if (encoding != encodings_.end() && !data_unscanned_) {
            if (!data_) {
                static const cdcm_limits limits = guard_limits();
                data_.reset(new cdcm::DatasetLimitScanner(&limits, encoding->second));
            }
            if (!data_->feed(fragment, n)) {
                int kind = data_->verdict().kind;
                if (kind == CDCM_LIMIT_DEPTH || kind == CDCM_LIMIT_ELEMENTS) return false;
                data_unscanned_ = true;  // not walkable here: the service's own check decides
                data_.reset();
            }
        }
        if (last) {
            bool ok = !data_ || data_->finish().kind != CDCM_LIMIT_DEPTH;
            data_.reset();
            data_unscanned_ = false;
            if (!ok) return false;
        }
        return true;
    }

    std::map<int, cdcm::DatasetEncoding> encodings_;
    std::unique_ptr<cdcm::DatasetLimitScanner> command_, data_;
    bool data_unscanned_ = false;

    SSL *ssl_ = nullptr;
    int handshake_timeout_ = 30;
    bool closed_ = false;
    cdcm::PeerIdentity identity_;
    std::string handshake_error_;

    std::string out_;         /* bytes ready for DCMTK */
    size_t out_pos_ = 0;
    std::string in_;          /* the start of a PDU not yet complete */
    size_t passthrough_ = 0;  /* bytes of a PDU passed through unchanged still to come */
};

class QuickAckLayer : public DcmTransportLayer {
public:
    DcmTransportConnection *createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) override {
        if (useSecureLayer) return nullptr;
        return new QuickAckConnection(openSocket);
    }
};

/* Outbound associations over TLS: each connection a QuickAckConnection with a client session of
 * the context; DCMTK calls clientSideHandshake when the association parameters ask for TLS. */
class TLSClientLayer : public DcmTransportLayer {
public:
    TLSClientLayer(SSL_CTX *ctx, int timeout) : ctx_(ctx), timeout_(timeout) { SSL_CTX_up_ref(ctx_); }
    ~TLSClientLayer() override { SSL_CTX_free(ctx_); }
    DcmTransportConnection *createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) override {
        if (!useSecureLayer) return new QuickAckConnection(openSocket);
        SSL *ssl = SSL_new(ctx_);
        if (ssl == nullptr) return nullptr;
        SSL_set_connect_state(ssl);
        return new QuickAckConnection(openSocket, std::string(), ssl, timeout_);
    }

private:
    SSL_CTX *ctx_;
    int timeout_;
};

QuickAckConnection *connection_of(T_ASC_Association *assoc) {
    if (assoc == nullptr || assoc->DULassociation == nullptr) return nullptr;
    PRIVATE_ASSOCIATIONKEY *key = reinterpret_cast<PRIVATE_ASSOCIATIONKEY *>(assoc->DULassociation);
    return dynamic_cast<QuickAckConnection *>(key->connection);
}

}  // namespace

namespace cdcm {

DcmTransportLayer *tls_client_layer(cdcm_tls_context *ctx, int handshake_timeout) {
    return new TLSClientLayer(ctx->ctx, handshake_timeout);
}

bool association_peer(T_ASC_Association *assoc, bool &secure, PeerIdentity &identity) {
    QuickAckConnection *c = connection_of(assoc);
    if (c == nullptr) return false;
    secure = c->secure();
    identity = c->identity();
    return true;
}

DcmTransportLayer *quickack_transport_layer() {
    // Stateless and shared by every network object; never freed (networks do not own it).
    static QuickAckLayer layer;
    return &layer;
}

DcmTransportConnection *AcceptorLayer::createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) {
    if (useSecureLayer) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    if (staged_fd_ >= 0 && openSocket == staged_fd_) {
        staged_fd_ = -1;
        QuickAckConnection *c = new QuickAckConnection(openSocket, std::move(staged_), staged_ssl_);
        if (staged_ssl_ != nullptr) c->set_identity(std::move(staged_identity_));
        staged_ssl_ = nullptr;
        return c;
    }
    return new QuickAckConnection(openSocket);
}

void AcceptorLayer::stage(int fd, std::string bytes, SSL *ssl, PeerIdentity identity) {
    std::lock_guard<std::mutex> lock(mutex_);
    staged_fd_ = fd;
    staged_ = std::move(bytes);
    staged_ssl_ = ssl;
    staged_identity_ = std::move(identity);
}

bool AcceptorLayer::unstage() {
    std::lock_guard<std::mutex> lock(mutex_);
    bool unused = staged_fd_ >= 0;
    staged_fd_ = -1;
    std::string().swap(staged_);
    if (staged_ssl_ != nullptr) SSL_free(staged_ssl_);
    staged_ssl_ = nullptr;
    return unused;
}

void arm_transport_guard(T_ASC_Association *assoc) {
    if (assoc == nullptr || assoc->params == nullptr) return;
    QuickAckConnection *connection = connection_of(assoc);
    if (connection == nullptr) return;
    std::map<int, DatasetEncoding> encodings;
    int count = ASC_countPresentationContexts(assoc->params);
    for (int i = 0; i < count; i++) {
        T_ASC_PresentationContext pc;
        if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
        if (pc.resultReason != ASC_P_ACCEPTANCE) continue;
        encodings[pc.presentationContextID] = encoding_for_transfer_syntax(pc.acceptedTransferSyntax);
    }
    connection->set_encodings(std::move(encodings));
}

}  // namespace cdcm
