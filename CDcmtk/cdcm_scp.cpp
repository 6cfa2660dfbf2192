/* SCP acceptor: binds the port, receives association requests, enforces the association limit
 * and runs each association on a thread of its own (DcmSCPPool leaks a thread per association in 3.6.7). */
#include "cdcm_scp_internal.h"
#include "cdcm_scp_gate.h"
#include "cdcm_limits.h"

#include <arpa/inet.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dcmtk/dcmnet/dulstruc.h"
#include "dcmtk/dcmnet/diutil.h"

namespace {

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters rej = {result, source, reason};
    ASC_rejectAssociation(assoc, &rej);
}

void reap(cdcm_scp *scp, bool all) {
    std::list<cdcm::ScpWorker *> done;
    {
        std::lock_guard<std::mutex> lock(scp->workers_mutex);
        for (auto it = scp->workers.begin(); it != scp->workers.end();) {
            if (all || (*it)->finished.load()) {
                done.push_back(*it);
                it = scp->workers.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (cdcm::ScpWorker *w : done) {
        if (w->thread.joinable()) w->thread.join();
        delete w;
    }
}

bool all_interfaces(const char *address) {
    return address == nullptr || *address == '\0' || strcmp(address, "0.0.0.0") == 0 || strcmp(address, "::") == 0;
}

/* A listening IPv4 socket on address (all interfaces when empty) and port; -1 with error. */
int listen_socket(const char *address, int port, std::string &error) {
    struct in_addr ip;
    ip.s_addr = htonl(INADDR_ANY);
    if (!all_interfaces(address) && inet_pton(AF_INET, address, &ip) != 1) {
        error = std::string("bind address ") + address + " is not an IPv4 address";
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        error = std::string("cannot create a socket: ") + strerror(errno);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr = ip;
    if (bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0 || listen(fd, 64) != 0) {
        error = std::string("cannot listen on ") + (all_interfaces(address) ? "*" : address) + ":" + std::to_string(port) +
                ": " + strerror(errno) + (errno == EADDRINUSE ? " (in use)" : "");
        close(fd);
        return -1;
    }
    return fd;
}

/* DCMTK 3.6.7 listens on every interface. To honour a configured address, replace its listening
 * socket with one bound to that IPv4 address and port. "", "0.0.0.0" and "::" keep all interfaces. */
bool rebind(cdcm_scp *scp, const char *address, std::string &error) {
    if (all_interfaces(address)) return true;
    PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(scp->net->network);
    int port = cdcm_scp_port(scp);
    close(key->networkSpecific.TCP.listenSocket);
    key->networkSpecific.TCP.listenSocket = listen_socket(address, port, error);
    return key->networkSpecific.TCP.listenSocket >= 0;
}

int socket_port(int fd) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) return -1;
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in *>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6 *>(&addr)->sin6_port);
    return -1;
}

}  // namespace

namespace cdcm {

bool scp_stopping(const cdcm_scp *scp) { return scp->stopping.load(); }

bool scp_grace_expired(const cdcm_scp *scp) {
    return scp->stopping.load() && now_ms() >= scp->grace_deadline_ms.load();
}

}  // namespace cdcm

