/* The edge: where controllers' connections arrive (DESIGN.md, "the gateway's layers").
 * tls.c listens on TCP and runs the TLS 1.3 handshake, unixsock.c listens on the Unix
 * socket (h2c, prior knowledge), h2.c keeps each connection and h2session.c its
 * nghttp2 server session, which hands each request whose headers are complete to
 * admission (jg_api_route, gateway/admission/api.h).  This header is main.c's view of
 * the edge; operations see only a request's stream (gateway/stream.h). */
#ifndef JG_GATEWAY_EDGE_EDGE_H
#define JG_GATEWAY_EDGE_EDGE_H

#include <stddef.h>

#include <openssl/ssl.h>

struct bufferevent;
struct jg_config;
struct jg_gateway;

/* --- tls.c: transport ----------------------------------------------------- */

/* Build the server SSL_CTX: TLS 1.3 only, ALPN h2, client certificates required and
 * verified against cfg->ca_file. 0 or JG_ERR_TLS with the reason in ERR. */
int jg_edge_tls_server_ctx(const struct jg_config *cfg, SSL_CTX **out, char *err, size_t errlen);
/* Start listening on cfg->listen_host:listen_port. 0 or JG_ERR_IO with the reason in ERR. */
int jg_edge_tls_listen(struct jg_gateway *gw, char *err, size_t errlen);
/* The controller's identity from the peer's certificate into BUF: the part chosen by the
 * configuration's `identity` (kept in the SSL_CTX's app data by jg_edge_tls_server_ctx). */
void jg_edge_tls_peer_identity(SSL *ssl, char *buf, size_t len);

/* --- unixsock.c: the local listener (h2c, prior knowledge) -------------- */

/* Listen on cfg->unix_socket (mode 0660) when set; 0 when unset. 0 or JG_ERR_IO
 * with the reason in ERR. */
int jg_unix_listen(struct jg_gateway *gw, char *err, size_t errlen);
/* Stop listening (SIGTERM); the file stays until jg_unix_close. */
void jg_unix_stop(struct jg_gateway *gw);
/* Stop listening and remove the socket file we created. */
void jg_unix_close(struct jg_gateway *gw);

/* --- h2.c: HTTP/2 sessions ---------------------------------------------- */

/* Take ownership of a connected TLS bufferevent (handshake in progress) from PEER. */
void jg_h2conn_accept(struct jg_gateway *gw, struct bufferevent *bev, const char *peer);
/* Take ownership of a plain (h2c, prior knowledge) bufferevent from PEER whose identity
 * is already known (the Unix socket's peer credentials): the session starts at once. */
void jg_h2conn_accept_plain(struct jg_gateway *gw, struct bufferevent *bev, const char *peer,
			    const char *identity);
/* Connections allowed in their TLS handshake at once: max_handshakes, or (0) a quarter
 * of the descriptor limit. */
size_t jg_h2conn_handshake_limit(const struct jg_gateway *gw);
/* Send GOAWAY on every connection; each closes when its streams end. */
void jg_h2conn_drain_all(struct jg_gateway *gw);
/* Close every connection now (the drain time is up), and those still lingering. */
void jg_h2conn_close_all(struct jg_gateway *gw);

#endif
