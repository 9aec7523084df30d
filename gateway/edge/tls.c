/* Transport: the TLS 1.3 listener.  Client certificates are required and
 * verified against the configured CA; ALPN must select h2.  Everything above
 * the TLS bufferevent belongs to h2.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "auth/identity.h"
#include "config/ca.h"
#include "config/config.h"
#include "gateway/edge/accept.h"
#include "gateway/gateway.h"
#include "gateway/edge/edge.h"
#include "gateway/sdnotify.h"
#include "h2/bulk.h"
#include "relay/err.h"
#include "relay/log.h"

static void ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0) {
		snprintf(buf, len, "unknown OpenSSL error");
		return;
	}
	ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* ALPN: h2 or nothing -- a client that cannot speak HTTP/2 gets a TLS alert
 * instead of a connection that fails later in a confusing way. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
		if (in[i] == 2 && i + 3 <= inlen && memcmp(in + i + 1, "h2", 2) == 0) {
			*out = in + i + 1;
			*outlen = 2;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The identity source travels in the SSL_CTX's app data (the enum + 1), so that
 * jg_edge_tls_peer_identity keeps its (ssl, buf, len) signature. */
static enum jg_identity_source ctx_identity_source(SSL_CTX *ctx)
{
	uintptr_t v = (uintptr_t)SSL_CTX_get_app_data(ctx);

	return v == 0 ? JG_IDENTITY_CN : (enum jg_identity_source)(v - 1);
}

/* OpenSSL's own handshake error says only "certificate verify failed": name the reason
 * (expired, revoked, unknown CA) here, where it is known.  The leaf must also carry the
 * part the identity is taken from. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *cert = X509_STORE_CTX_get_current_cert(xs);
	char subject[256] = "?", id[256];
	int depth = X509_STORE_CTX_get_error_depth(xs);

	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	if (!ok) {
		int e = X509_STORE_CTX_get_error(xs);

		/* The CRL's fault, not the certificate's: OpenSSL would tell the client its
		 * certificate expired (the alert for both), and send its holder for a new one. */
		if (e == X509_V_ERR_CRL_HAS_EXPIRED || e == X509_V_ERR_CRL_NOT_YET_VALID ||
		    e == X509_V_ERR_UNABLE_TO_GET_CRL) {
			jg_log_error("client certificate %s refused: the gateway's CRL is unusable "
				     "(%s): every client is refused until the CRL is renewed "
				     "(`jumpgated cert crl` where the CA key is; the start-up log "
				     "names the file)",
				     subject,
				     e == X509_V_ERR_UNABLE_TO_GET_CRL
					 ? "it has no list from the CA that issued this certificate"
					 : X509_verify_cert_error_string(e));
			X509_STORE_CTX_set_error(xs,
						 X509_V_ERR_UNSPECIFIED); /* alert internal_error */
			return 0;
		}
		jg_log_warn("client certificate %s (depth %d) rejected: %s", subject, depth,
			    X509_verify_cert_error_string(e));
		return 0;
	}
	if (depth == 0 && ssl != NULL &&
	    jg_identity_from_cert(cert, ctx_identity_source(SSL_get_SSL_CTX(ssl)), id,
				  sizeof(id)) != 0) {
		jg_log_warn("client certificate %s rejected: %s (identity = \"%s\")", subject, id,
			    jg_identity_source_name(ctx_identity_source(SSL_get_SSL_CTX(ssl))));
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

int jg_edge_tls_server_ctx(const struct jg_config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
	char why[256], crlbuf[4096];
	SSL_CTX *ctx;
	STACK_OF(X509_NAME) * names;
	const char *crl = jg_ca_crl_file(cfg, crlbuf, sizeof(crlbuf));

	*out = NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "cannot create TLS context: %s", why);
		return JG_ERR_TLS;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "server certificate %s: %s", cfg->cert_file, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "server key %s: %s", cfg->key_file, why);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "client CA %s: %s", cfg->ca_file, why);
		goto fail;
	}
	names = SSL_load_client_CA_file(cfg->ca_file);
	if (names != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	if (crl != NULL && jg_identity_load_crl(ctx, crl, err, errlen) != 0)
		goto fail;
	SSL_CTX_set_app_data(ctx, (void *)((uintptr_t)cfg->identity + 1));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return JG_ERR_TLS;
}

