/* The acceptor's gate: accepts TCP connections and reads each one's A-ASSOCIATE-RQ without
 * blocking, many at once, so an idle or dripping connection costs nobody else any time. */
#ifndef CDCM_SCP_GATE_H
#define CDCM_SCP_GATE_H

#include "cdcm_tls.h"

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace cdcm {

struct GateSettings {
    int request_timeout_ms = 5000;     /* whole A-ASSOCIATE-RQ within this, from accept */
    int max_pending_per_address = 32;  /* a newer connection closes its address's oldest one */
    int max_pending = 512;             /* in all; a newer connection closes the oldest one */
    size_t max_request_bytes = 256 * 1024;
};

/* A connection whose complete A-ASSOCIATE-RQ PDU has been read; the socket is blocking again. */
struct ReadyConnection {
    int fd = -1;
    std::string bytes;    /* the whole PDU, header included */
    std::string address;  /* peer IP address */
    SSL *ssl = nullptr;   /* over TLS: the session, handshake done (owned by whoever holds this) */
    PeerIdentity peer;    /* over TLS: the peer's verified certificate, if it sent one */
};

/* A TLS handshake that failed or never finished, for the log and the audit trail. */
struct TLSFailure {
    std::string address, reason, subject;
    bool bad_certificate;
};

class AssociationGate {
public:
    AssociationGate(int listen_fd, GateSettings settings);
    /* Another listening socket whose connections are TLS: the gate does each handshake without
     * blocking, within the same deadline as the A-ASSOCIATE-RQ, with a session of the context
     * `context()` gives at accept time (a reference the gate releases). */
    void add_tls_listener(int listen_fd, std::function<SSL_CTX *()> context,
                          std::function<void(const TLSFailure &)> on_failure);
    ~AssociationGate();
    AssociationGate(const AssociationGate &) = delete;
    AssociationGate &operator=(const AssociationGate &) = delete;

    /* Waits at most wait_ms for a connection whose A-ASSOCIATE-RQ is complete. */
    bool next(int wait_ms, ReadyConnection &out);
    size_t pending() const { return pending_.size(); }

private:
    struct Pending {
        int fd;
        std::string address;
        long long deadline_ms;
        std::string buf;
        bool fresh;  /* accepted in this round: try to read its request at once */
        SSL *ssl = nullptr;
        bool handshaken = false;
        bool want_write = false;  /* TLS needs the socket writable to go on */
        PeerIdentity peer;
    };
    void accept_all(int listen_fd, bool tls, long long now);
    /* Over TLS: false when the handshake failed (connection closed and reported). */
    bool handshake(Pending &p);
    void drop(Pending &p);
    void tls_failed(Pending &p, const std::string &reason, bool bad_certificate);
    /* false when the connection is finished with (closed or moved to ready_). */
    bool read_from(Pending &p);
    void close_pending(size_t index, int reason);
    void report(long long now);

    int listen_fd_;
    int tls_listen_fd_ = -1;
    std::function<SSL_CTX *()> tls_context_;
    std::function<void(const TLSFailure &)> on_tls_failure_;
    int reserve_fd_;   /* a spare descriptor, given up to accept-and-close when out of descriptors */
    GateSettings settings_;
    std::vector<Pending> pending_;
    std::deque<ReadyConnection> ready_;
    /* Closed connections by reason since the last report, for one log line every 10 s at most. */
    enum { kTimeout, kNotAnRQ, kTooLarge, kEvicted, kHandshake, kReasons };
    long long closed_[kReasons] = {0, 0, 0, 0, 0};
    std::string last_address_;
    long long last_report_ms_ = 0;
};

}  // namespace cdcm

#endif
