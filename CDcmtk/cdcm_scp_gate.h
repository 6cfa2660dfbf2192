/* The acceptor's gate: accepts TCP connections and reads each one's A-ASSOCIATE-RQ without
 * blocking, many at once, so an idle or dripping connection costs nobody else any time. */
#ifndef CDCM_SCP_GATE_H
#define CDCM_SCP_GATE_H

#include <deque>
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
};

class AssociationGate {
public:
    AssociationGate(int listen_fd, GateSettings settings);
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
    };
    void accept_all(long long now);
    /* false when the connection is finished with (closed or moved to ready_). */
    bool read_from(Pending &p);
    void close_pending(size_t index, int reason);
    void report(long long now);

    int listen_fd_;
    int reserve_fd_;   /* a spare descriptor, given up to accept-and-close when out of descriptors */
    GateSettings settings_;
    std::vector<Pending> pending_;
    std::deque<ReadyConnection> ready_;
    /* Closed connections by reason since the last report, for one log line every 10 s at most. */
    enum { kTimeout, kNotAnRQ, kTooLarge, kEvicted, kReasons };
    long long closed_[kReasons] = {0, 0, 0, 0};
    std::string last_address_;
    long long last_report_ms_ = 0;
};

}  // namespace cdcm

#endif
