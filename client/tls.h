/* The client's TLS: the context it connects with, and words for what went wrong.
 *
 * The gateway is authenticated by its certificate, which must chain to the CA
 * file and name the host or IP we dialled; we are authenticated by our client
 * certificate.  TLS 1.3 only, ALPN h2 only. */
#ifndef JG_CLIENT_TLS_H
#define JG_CLIENT_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct bufferevent;
struct jg_client;

/* Check the certificate, key and CA files and build the context.  NULL on failure, after
 * printing a message that names the file at fault. */
SSL_CTX *jg_tls_client_ctx(const struct jg_client *c);

/* A new SSL for one connection to c->host: SNI (for names), and the host-name or IP check
 * on the server certificate.  NULL on failure (message printed). */
SSL *jg_tls_client_ssl(const struct jg_client *c, SSL_CTX *ctx);

/* A TLS alert still unread on SSL's socket, as an OpenSSL error code, or 0.  For a write
 * that failed because the gateway closed: its alert (why it closed) may be waiting. */
unsigned long jg_tls_pending_alert(SSL *ssl);

/* Explain a failed TLS connection for a person, into BUF (no "jumpgate: " prefix).
 * SSL may be NULL; SSL_ERR is the most telling OpenSSL error (0 for none), SYS_ERR an
 * errno value (0 for none), EOF non-zero when the peer closed the connection, and
 * HANDSHAKE non-zero when the handshake had not completed yet. */
void jg_tls_explain(const struct jg_client *c, SSL *ssl, unsigned long ssl_err, int sys_err,
		    int eof, int handshake, char *buf, size_t len);

/* The connection on BEV (TLS, or plain on a Unix socket) ended with the bufferevent event
 * WHAT (EOF or ERROR, perhaps WRITING), HANDSHAKE non-zero while TLS had not completed: the
 * most telling OpenSSL error queued on BEV for jg_tls_explain(), a gateway's alert first
 * (one still unread behind a reset our write ran into is read), or 0.  A system error in
 * the queue replaces *SYS_ERR (errno as the event came). */
unsigned long jg_tls_event_error(struct bufferevent *bev, short what, int handshake, int *sys_err);

#endif
