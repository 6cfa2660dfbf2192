/* Types shared by the SCP acceptor (cdcm_scp.cpp) and the association handler (cdcm_scp_assoc.cpp). */
#ifndef CDCM_SCP_INTERNAL_H
#define CDCM_SCP_INTERNAL_H

#include "cdcm_internal.h"
#include "cdcm_scp_gate.h"

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <thread>

struct cdcm_scp;

namespace cdcm {

/* One accepted TCP connection, negotiated and served on its own thread. */
struct ScpWorker {
    cdcm_scp *scp = nullptr;
    T_ASC_Association *assoc = nullptr;
    uint64_t id = 0;
    std::thread thread;
    std::atomic<bool> finished{false};
    std::string calling_ae, called_ae, peer_host;
    bool tls = false;
    PeerIdentity peer;
    DIC_US next_message_id = 0x8000;   /* for C-GET sub-operations we originate */
    unsigned long store_sequence = 0;

    cdcm_assoc_info info() const {
        return cdcm_assoc_info{id, calling_ae.c_str(), called_ae.c_str(), peer_host.c_str(), tls ? 1 : 0,
                               peer.sha256.c_str(), peer.subject.c_str()};
    }
    void run();    /* serve(), with every exception contained */
    void serve();  /* negotiate, then serve DIMSE commands until release/abort/stop */
};

bool scp_stopping(const cdcm_scp *scp);
/* True once the grace period after stop has elapsed: abort whatever is still running. */
bool scp_grace_expired(const cdcm_scp *scp);

}  // namespace cdcm

struct cdcm_scp {
    std::string bind_address, temp_dir;
    int port = 0;
    int max_associations = 32;
    uint32_t max_pdu = ASC_DEFAULTMAXPDU;
    int acse_timeout = 30;
    int dimse_timeout = 60;
    cdcm_scp_handlers handlers{};
    cdcm::GateSettings gate;
    cdcm_limits limits{};
    cdcm::AcceptorLayer layer;         /* outlives net, which does not own it */
    std::mutex tls_mutex;
    cdcm_tls_context *tls = nullptr;   /* not owned: the caller keeps it until replaced or freed */
    int tls_listen_fd = -1;            /* the TLS listener (net's own socket when there is no plain one) */
    bool plain = true;                 /* a plain listener exists (net's socket) */
    T_ASC_Network *net = nullptr;

    std::atomic<bool> stopping{false};
    std::atomic<long long> grace_deadline_ms{0};
    std::atomic<int> active{0};
    std::atomic<uint64_t> next_id{1};
    std::mutex workers_mutex;
    std::list<cdcm::ScpWorker *> workers;
};

#endif
