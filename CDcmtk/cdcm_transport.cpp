/* Transport layers: TCP connections that set TCP_NODELAY and re-arm TCP_QUICKACK after each read,
 * and, for the acceptor, connections that first replay the A-ASSOCIATE-RQ the gate already read. */
#include "cdcm_internal.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

/* Largest P-DATA-TF PDU re-framed (bigger ones pass through unchanged, for DCMTK's own checks). */
constexpr size_t kMaxReframedPDU = 4u << 20;

/* A TCP connection that sets TCP_NODELAY, re-arms TCP_QUICKACK after each read, and hands DCMTK
 * every P-DATA-TF PDU as PDUs of one PDV each: DCMTK 3.6.7's DUL_NextPDV mishandles a PDU that
 * carries several PDVs in some layouts (a remote crash; storescp dies on the same bytes). The
 * standard makes the two framings the same message (PS3.8 9.3.5). A PDU whose PDV items do not
 * add up to its length ends the connection as a network error. `prefetched`: bytes the acceptor's
 * gate already read (a whole A-ASSOCIATE-RQ), served first. */
class QuickAckConnection : public DcmTCPConnection {
public:
    explicit QuickAckConnection(DcmNativeSocketType s, std::string prefetched = std::string())
        : DcmTCPConnection(s), out_(std::move(prefetched)) {
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }

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
        return DcmTCPConnection::networkDataAvailable(timeout);
    }

    /* Never polled behind our back: bytes may be waiting here, not on the socket. */
    OFBool isTransparentConnection() override { return OFFalse; }

private:
    ssize_t socket_read(void *buf, size_t nbyte) {
        ssize_t n = DcmTCPConnection::read(buf, nbyte);
        // Linux clears QUICKACK after some ACKs; re-arm it so our ACKs never wait for the delayed-ACK timer.
        int one = 1;
        setsockopt(getSocket(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        return n;
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
                out_.append(reinterpret_cast<const char *>(header), 6);
                out_.append(in_, pos, item + 4);
                pos += item + 4;
            }
            at = end;
        }
        in_.erase(0, at);
        return true;
    }

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

}  // namespace

namespace cdcm {

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
        return new QuickAckConnection(openSocket, std::move(staged_));
    }
    return new QuickAckConnection(openSocket);
}

void AcceptorLayer::stage(int fd, std::string bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    staged_fd_ = fd;
    staged_ = std::move(bytes);
}

bool AcceptorLayer::unstage() {
    std::lock_guard<std::mutex> lock(mutex_);
    bool unused = staged_fd_ >= 0;
    staged_fd_ = -1;
    std::string().swap(staged_);
    return unused;
}

}  // namespace cdcm