extern "C" cdcm_scp *cdcm_scp_create(const cdcm_scp_config *cfg, const cdcm_scp_handlers *handlers,
                                     cdcm_status *st) {
    cdcm::status_clear(st);
    if (cfg == nullptr || handlers == nullptr || cfg->port < (cfg->tls != nullptr ? -1 : 0) || cfg->port > 65535 ||
        cfg->temp_dir == nullptr || (cfg->tls != nullptr && (cfg->tls_port < 0 || cfg->tls_port > 65535 || !cfg->tls->acceptor))) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "invalid SCP configuration (port, TLS port and context, temporary directory)");
        return nullptr;
    }
    cdcm_scp *scp = nullptr;
    try {
        scp = new cdcm_scp();
        scp->bind_address = cfg->bind_address ? cfg->bind_address : "";
        scp->temp_dir = cfg->temp_dir;
        scp->port = cfg->port;
        scp->max_associations = cfg->max_associations > 0 ? cfg->max_associations : 32;
        scp->max_pdu = cfg->max_pdu > 0 ? cfg->max_pdu : ASC_DEFAULTMAXPDU;
        scp->acse_timeout = cfg->acse_timeout > 0 ? cfg->acse_timeout : 30;
        scp->dimse_timeout = cfg->dimse_timeout > 0 ? cfg->dimse_timeout : 60;
        scp->handlers = *handlers;
        if (cfg->association_request_timeout_ms > 0) scp->gate.request_timeout_ms = cfg->association_request_timeout_ms;
        if (cfg->max_pending_per_address > 0) scp->gate.max_pending_per_address = cfg->max_pending_per_address;
        if (cfg->max_pending > 0) scp->gate.max_pending = cfg->max_pending;
        scp->limits = cfg->limits;
        // The scanner's first use builds its tables (15-20 ms): at start, not in the first C-STORE.
        { cdcm::DatasetLimitScanner warm(&scp->limits, "1.2.840.10008.1.2"); warm.finish(); }
        // The gate (cdcm_scp_gate.cpp) reads each A-ASSOCIATE-RQ before DCMTK sees the connection.
        // Without a plain listener, DCMTK's own socket is the TLS one.
        scp->plain = cfg->port >= 0;
        scp->tls = cfg->tls;
        const int first_port = scp->plain ? cfg->port : cfg->tls_port;
        OFCondition cond = ASC_initializeNetwork(NET_ACCEPTOR, first_port, std::min(scp->acse_timeout, 5), &scp->net);
        if (cond.bad()) {
            cdcm::status_from_condition(st, cond, std::string("cannot listen on DICOM ") + (scp->plain ? "" : "TLS ") +
                                                      "port " + std::to_string(first_port) +
                                                      " (in use, or needs privileges below 1024)");
            st->kind = CDCM_ERR_NETWORK;
            delete scp;
            return nullptr;
        }
        ASC_setTransportLayer(scp->net, &scp->layer, 0);
        std::string rebind_error;
        if (!rebind(scp, cfg->bind_address, rebind_error)) {
            cdcm::status_set(st, CDCM_ERR_NETWORK, rebind_error);
            ASC_dropNetwork(&scp->net);
            delete scp;
            return nullptr;
        }
        if (scp->tls != nullptr) {
            PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(scp->net->network);
            scp->tls_listen_fd = scp->plain ? listen_socket(cfg->bind_address, cfg->tls_port, rebind_error)
                                            : key->networkSpecific.TCP.listenSocket;
            if (scp->tls_listen_fd < 0) {
                cdcm::status_set(st, CDCM_ERR_NETWORK, "DICOM TLS listener: " + rebind_error);
                ASC_dropNetwork(&scp->net);
                delete scp;
                return nullptr;
            }
        }
        return scp;
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_scp_create");
        delete scp;
        return nullptr;
    }
}

extern "C" int cdcm_scp_port(cdcm_scp *scp);

extern "C" int cdcm_scp_port(cdcm_scp *scp) {
    if (scp == nullptr || scp->net == nullptr) return -1;
    PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(scp->net->network);
    int port = socket_port(key->networkSpecific.TCP.listenSocket);
    return port >= 0 ? port : scp->port;
}

extern "C" int cdcm_scp_tls_port(cdcm_scp *scp) {
    if (scp == nullptr || scp->tls == nullptr) return -1;
    return socket_port(scp->tls_listen_fd);
}

extern "C" int cdcm_scp_set_tls(cdcm_scp *scp, cdcm_tls_context *tls) {
    if (scp == nullptr || tls == nullptr || !tls->acceptor || scp->tls_listen_fd < 0) return -1;
    std::lock_guard<std::mutex> lock(scp->tls_mutex);
    scp->tls = tls;
    return 0;
}

static int run_acceptor(cdcm_scp *scp);

extern "C" int cdcm_scp_run(cdcm_scp *scp, cdcm_status *st) {
    cdcm::status_clear(st);
    if (scp == nullptr || scp->net == nullptr) {
        cdcm::status_set(st, CDCM_ERR_INVALID, "no SCP");
        return -1;
    }
    try {
        return run_acceptor(scp);
    } catch (...) {
        cdcm::status_from_exception(st, "cdcm_scp_run");
        scp->stopping.store(true);
        try {
            reap(scp, true);
        } catch (...) {
        }
        return -1;
    }
}

/* DCMTK reads dcmExternalSocketHandle (a process-wide global) instead of calling accept(): one
 * acceptor at a time may hand it a socket. */
static std::mutex external_socket_mutex;

