/* The client's TLS context, and the messages for TLS failures (with the error that
 * tells most among those OpenSSL queued on a failed connection's bufferevent).
 *
 * Most of this file is about words: a failed mutual-TLS connection is the
 * most common first-run problem, and OpenSSL's own strings ("tlsv13 alert
 * certificate required") do not tell a person which file to fix. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "client/client.h"
#include "client/tls.h"
#include "h2/bulk.h"

/* The first OpenSSL reason (the root cause: later ones are "PEM lib" and the like), or
 * FALLBACK, and clear the queue. */
static const char *ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r != NULL ? r : fallback;
}

/* A file we need must be readable; say which one and where it normally comes from. */
static int check_file(const struct jg_client *c, const char *what, const char *path,
		      const char *how, unsigned bit)
{
	if (access(path, R_OK) == 0)
		return 0;
	if ((c->defaults & bit) != 0)
		jg_client_fail("%s %s: %s (jumpgated generates it on first start in %s; "
			       "or give %s)",
			       what, path, strerror(errno), c->state_dir, how);
	else
		jg_client_fail("%s %s: %s", what, path, strerror(errno));
	return -1;
}

SSL_CTX *jg_tls_client_ctx(const struct jg_client *c)
{
	static const unsigned char alpn[] = {2, 'h', '2'};
	SSL_CTX *ctx = NULL;

	if (check_file(c, "client certificate", c->cert, "--cert or JUMPGATE_CERT",
		       JG_CLIENT_DEFAULT_CERT) != 0 ||
	    check_file(c, "client key", c->key, "--key or JUMPGATE_KEY", JG_CLIENT_DEFAULT_KEY) !=
		0 ||
	    check_file(c, "CA certificate", c->ca, "--ca or JUMPGATE_CA", JG_CLIENT_DEFAULT_CA) !=
		0)
		goto fail;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		jg_client_fail("cannot create a TLS context: %s", ssl_reason("out of memory"));
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		jg_client_fail("cannot require TLS 1.3: %s", ssl_reason("unsupported"));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		jg_client_fail("cannot load client certificate %s: not a PEM certificate (%s)",
			       c->cert, ssl_reason("unreadable"));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			jg_client_fail("client key %s does not belong to certificate %s", c->key,
				       c->cert);
			goto fail;
		}
		jg_client_fail("cannot load client key %s: not an unencrypted PEM private key (%s)",
			       c->key, ssl_reason("unreadable"));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		jg_client_fail("client key %s does not belong to certificate %s", c->key, c->cert);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		jg_client_fail("cannot load CA certificate %s: not a PEM certificate (%s)", c->ca,
			       ssl_reason("unreadable"));
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* SSL_CTX_set_alpn_protos returns 0 on success, unlike the rest of the API. */
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0) {
		jg_client_fail("cannot set ALPN: %s", ssl_reason("out of memory"));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *jg_tls_client_ssl(const struct jg_client *c, SSL_CTX *ctx)
{
	X509_VERIFY_PARAM *param;
	SSL *ssl;
	int is_ip;

	if ((ssl = SSL_new(ctx)) == NULL) {
		jg_client_fail("cannot create a TLS connection: %s", ssl_reason("out of memory"));
		return NULL;
	}
	param = SSL_get0_param(ssl);
	/* An address literal is checked against the IP SANs, a name against the DNS SANs:
	 * the gateway's generated certificate carries both kinds. */
	is_ip = X509_VERIFY_PARAM_set1_ip_asc(param, c->host) == 1;
	ERR_clear_error();
	if (!is_ip) {
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(param, c->host, 0) != 1 ||
		    SSL_set_tlsext_host_name(ssl, c->host) != 1) {
			jg_client_fail("bad gateway host name '%s': %s", c->host,
				       ssl_reason("invalid"));
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

unsigned long jg_tls_pending_alert(SSL *ssl)
{
	unsigned long e;
	char byte;
	int r;

	ERR_clear_error();
	if (SSL_read(ssl, &byte, 1) > 0)
		return 0;
	e = ERR_peek_error();
	r = ERR_GET_REASON(e);
	ERR_clear_error();
	return r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256 ? e : 0;
}

/* Alerts that mean "your certificate was not accepted". */
static int cert_alert(int alert)
{
	switch (alert) {
	case SSL3_AD_BAD_CERTIFICATE:
	case SSL3_AD_UNSUPPORTED_CERTIFICATE:
	case SSL3_AD_CERTIFICATE_REVOKED:
	case SSL3_AD_CERTIFICATE_EXPIRED:
	case SSL3_AD_CERTIFICATE_UNKNOWN:
	case TLS1_AD_UNKNOWN_CA:
	case TLS1_AD_ACCESS_DENIED:
	case TLS1_AD_DECRYPT_ERROR:
		return 1;
	default:
		return 0;
	}
}

void jg_tls_explain(const struct jg_client *c, SSL *ssl, unsigned long ssl_err, int sys_err,
		    int eof, int handshake, char *buf, size_t len)
{
	int reason = ssl_err != 0 ? ERR_GET_REASON(ssl_err) : 0;
	int alert = -1;
	long verify;
	const char *r;

	if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
		alert = reason - SSL_AD_REASON_OFFSET;
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ssl_err = 0; /* a TCP close without close_notify: say it in plain words below */
		eof = 1;
	}
	/* Our own verdict on the server comes first: it is the one the user can fix here. */
	if (handshake && ssl != NULL && (verify = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, len,
			 "TLS handshake with %s failed: server certificate not trusted (%s)",
			 c->gateway, X509_verify_cert_error_string(verify));
		return;
	}
	if (alert == TLS13_AD_CERTIFICATE_REQUIRED) {
		snprintf(buf, len, "the gateway %s requires a client certificate", c->gateway);
		return;
	}
	/* Expired and revoked certificates need a new certificate, not another CA. */
	if (alert == SSL3_AD_CERTIFICATE_EXPIRED) {
		snprintf(buf, len,
			 "the gateway %s rejected our client certificate %s: it has expired (or "
			 "is not valid yet): see its dates with 'openssl x509 -noout -dates -in "
			 "%s' and get a new one",
			 c->gateway, c->cert, c->cert);
		return;
	}
	if (alert == SSL3_AD_CERTIFICATE_REVOKED) {
		snprintf(buf, len,
			 "the gateway %s rejected our client certificate %s: it has been revoked "
			 "(the gateway's CRL lists it); get a new one",
			 c->gateway, c->cert);
		return;
	}
	/* jumpgated sends internal_error when it could not judge our certificate (its CRL
	 * expired): nothing on our side to fix, and the gateway's log names the file. */
	if (alert == TLS1_AD_INTERNAL_ERROR) {
		snprintf(buf, len,
			 "the gateway %s could not check our client certificate (TLS alert "
			 "'internal error'): the fault is on its side, e.g. an expired CRL; its "
			 "log says which file to renew",
			 c->gateway);
		return;
	}
	if (alert >= 0 && cert_alert(alert)) {
		snprintf(buf, len,
			 "the gateway %s rejected our client certificate (%s): is %s signed by the "
			 "gateway's CA?",
			 c->gateway, SSL_alert_desc_string_long(alert), c->cert);
		return;
	}
	if (alert == TLS1_AD_NO_APPLICATION_PROTOCOL) {
		snprintf(buf, len, "the gateway %s does not speak HTTP/2 (ALPN h2 refused)",
			 c->gateway);
		return;
	}
	if (alert == TLS1_AD_PROTOCOL_VERSION) {
		snprintf(buf, len,
			 "TLS handshake with %s failed: the gateway does not offer TLS 1.3",
			 c->gateway);
		return;
	}
	if (alert >= 0) {
		snprintf(buf, len, "%s %s failed: the gateway sent TLS alert '%s'",
			 handshake ? "TLS handshake with" : "connection to", c->gateway,
			 SSL_alert_desc_string_long(alert));
		return;
	}
	if (ssl_err != 0) {
		r = ERR_reason_error_string(ssl_err);
		snprintf(buf, len, "%s %s failed: %s%s",
			 handshake ? "TLS handshake with" : "TLS with", c->gateway,
			 r != NULL ? r : "unknown OpenSSL error",
			 handshake ? " (is it a jumpgate gateway?)" : "");
		return;
	}
	if (eof || sys_err == 0) {
		if (handshake)
			snprintf(buf, len,
				 "the gateway %s closed the connection during the TLS handshake "
				 "(is it a jumpgate gateway?)",
				 c->gateway);
		else
			snprintf(buf, len, "the gateway %s closed the connection unexpectedly",
				 c->gateway);
		return;
	}
	snprintf(buf, len, "%s %s failed: %s", handshake ? "TLS handshake with" : "connection to",
		 c->gateway, strerror(sys_err));
}

unsigned long jg_tls_event_error(struct bufferevent *bev, short what, int handshake, int *sys_err)
{
	unsigned long e, best = 0;

	/* Prefer an alert from the gateway: it says why it refused us. */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		int r = ERR_GET_REASON(e);

		if (ERR_SYSTEM_ERROR(e)) {
			*sys_err = r;
			continue;
		}
		/* libevent also queues bare SSL_get_error() codes (library 0): not reasons. */
		if (ERR_GET_LIB(e) == 0)
			continue;

		if (best == 0 || (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256))
			best = e;
	}
	/* TLS 1.3 ends the handshake before the gateway has judged our certificate: its alert
	 * may be sitting unread behind a reset that our first write ran into.  Read it. */
	if (!handshake && best == 0 && (what & BEV_EVENT_WRITING) &&
	    bufferevent_openssl_get_ssl(bev) != NULL) {
		jg_h2bulk_read_pending(bev);
		best = jg_tls_pending_alert(bufferevent_openssl_get_ssl(bev));
	}
	return best;
}
