/* Transport layers: TCP connections that set TCP_NODELAY and re-arm TCP_QUICKACK after each read,
 * and, for the acceptor, connections that first replay the A-ASSOCIATE-RQ the gate already read. */
#include "cdcm_internal.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

class QuickAckConnection : public DcmTCPConnection {
public:
    explicit QuickAckConnection(DcmNativeSocketType s) : DcmTCPConnection(s) {
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }

    ssize_t read(void *buf, size_t nbyte) override {
        ssize_t n = DcmTCPConnection::read(buf, nbyte);
        // Linux clears QUICKACK after some ACKs; re-arm it so our ACKs never wait for the delayed-ACK timer.
        int one = 1;
        setsockopt(getSocket(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        return n;
    }
};

/* A connection whose first bytes were read by the acceptor's gate (the whole A-ASSOCIATE-RQ):
 * DCMTK reads them from here, then from the socket as usual. */
class PrefetchedConnection : public QuickAckConnection {
public:
    PrefetchedConnection(DcmNativeSocketType s, std::string prefetched)
        : QuickAckConnection(s), prefetched_(std::move(prefetched)) {}

    ssize_t read(void *buf, size_t nbyte) override {
        if (offset_ < prefetched_.size()) {
            size_t n = std::min(nbyte, prefetched_.size() - offset_);
            memcpy(buf, prefetched_.data() + offset_, n);
            offset_ += n;
            if (offset_ == prefetched_.size()) std::string().swap(prefetched_), offset_ = 0;
            return static_cast<ssize_t>(n);
        }
        return QuickAckConnection::read(buf, nbyte);
    }

    OFBool networkDataAvailable(int timeout) override {
        if (offset_ < prefetched_.size()) return OFTrue;
        return QuickAckConnection::networkDataAvailable(timeout);
    }

    /* DCMTK may poll the raw socket of a "transparent" connection: not while bytes are buffered. */
    OFBool isTransparentConnection() override { return offset_ >= prefetched_.size(); }

private:
    std::string prefetched_;
    size_t offset_ = 0;
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
        return new PrefetchedConnection(openSocket, std::move(staged_));
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
