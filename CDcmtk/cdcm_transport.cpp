/* A DcmTransportLayer whose TCP connections set TCP_NODELAY and re-arm TCP_QUICKACK after each read. */
#include "cdcm_internal.h"

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

}  // namespace cdcm
