/* The acceptor's gate (see cdcm_scp_gate.h): non-blocking accept and A-ASSOCIATE-RQ reading for
 * every waiting connection at once, with a deadline, per-address and total limits. */
#include "cdcm_scp_gate.h"
#include "cdcm_internal.h"
#include "dcmtk/dcmnet/diutil.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string peer_address(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char text[INET6_ADDRSTRLEN] = "";
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return "?";
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(&ss)->sin_addr, text, sizeof(text));
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_addr, text, sizeof(text));
    return text;
}

/* Our ACKs go out at once (TCP_QUICKACK, which Linux clears again as it sees fit, so it is
 * re-armed after every read and handshake step), and our writes are not held back (TCP_NODELAY).
 * Without this a TLS caller whose Nagle is on (pynetdicom, many PACS) stalls 40 ms per handshake:
 * its Finished goes out, our ACK waits for the delayed-ACK timer, and its A-ASSOCIATE-RQ waits
 * for that ACK. Measured: 18 TLS associations/s against 93 plain before this. */
void quick_ack(int fd, bool nodelay = false) {
    const int saved = errno;  // callers read errno of the read before this
    int one = 1;
    if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    errno = saved;
}

const char *reason_text(int reason) {
    switch (reason) {
    case 0: return "sent no complete A-ASSOCIATE-RQ in time";
    case 1: return "sent something other than an A-ASSOCIATE-RQ";
    case 2: return "sent an A-ASSOCIATE-RQ over the size limit";
    case 4: return "failed the TLS handshake";
    default: return "were closed to make room for newer ones (limit of waiting connections)";
    }
}

}  // namespace

namespace cdcm {

AssociationGate::AssociationGate(int listen_fd, GateSettings settings)
    : listen_fd_(listen_fd), reserve_fd_(open("/dev/null", O_RDONLY | O_CLOEXEC)), settings_(settings) {
    int flags = fcntl(listen_fd_, F_GETFL, 0);
    if (flags >= 0) fcntl(listen_fd_, F_SETFL, flags | O_NONBLOCK);
    if (settings_.max_pending < 1) settings_.max_pending = 1;
    if (settings_.max_pending_per_address < 1) settings_.max_pending_per_address = 1;
    pending_.reserve(static_cast<size_t>(settings_.max_pending) + 1);
    last_report_ms_ = now_ms();
}

AssociationGate::~AssociationGate() {
    for (Pending &p : pending_) drop(p);
    for (ReadyConnection &r : ready_) {
        if (r.ssl != nullptr) SSL_free(r.ssl);
        close(r.fd);
    }
    if (reserve_fd_ >= 0) close(reserve_fd_);
}

void AssociationGate::add_tls_listener(int listen_fd, std::function<SSL_CTX *()> context,
                                       std::function<void(const TLSFailure &)> on_failure) {
    tls_listen_fd_ = listen_fd;
    tls_context_ = std::move(context);
    on_tls_failure_ = std::move(on_failure);
    int flags = fcntl(listen_fd, F_GETFL, 0);
    if (flags >= 0) fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
}

void AssociationGate::drop(Pending &p) {
    if (p.ssl != nullptr) SSL_free(p.ssl);
    p.ssl = nullptr;
    if (p.fd >= 0) close(p.fd);
    p.fd = -1;
}

void AssociationGate::tls_failed(Pending &p, const std::string &reason, bool bad_certificate) {
    closed_[kHandshake]++;
    last_address_ = p.address;
    TLSFailure failure{p.address, reason, peer_identity(p.ssl).subject, bad_certificate};
    drop(p);
    if (on_tls_failure_) {
        try {
            on_tls_failure_(failure);
        } catch (...) {
        }
    }
}

void AssociationGate::close_pending(size_t index, int reason) {
    Pending &p = pending_[index];
    if (reason == kTimeout && p.ssl != nullptr && !p.handshaken) {
        tls_failed(p, "no TLS handshake completed within " + std::to_string(settings_.request_timeout_ms) + " ms", false);
    } else {
        closed_[reason]++;
        last_address_ = p.address;
        drop(p);
    }
    pending_.erase(pending_.begin() + static_cast<long>(index));
}

bool AssociationGate::handshake(Pending &p) {
    ERR_clear_error();
    int r = SSL_do_handshake(p.ssl);
    quick_ack(p.fd);
    if (r == 1) {
        p.handshaken = true;
        p.want_write = false;
        p.peer = peer_identity(p.ssl);
        return true;
    }
    int e = SSL_get_error(p.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        p.want_write = e == SSL_ERROR_WANT_WRITE;
        return true;
    }
    if ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) && ERR_peek_error() == 0 && SSL_in_before(p.ssl)) {
        drop(p);  // closed before saying anything (a health check, a port probe)
        return false;
    }
    bool bad_certificate = false;
    std::string reason = handshake_failure(p.ssl, e, bad_certificate);
    tls_failed(p, reason, bad_certificate);
    return false;
}