static int run_acceptor(cdcm_scp *scp) {
    PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(scp->net->network);
    cdcm::AssociationGate gate(scp->plain ? key->networkSpecific.TCP.listenSocket : -1, scp->gate);
    if (scp->tls_listen_fd >= 0) {
        gate.add_tls_listener(
            scp->tls_listen_fd,
            [scp]() -> SSL_CTX * {
                std::lock_guard<std::mutex> lock(scp->tls_mutex);
                if (scp->tls == nullptr || SSL_CTX_up_ref(scp->tls->ctx) != 1) return nullptr;
                return scp->tls->ctx;
            },
            [scp](const cdcm::TLSFailure &f) {
                if (scp->handlers.on_tls_failure)
                    scp->handlers.on_tls_failure(scp->handlers.ctx, f.address.c_str(), f.reason.c_str(), f.subject.c_str(),
                                                 f.bad_certificate ? 1 : 0);
            });
    }
    while (!scp->stopping.load()) {
        cdcm::ReadyConnection ready;
        bool got = false;
        try {
            got = gate.next(250, ready);
        } catch (...) {
            got = false;
        }
        reap(scp, false);
        if (!got) continue;
        const bool was_tls = ready.ssl != nullptr;
        // The whole A-ASSOCIATE-RQ is buffered: DCMTK takes the socket and reads it without waiting.
        T_ASC_Association *assoc = nullptr;
        OFCondition cond = EC_Normal;
        {
            std::lock_guard<std::mutex> lock(external_socket_mutex);
            scp->layer.stage(ready.fd, std::move(ready.bytes), ready.ssl, ready.peer);
            ready.ssl = nullptr;  // the stage owns it now
            dcmExternalSocketHandle.set(ready.fd);
            try {
                cond = ASC_receiveAssociation(scp->net, &assoc, scp->max_pdu, nullptr, nullptr, OFFalse, DUL_NOBLOCK, 1);
            } catch (...) {
                cond = ASC_NULLKEY;
            }
            dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
            if (scp->layer.unstage()) close(ready.fd);  // DCMTK never took it
        }
        if (cond.bad()) {
            // Not a valid association request after all (bad items, wrong protocol version).
            if (assoc != nullptr) {
                ASC_dropAssociation(assoc);
                ASC_destroyAssociation(&assoc);
            }
            continue;
        }
        if (assoc == nullptr) continue;
        if (assoc->params == nullptr || assoc->params->DULparams.applicationContextName[0] == '\0') {
            // A connection that closed without an association request (health check, port probe).
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
            continue;
        }
        if (scp->stopping.load()) {
            reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                   ASC_REASON_SP_PRES_TEMPORARYCONGESTION);
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
            break;
        }
        if (scp->active.load() >= scp->max_associations) {
            reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                   ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
            DCMNET_WARN("association from " << OFString(assoc->params->DULparams.callingAPTitle)
                                            << " rejected: limit of " << scp->max_associations
                                            << " concurrent associations reached");
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
            continue;
        }
        cdcm::ScpWorker *w = new cdcm::ScpWorker();
        w->scp = scp;
        w->assoc = assoc;
        w->id = scp->next_id.fetch_add(1);
        w->tls = was_tls;
        w->peer = std::move(ready.peer);
        scp->active.fetch_add(1);
        {
            std::lock_guard<std::mutex> lock(scp->workers_mutex);
            scp->workers.push_back(w);
        }
        try {
            w->thread = std::thread([w] {
                w->run();
                w->scp->active.fetch_sub(1);
                w->finished.store(true);
            });
        } catch (...) {
            // Could not start a thread: refuse, as if busy.
            reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                   ASC_REASON_SP_PRES_TEMPORARYCONGESTION);
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&w->assoc);
            scp->active.fetch_sub(1);
            w->finished.store(true);
        }
    }
    reap(scp, true);
    return 0;
}


extern "C" void cdcm_scp_stop(cdcm_scp *scp, int grace_seconds) {
    if (scp == nullptr) return;
    if (grace_seconds < 0) grace_seconds = 0;
    // A later stop may shorten the grace period (e.g. a second SIGTERM, or cancellation), never extend it.
    long long deadline = now_ms() + 1000LL * grace_seconds;
    long long current = scp->grace_deadline_ms.load();
    if (!scp->stopping.load() || deadline < current) scp->grace_deadline_ms.store(deadline);
    scp->stopping.store(true);
}

extern "C" int cdcm_scp_active_associations(cdcm_scp *scp) { return scp ? scp->active.load() : 0; }

extern "C" void cdcm_scp_free(cdcm_scp *scp) {
    if (scp == nullptr) return;
    scp->stopping.store(true);
    reap(scp, true);
    if (scp->plain && scp->tls_listen_fd >= 0) close(scp->tls_listen_fd);
    if (scp->net != nullptr) ASC_dropNetwork(&scp->net);
    delete scp;
}
