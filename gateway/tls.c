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

#include "config/config.h"
#include "gateway/gateway.h"
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

int jg_tls_server_ctx(const struct jg_config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx;
	STACK_OF(X509_NAME) *names;

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
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return JG_ERR_TLS;
}

void jg_tls_peer_identity(SSL *ssl, char *buf, size_t len)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	X509_NAME *name;

	snprintf(buf, len, "(none)");
	if (cert == NULL)
		return;
	name = X509_get_subject_name(cert);
	if (name == NULL || X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)len) < 0)
		snprintf(buf, len, "(no CN)");
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
	bev = bufferevent_openssl_socket_new(gw->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		jg_log_error("connection from %s dropped: cannot create TLS bufferevent", peer);
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	jg_conn_accept(gw, bev, peer);
}

static void on_listen_error(struct evconnlistener *lst, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: keep listening; the next accept may succeed once fds free up. */
	jg_log_error("accept failed: %s", evutil_socket_error_to_string(e));
}

int jg_tls_listen(struct jg_gateway *gw, char *err, size_t errlen)
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
	gw->listener = evconnlistener_new_bind(
		gw->base, on_accept, gw,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128, ai->ai_addr,
		(int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (gw->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", cfg->listen_host,
			 (unsigned)cfg->listen_port, strerror(errno));
		return JG_ERR_IO;
	}
	evconnlistener_set_error_cb(gw->listener, on_listen_error);
	return 0;
}