void AssociationGate::accept_all(int listen_fd, bool tls, long long now) {
    for (;;) {
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if ((errno == EMFILE || errno == ENFILE) && reserve_fd_ >= 0) {
                // Out of descriptors: the oldest waiting connection goes first; with none waiting,
                // use the spare descriptor to accept and close, so the backlog cannot spin us.
                if (!pending_.empty()) {
                    close_pending(0, kEvicted);
                    continue;
                }
                close(reserve_fd_);
                int victim = accept(listen_fd, nullptr, nullptr);
                if (victim >= 0) close(victim);
                reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
                closed_[kEvicted]++;
            } else if (errno == EMFILE || errno == ENFILE) {
                usleep(100000);  // no spare descriptor either: do not spin on a readable listener
            }
            return;  // EAGAIN: nothing more to accept
        }
        if (fd == 0) {
            // DCMTK takes an external socket only when it is > 0: never hand it descriptor 0.
            int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
            close(fd);
            if (moved < 0) continue;
            fcntl(moved, F_SETFL, fcntl(moved, F_GETFL, 0) | O_NONBLOCK);
            fd = moved;
        }
        quick_ack(fd, true);
        std::string address = peer_address(fd);
        // Limits: the oldest waiting connection of the same address, or the oldest of all, makes room.
        size_t same = 0, oldest_same = pending_.size();
        for (size_t i = 0; i < pending_.size(); i++) {
            if (pending_[i].address != address) continue;
            if (same++ == 0) oldest_same = i;
        }
        if (static_cast<int>(same) >= settings_.max_pending_per_address) close_pending(oldest_same, kEvicted);
        else if (static_cast<int>(pending_.size()) >= settings_.max_pending) close_pending(0, kEvicted);
        SSL *ssl = nullptr;
        if (tls) {
            SSL_CTX *ctx = tls_context_ ? tls_context_() : nullptr;
            if (ctx != nullptr) {
                ssl = SSL_new(ctx);
                SSL_CTX_free(ctx);
            }
            if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
                if (ssl != nullptr) SSL_free(ssl);
                close(fd);
                continue;
            }
            SSL_set_accept_state(ssl);
        }
        Pending p{fd, std::move(address), now + settings_.request_timeout_ms, std::string(), true};
        p.ssl = ssl;
        pending_.push_back(std::move(p));
    }
}

