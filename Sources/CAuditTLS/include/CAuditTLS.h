/* A syslog-over-TLS client connection (RFC 5425) for audit messages, over OpenSSL: blocking calls
   for the audit sender's own thread. No OpenSSL type crosses this header. */
#ifndef CAUDITTLS_H
#define CAUDITTLS_H

#include <stddef.h>

typedef struct cat_conn cat_conn;

/* Connects to host:port (TCP, timeout_ms for connect and handshake), then TLS 1.2 or later,
   verifying the server's certificate against `trusted` (a CA file, or a directory of hashed CA
   certificates) and that it names `host` (DNS name or IP address). `certificate` and `private_key`
   (PEM files) are the client's, or NULL. Returns NULL with a message in `error` on failure. */
cat_conn *cat_connect(const char *host, int port, const char *trusted, const char *certificate, const char *private_key,
                      int timeout_ms, char *error, size_t error_size);

/* Writes all `length` bytes (timeout_ms per blocking wait). 0 on success, -1 with a message. */
int cat_write(cat_conn *conn, const void *data, size_t length, int timeout_ms, char *error, size_t error_size);

/* 1 while the peer has neither closed the connection nor reset it (checked without blocking);
   0 when the next write would be lost, so the caller reconnects first. */
int cat_alive(cat_conn *conn);

/* Closes the connection (close_notify, then the socket) and frees it; NULL is ignored. */
void cat_close(cat_conn *conn);

/* Connects a UDP socket to host:port (RFC 5426); returns the descriptor or -1 with a message. */
int cat_udp_connect(const char *host, int port, char *error, size_t error_size);

/* Sends one datagram on a connected UDP socket; 0 on success, -1 with a message (e.g. the
   collector's port was unreachable when the previous datagram arrived). */
int cat_udp_send(int fd, const void *data, size_t length, char *error, size_t error_size);

#endif
