/* Syslog transports for audit messages: TLS (RFC 5425, OpenSSL) and UDP (RFC 5426) client sockets. */
#include "CAuditTLS.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct cat_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static void say(char *error, size_t size, const char *what, const char *detail) {
    if (error && size) snprintf(error, size, "%s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
}

/* OpenSSL's queued errors as one line (the last one is the most specific). */
static void say_ssl(char *error, size_t size, const char *what) {
    char buffer[256] = "";
    unsigned long code, last = 0;
    while ((code = ERR_get_error()) != 0) last = code;
    if (last) ERR_error_string_n(last, buffer, sizeof buffer);
    say(error, size, what, buffer);
}

/* Writes on a socket whose peer has gone raise SIGPIPE for the writing thread: keep it blocked on
   this (the audit sender's own) thread and discard any that is pending after a failed write. */
static void block_sigpipe(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void discard_sigpipe(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0) {}
}

static int wait_fd(int fd, short events, int timeout_ms) {
    struct pollfd p = {fd, events, 0};
    int r;
    do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
    return r;
}

static int tcp_connect(const char *host, int port, int timeout_ms, char *error, size_t size) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) { say(error, size, "cannot resolve the collector's address", gai_strerror(rc)); return -1; }
    int fd = -1;
    char reason[128] = "no address";
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) { snprintf(reason, sizeof reason, "%s", strerror(errno)); continue; }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, timeout_ms) > 0) {
            int soerr = 0;
            socklen_t len = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            if (soerr == 0) break;
            snprintf(reason, sizeof reason, "%s", strerror(soerr));
        } else {
            snprintf(reason, sizeof reason, "%s", errno == EINPROGRESS ? "timed out" : strerror(errno));
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0) { say(error, size, "cannot connect to the collector", reason); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

cat_conn *cat_connect(const char *host, int port, const char *trusted, const char *certificate, const char *private_key,
                      int timeout_ms, char *error, size_t error_size) {
    block_sigpipe();
    ERR_clear_error();
    cat_conn *c = calloc(1, sizeof *c);
    if (!c) { say(error, error_size, "out of memory", NULL); return NULL; }
    c->fd = -1;
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) { say_ssl(error, error_size, "cannot create a TLS context"); goto fail; }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    {
        const char *file = NULL, *dir = NULL;
        int is_dir = 0;
        int probe = open(trusted, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (probe >= 0) { is_dir = 1; close(probe); }
        if (is_dir) dir = trusted; else file = trusted;
        if (SSL_CTX_load_verify_locations(c->ctx, file, dir) != 1) {
            say_ssl(error, error_size, "cannot read the trusted CA certificates");
            goto fail;
        }
    }
    if (certificate && *certificate) {
        if (SSL_CTX_use_certificate_chain_file(c->ctx, certificate) != 1) {
            say_ssl(error, error_size, "cannot read the client certificate");
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(c->ctx, private_key && *private_key ? private_key : certificate, SSL_FILETYPE_PEM) != 1
            || SSL_CTX_check_private_key(c->ctx) != 1) {
            say_ssl(error, error_size, "cannot use the client private key");
            goto fail;
        }
    }
    c->fd = tcp_connect(host, port, timeout_ms, error, error_size);
    if (c->fd < 0) goto fail;
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) { say_ssl(error, error_size, "cannot create a TLS session"); goto fail; }
    {
        unsigned char ip[16];
        X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
        if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
            X509_VERIFY_PARAM_set1_ip_asc(param, host);
        } else {
            X509_VERIFY_PARAM_set1_host(param, host, 0);
            SSL_set_tlsext_host_name(c->ssl, host);
        }
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1) break;
        int why = SSL_get_error(c->ssl, r);
        if ((why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE)
            && wait_fd(c->fd, why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout_ms) > 0) continue;
        long verify = SSL_get_verify_result(c->ssl);
        if (verify != X509_V_OK) {
            say(error, error_size, "the collector's certificate was not accepted", X509_verify_cert_error_string(verify));
        } else if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
            say(error, error_size, "TLS handshake with the collector timed out", NULL);
        } else {
            say_ssl(error, error_size, "TLS handshake with the collector failed");
        }
        goto fail;
    }
    return c;
fail:
    discard_sigpipe();
    cat_close(c);
    return NULL;
}

int cat_write(cat_conn *c, const void *data, size_t length, int timeout_ms, char *error, size_t error_size) {
    const unsigned char *p = data;
    while (length > 0) {
        ERR_clear_error();
        int chunk = length > (1u << 30) ? (1 << 30) : (int)length;
        int r = SSL_write(c->ssl, p, chunk);
        if (r > 0) { p += r; length -= (size_t)r; continue; }
        int why = SSL_get_error(c->ssl, r);
        if ((why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE)
            && wait_fd(c->fd, why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout_ms) > 0) continue;
        if (why == SSL_ERROR_SYSCALL) say(error, error_size, "writing to the collector failed", strerror(errno));
        else say_ssl(error, error_size, "writing to the collector failed");
        discard_sigpipe();
        return -1;
    }
    return 0;
}

int cat_alive(cat_conn *c) {
    if (!c || c->fd < 0) return 0;
    if (wait_fd(c->fd, POLLIN, 0) == 0) return 1;
    /* Readable: a collector sends nothing on RFC 5425, so this is close_notify, EOF, a reset,
       or a TLS 1.3 session ticket (read and discarded, then still alive). */
    unsigned char buffer[512];
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(c->ssl, buffer, sizeof buffer);
        if (r > 0) { if (wait_fd(c->fd, POLLIN, 0) == 0) return 1; continue; }
        int why = SSL_get_error(c->ssl, r);
        return why == SSL_ERROR_WANT_READ ? 1 : 0;
    }
}

void cat_close(cat_conn *c) {
    if (!c) return;
    if (c->ssl) {
        if (c->fd >= 0) SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) close(c->fd);
    if (c->ctx) SSL_CTX_free(c->ctx);
    discard_sigpipe();
    free(c);
}

int cat_udp_connect(const char *host, int port, char *error, size_t error_size) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) { say(error, error_size, "cannot resolve the collector's address", gai_strerror(rc)); return -1; }
    int fd = -1;
    for (struct addrinfo *a = list; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0) say(error, error_size, "cannot open a UDP socket to the collector", strerror(errno));
    return fd;
}

int cat_udp_send(int fd, const void *data, size_t length, char *error, size_t error_size) {
    ssize_t r;
    do { r = send(fd, data, length, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
    if (r == (ssize_t)length) return 0;
    say(error, error_size, "sending to the collector failed", r < 0 ? strerror(errno) : "datagram truncated");
    return -1;
}