bool AssociationGate::read_from(Pending &p) {
    if (p.ssl != nullptr && !p.handshaken) {
        if (!handshake(p)) return false;
        if (!p.handshaken) return true;
    }
    for (;;) {
        size_t want;
        if (p.buf.size() < 6) {
            want = 6 - p.buf.size();
        } else {
            const unsigned char *h = reinterpret_cast<const unsigned char *>(p.buf.data());
            size_t length = (size_t(h[2]) << 24) | (size_t(h[3]) << 16) | (size_t(h[4]) << 8) | size_t(h[5]);
            if (h[0] != 0x01) return closed_[kNotAnRQ]++, last_address_ = p.address, drop(p), false;
            if (length + 6 > settings_.max_request_bytes)
                return closed_[kTooLarge]++, last_address_ = p.address, drop(p), false;
            if (p.buf.size() == length + 6) {
                int flags = fcntl(p.fd, F_GETFL, 0);
                if (flags >= 0) fcntl(p.fd, F_SETFL, flags & ~O_NONBLOCK);
                ready_.push_back(ReadyConnection{p.fd, std::move(p.buf), std::move(p.address), p.ssl, std::move(p.peer)});
                p.ssl = nullptr;
                p.fd = -1;
                return false;
            }
            want = length + 6 - p.buf.size();
        }
        char chunk[16384];
        size_t ask = want < sizeof(chunk) ? want : sizeof(chunk);
        ssize_t n;
        if (p.ssl != nullptr) {
            ERR_clear_error();
            int r = SSL_read(p.ssl, chunk, static_cast<int>(ask));
            if (r <= 0) {
                int e = SSL_get_error(p.ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                    p.want_write = e == SSL_ERROR_WANT_WRITE;
                    return true;
                }
                drop(p);  // closed by the peer, or a TLS error after the handshake
                return false;
            }
            n = r;
        } else {
            n = ::read(p.fd, chunk, ask);
        }
        quick_ack(p.fd);
        if (n > 0) {
            p.buf.append(chunk, static_cast<size_t>(n));
            if (p.buf.size() == 1 && static_cast<unsigned char>(p.buf[0]) != 0x01)
                return closed_[kNotAnRQ]++, last_address_ = p.address, drop(p), false;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        drop(p);  // closed by the peer (a health check, a port probe) or reset
        return false;
    }
}

void AssociationGate::report(long long now) {
    if (now - last_report_ms_ < 10000) return;
    last_report_ms_ = now;
    for (int r = 0; r < kReasons; r++) {
        if (closed_[r] == 0) continue;
        DCMNET_WARN("closed " << closed_[r] << " connection(s) before association that " << reason_text(r)
                              << " (the last from " << last_address_.c_str() << ")");
        closed_[r] = 0;
    }
}

bool AssociationGate::next(int wait_ms, ReadyConnection &out) {
    if (ready_.empty()) {
        long long now = now_ms();
        long long soonest = now + wait_ms;
        for (const Pending &p : pending_) soonest = std::min(soonest, p.deadline_ms);
        std::vector<struct pollfd> fds;
        fds.reserve(pending_.size() + 2);
        fds.push_back({listen_fd_, POLLIN, 0});
        const size_t listeners = tls_listen_fd_ >= 0 ? 2 : 1;
        if (tls_listen_fd_ >= 0) fds.push_back({tls_listen_fd_, POLLIN, 0});
        for (const Pending &p : pending_) fds.push_back({p.fd, static_cast<short>(p.want_write ? POLLOUT : POLLIN), 0});
        int timeout = static_cast<int>(std::max(0LL, soonest - now));
        int n = poll(fds.data(), fds.size(), timeout);
        now = now_ms();
        if (n > 0) {
            // Pending connections first (indices match fds[listeners...]), then new ones.
            std::vector<Pending> still;
            still.reserve(pending_.size() + 1);
            for (size_t i = 0; i < pending_.size(); i++) {
                Pending &p = pending_[i];
                if ((fds[i + listeners].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) != 0) {
                    if (!read_from(p)) continue;
                }
                still.push_back(std::move(p));
            }
            pending_.swap(still);
            bool plain = listen_fd_ >= 0 && (fds[0].revents & POLLIN) != 0;
            bool tls = listeners == 2 && (fds[1].revents & POLLIN) != 0;
            if (plain || tls) {
                if (plain) accept_all(listen_fd_, false, now);
                if (tls) accept_all(tls_listen_fd_, true, now);
                // A request usually arrives with the connection: try the new ones at once.
                std::vector<Pending> kept;
                kept.reserve(pending_.size() + 1);
                for (size_t i = 0; i < pending_.size(); i++) {
                    if (pending_[i].fresh) {
                        pending_[i].fresh = false;
                        if (!read_from(pending_[i])) continue;
                    }
                    kept.push_back(std::move(pending_[i]));
                }
                pending_.swap(kept);
            }
        }
        for (size_t i = 0; i < pending_.size();) {
            if (pending_[i].deadline_ms <= now) close_pending(i, kTimeout);
            else i++;
        }
        report(now);
    }
    if (ready_.empty()) return false;
    out = std::move(ready_.front());
    ready_.pop_front();
    return true;
}

}  // namespace cdcm