void jg_edge_tls_peer_identity(SSL *ssl, char *buf, size_t len)
{
	jg_identity_from_cert(SSL_get0_peer_certificate(ssl),
			      ctx_identity_source(SSL_get_SSL_CTX(ssl)), buf, len);
}

static void format_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "unknown");
	}
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct jg_gateway *gw = arg;
	char peer[80];
	SSL *ssl;
	struct bufferevent *bev;
	int one = 1;

	format_peer(sa, peer, sizeof(peer));
	if (gw->draining) {
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(gw->ssl_ctx);
	if (ssl == NULL) {
		jg_log_error("connection from %s dropped: cannot allocate TLS state", peer);
		evutil_closesocket(fd);
		return;
	}
	bev = jg_h2bulk_tls_new(gw->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING);
	if (bev == NULL) {
		jg_log_error("connection from %s dropped: cannot create TLS bufferevent", peer);
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	jg_h2conn_accept(gw, bev, peer);
}

static void on_listen_error(struct evconnlistener *lst, void *arg)
{
	struct jg_gateway *gw = arg;

	/* EMFILE and friends: paused a moment, logged once per interval (accept.h). */
	jg_accept_guard_error(gw->tls_guard, EVUTIL_SOCKET_ERROR());
}

/* The listener is up: its guard, and its error callback. */
static int guard_listener(struct jg_gateway *gw, char *err, size_t errlen)
{
	if ((gw->tls_guard = jg_accept_guard_new(gw->base, gw->listener, "TLS listener")) == NULL) {
		evconnlistener_free(gw->listener);
		gw->listener = NULL;
		snprintf(err, errlen, "out of memory");
		return JG_ERR_NOMEM;
	}
	evconnlistener_set_error_cb(gw->listener, on_listen_error);
	return 0;
}

int jg_edge_tls_listen(struct jg_gateway *gw, char *err, size_t errlen)
{
	const struct jg_config *cfg = gw->cfg;
	struct evutil_addrinfo hints, *ai = NULL;
	char port[8];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", (unsigned)cfg->listen_port);
	r = evutil_getaddrinfo(cfg->listen_host, port, &hints, &ai);
	if (r != 0 || ai == NULL) {
		snprintf(err, errlen, "listen address %s: %s", cfg->listen_host,
			 evutil_gai_strerror(r));
		return JG_ERR_IO;
	}
	gw->listener = evconnlistener_new_bind(gw->base, on_accept, gw,
					       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						   LEV_OPT_CLOSE_ON_EXEC,
					       128, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (gw->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", cfg->listen_host,
			 (unsigned)cfg->listen_port, strerror(errno));
		return JG_ERR_IO;
	}
	return guard_listener(gw, err, errlen);
}

/* Socket activation (jumpgated.socket): FD is already bound and listening. */
int jg_edge_tls_listen_fd(struct jg_gateway *gw, int fd, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char where[80] = "?";

	/* Non-blocking, or the listener's accept loop would block the event loop;
	 * close-on-exec, or agents would inherit it. */
	if (evutil_make_socket_nonblocking(fd) != 0 || evutil_make_socket_closeonexec(fd) != 0) {
		snprintf(err, errlen, "inherited socket fd %d: %s", fd, strerror(errno));
		return JG_ERR_IO;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		format_peer((struct sockaddr *)&ss, where, sizeof(where));
	gw->listener = evconnlistener_new(gw->base, on_accept, gw,
					  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (gw->listener == NULL) {
		snprintf(err, errlen, "cannot serve the inherited socket fd %d (%s): %s", fd, where,
			 strerror(errno));
		return JG_ERR_IO;
	}
	if (guard_listener(gw, err, errlen) != 0)
		return JG_ERR_NOMEM;
	jg_log_info("socket activation: serving the inherited socket %s (fd %d); the "
		    "configured listen address is not bound",
		    where, fd);
	return 0;
}
