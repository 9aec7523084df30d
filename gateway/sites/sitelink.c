/* A link to a peer gateway, the transport half (gateway/sites/sitelink.h): one
 * persistent TLS connection per `sites` entry with an address, its state,
 * reconnect with backoff and the keepalive timer.  The HTTP/2 session on an
 * established connection is linksession.c's.
 *
 * States (enum jg_sitelink_state), moved only by link_set:
 *   WAITING --timer--> CONNECTING --TLS up, h2 session--> SUBSCRIBING
 *   SUBSCRIBING --route stream 200--> UP
 *   CONNECTING/SUBSCRIBING/UP --failure--> WAITING (backoff)   any --drain--> STOPPED
 * Backoff: 0.5 s doubling to 30 s, each wait drawn in [d/2, d] (jitter, so
 * gateways that lost the same peer do not come back in lockstep); reset once
 * a link reaches UP.
 *
 * Keepalive: relay/keepalive.h decides at each tick (a PING every
 * keepalive_interval; an unanswered one with the peer silent a whole interval
 * kills the link, "no answer to PING within N s"), so a stalled peer is
 * noticed within two intervals and a busy one (its answer queued behind
 * DATA) is not.  The round trip of the last answer is the RTT.
 *
 * The set of links (which sites, SIGHUP, drain) is siteset.c's. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "h2/bulk.h"
#include "gateway/sites/sitelink.h"
#include "gateway/sites/sites.h"
#include "relay/clock.h"
#include "relay/err.h"
#include "relay/log.h"

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u

const char *jg_sitelink_state_name(enum jg_sitelink_state st)
{
	switch (st) {
	case JG_SITELINK_WAITING:
		return "waiting";
	case JG_SITELINK_CONNECTING:
		return "connecting";
	case JG_SITELINK_SUBSCRIBING:
		return "subscribing";
	case JG_SITELINK_UP:
		return "up";
	case JG_SITELINK_STOPPED:
		return "stopped";
	}
	return "?";
}

const char *jg_sitelink_name(const struct jg_sitelink *l)
{
	return l->site->name;
}

enum jg_sitelink_state jg_sitelink_state(const struct jg_sitelink *l)
{
	return l->state;
}

double jg_sitelink_rtt_ms(const struct jg_sitelink *l)
{
	return l->rtt_ms;
}

const char *jg_sitelink_error(const struct jg_sitelink *l)
{
	return l->error;
}

static void link_set(struct jg_sitelink *l, enum jg_sitelink_state st)
{
	if (l->state != st)
		l->since = time(NULL);
	l->state = st;
}

void jg_sitelink_schedule_flush(struct jg_sitelink *l)
{
	if (l->flush_ev != NULL && l->session != NULL)
		event_active(l->flush_ev, EV_TIMEOUT, 0);
}

static void arm(struct event *ev, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	evtimer_add(ev, &tv);
}

/* ---------------------------------------------------------------- TLS */

static void ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* TLS 1.3, ALPN h2, the peer's server certificate checked against site->ca_file and
 * the host of its address; our client certificate from site->cert_file/key_file. */
static SSL_CTX *link_ctx(const struct jg_site *site, char *err, size_t errlen)
{
	static const unsigned char alpn[] = {2, 'h', '2'};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];

	if (ctx == NULL) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "site %s: cannot create a TLS context: %s", site->name, why);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, site->cert_file) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "site %s: client certificate %s: %s", site->name,
			 site->cert_file, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, site->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "site %s: client key %s: %s", site->name, site->key_file,
			 why);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, site->ca_file, NULL) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "site %s: CA %s: %s", site->name, site->ca_file, why);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0) {
		snprintf(err, errlen, "site %s: cannot set ALPN", site->name);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL *link_ssl(struct jg_sitelink *l)
{
	SSL *ssl = SSL_new(l->ctx);
	X509_VERIFY_PARAM *param;

	if (ssl == NULL)
		return NULL;
	param = SSL_get0_param(ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(param, l->site->host) != 1) {
		ERR_clear_error();
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(param, l->site->host, 0) != 1 ||
		    SSL_set_tlsext_host_name(ssl, l->site->host) != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

/* ---------------------------------------------------------------- teardown */

/* Close the connection: every stream on it is told (LOST), the routes learned over it
 * are withdrawn.  No next attempt is scheduled. */
static void link_close(struct jg_sitelink *l, const char *why)
{
	char lost[400];

	snprintf(lost, sizeof(lost), "route to %s lost: %s", l->site->name, why);
	jg_linksess_close(l, lost);
	if (l->bev != NULL) {
		SSL_set_shutdown(bufferevent_openssl_get_ssl(l->bev), SSL_RECEIVED_SHUTDOWN);
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	evtimer_del(l->ping_ev);
	evtimer_del(l->timer);
	event_del(l->fail_ev);
	l->fail_why[0] = '\0';
	jg_routes_link_down(l->gw, l->site->name, lost);
}

/* Close, then schedule the next attempt (unless STOPPED). */
static void link_drop(struct jg_sitelink *l, const char *why)
{
	uint32_t wait;

	link_close(l, why);
	if (l->state == JG_SITELINK_STOPPED)
		return;
	link_set(l, JG_SITELINK_WAITING);
	/* Equal jitter: somewhere in [d/2, d]. */
	wait = l->backoff_ms / 2 + (uint32_t)((uint64_t)random() % (l->backoff_ms / 2 + 1));
	jg_log_info("site %s: link down (%s); next attempt in %u ms", l->site->name, why, wait);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
	arm(l->timer, wait);
}

void jg_sitelink_fail(struct jg_sitelink *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	l->failures++;
	link_drop(l, l->error);
}

void jg_sitelink_fail_soon(struct jg_sitelink *l, const char *why)
{
	if (l->fail_why[0] == '\0')
		snprintf(l->fail_why, sizeof(l->fail_why), "%s", why);
	event_active(l->fail_ev, EV_TIMEOUT, 0);
}

static void on_fail_ev(evutil_socket_t fd, short what, void *arg)
{
	struct jg_sitelink *l = arg;
	char why[256];

	snprintf(why, sizeof(why), "%s", l->fail_why);
	l->fail_why[0] = '\0';
	if (l->session != NULL || l->bev != NULL)
		jg_sitelink_fail(l, "%s", why);
}

void jg_sitelink_up(struct jg_sitelink *l)
{
	link_set(l, JG_SITELINK_UP);
	l->backoff_ms = BACKOFF_MIN_MS;
	l->error[0] = '\0';
	jg_log_info("site %s: link up (%s)", l->site->name, l->site->address);
}

/* ---------------------------------------------------------------- transport */

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	jg_linksess_send(arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct jg_sitelink *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;

	while (l->session != NULL && (len = evbuffer_get_contiguous_space(in)) > 0) {
		if (jg_linksess_recv(l, evbuffer_pullup(in, (ssize_t)len), len) != 0)
			return; /* the link failed: bev is gone */
		evbuffer_drain(in, len);
	}
	jg_linksess_send(l);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	jg_linksess_send(arg);
}

static void on_ping_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jg_sitelink *l = arg;
	uint32_t ms = l->site->keepalive_interval_ms;
	uint64_t late;

	if (l->session == NULL)
		return;
	switch (jg_keepalive_tick(&l->ka, jg_clock_ms(), l->bytes_in, &late)) {
	case JG_KEEPALIVE_DEAD:
		jg_sitelink_fail(l, "no answer to PING within %u.%u s", ms / 1000, ms % 1000 / 100);
		return;
	case JG_KEEPALIVE_PING:
		jg_linksess_ping(l);
		break;
	case JG_KEEPALIVE_WAIT:
		break;
	}
	if (late > 0)
		jg_log_info("link to %s: the gateway's own event loop was %llu ms late; the "
			    "keepalive restarts",
			    l->site->name, (unsigned long long)late);
	arm(l->ping_ev, ms);
}

static void link_established(struct jg_sitelink *l)
{
	SSL *ssl = bufferevent_openssl_get_ssl(l->bev);
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;

	SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
		jg_sitelink_fail(l, "%s (%s) did not agree to HTTP/2 (ALPN)", l->site->name,
				 l->site->address);
		return;
	}
	evtimer_del(l->timer);
	link_set(l, JG_SITELINK_SUBSCRIBING);
	l->connects++;
	/* Before the session starts: its first PING (for the RTT) counts as outstanding. */
	jg_keepalive_start(&l->ka, l->site->keepalive_interval_ms, jg_clock_ms(), l->bytes_in);
	if (jg_linksess_start(l) != 0)
		return; /* failed */
	arm(l->ping_ev, l->site->keepalive_interval_ms);
	jg_linksess_send(l);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	struct jg_sitelink *l = arg;
	unsigned long e, best = 0;
	char why[256] = "";
	long verify;

	if (events & BEV_EVENT_CONNECTED) {
		link_established(l);
		return;
	}
	if (!(events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (best == 0 && ERR_GET_LIB(e) != 0)
			best = e;
	/* A TCP close without close_notify (a peer killed): an EOF, in plain words. */
	if (best != 0 && ERR_GET_REASON(best) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		best = 0;
		events |= BEV_EVENT_EOF;
	}
	if (l->state == JG_SITELINK_CONNECTING &&
	    (verify = SSL_get_verify_result(bufferevent_openssl_get_ssl(bev))) != X509_V_OK)
		snprintf(why, sizeof(why), "its server certificate is not trusted (%s; ca %s)",
			 X509_verify_cert_error_string(verify), l->site->ca_file);
	else if (best != 0)
		ERR_error_string_n(best, why, sizeof(why));
	else if (events & BEV_EVENT_EOF)
		snprintf(why, sizeof(why), "connection closed by the peer");
	else
		snprintf(why, sizeof(why), "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	ERR_clear_error();
	jg_sitelink_fail(l, "%s %s (%s): %s",
			 l->state == JG_SITELINK_CONNECTING ? "connecting to" : "link to",
			 l->site->name, l->site->address, why);
}

static void link_connect(struct jg_sitelink *l)
{
	struct evutil_addrinfo hints, *ai = NULL;
	const char *host = strcmp(l->site->host, "localhost") == 0 ? "127.0.0.1" : l->site->host;
	SSL *ssl;
	evutil_socket_t fd;
	int r, one = 1;

	link_set(l, JG_SITELINK_CONNECTING);
	arm(l->timer, l->gw->cfg->handshake_timeout_ms);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	if ((r = evutil_getaddrinfo(host, l->site->port, &hints, &ai)) != 0 || ai == NULL) {
		jg_sitelink_fail(l, "address %s: %s", l->site->address, evutil_gai_strerror(r));
		return;
	}
	if ((ssl = link_ssl(l)) == NULL) {
		evutil_freeaddrinfo(ai);
		jg_sitelink_fail(l, "cannot set up TLS for %s", l->site->address);
		return;
	}
	l->bev = bufferevent_openssl_socket_new(l->gw->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (l->bev == NULL) {
		SSL_free(ssl);
		evutil_freeaddrinfo(ai);
		jg_sitelink_fail(l, "cannot set up TLS for %s: out of memory", l->site->address);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(l->bev, 1);
	jg_h2bulk_tune_bev(l->bev);
	bufferevent_setcb(l->bev, on_read, on_write, on_event, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	r = bufferevent_socket_connect(l->bev, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (r != 0) {
		jg_sitelink_fail(l, "connecting to %s (%s): %s", l->site->name, l->site->address,
				 strerror(errno));
		return;
	}
	if ((fd = bufferevent_getfd(l->bev)) >= 0) {
		/* Small frames (PINGs, exec frames) must not wait for Nagle's timer. */
		evutil_make_socket_closeonexec(fd);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	jg_log_debug("site %s: connecting to %s", l->site->name, l->site->address);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct jg_sitelink *l = arg;

	switch (l->state) {
	case JG_SITELINK_WAITING:
		link_connect(l);
		return;
	case JG_SITELINK_CONNECTING:
		jg_sitelink_fail(l, "connecting to %s (%s): timed out after %u ms", l->site->name,
				 l->site->address, l->gw->cfg->handshake_timeout_ms);
		return;
	case JG_SITELINK_SUBSCRIBING:
	case JG_SITELINK_UP:
	case JG_SITELINK_STOPPED:
		return;
	}
}

/* ---------------------------------------------------------------- one link's life */

void jg_sitelink_free(struct jg_sitelink *l)
{
	if (l == NULL)
		return;
	if (l->timer)
		event_free(l->timer);
	if (l->ping_ev)
		event_free(l->ping_ev);
	if (l->flush_ev)
		event_free(l->flush_ev);
	if (l->fail_ev)
		event_free(l->fail_ev);
	if (l->route_buf)
		evbuffer_free(l->route_buf);
	SSL_CTX_free(l->ctx);
	jg_config_unref(l->cfg);
	free(l);
}

struct jg_sitelink *jg_sitelink_new(struct jg_gateway *gw, const struct jg_site *site, char *err,
				    size_t errlen)
{
	struct jg_sitelink *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		snprintf(err, errlen, "site %s: out of memory", site->name);
		return NULL;
	}
	l->gw = gw;
	l->site = site;
	l->cfg = jg_config_ref(gw->cfg);
	l->route_stream = -1;
	l->rtt_ms = -1;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->since = time(NULL);
	snprintf(l->error, sizeof(l->error), "not connected yet");
	if ((l->ctx = link_ctx(site, err, errlen)) == NULL) {
		jg_sitelink_free(l);
		return NULL;
	}
	l->timer = evtimer_new(gw->base, on_timer, l);
	l->ping_ev = evtimer_new(gw->base, on_ping_tick, l);
	l->flush_ev = event_new(gw->base, -1, 0, on_flush, l);
	l->fail_ev = event_new(gw->base, -1, 0, on_fail_ev, l);
	l->route_buf = evbuffer_new();
	if (l->timer == NULL || l->ping_ev == NULL || l->flush_ev == NULL || l->fail_ev == NULL ||
	    l->route_buf == NULL) {
		snprintf(err, errlen, "site %s: out of memory", site->name);
		jg_sitelink_free(l);
		return NULL;
	}
	link_set(l, JG_SITELINK_WAITING);
	arm(l->timer, 0);
	return l;
}

static int same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int jg_sitelink_reconfigure(struct jg_sitelink *l, const struct jg_site *site, char *err,
			    size_t errlen)
{
	SSL_CTX *ctx = link_ctx(site, err, errlen);
	int same;

	if (ctx == NULL)
		return -1;
	SSL_CTX_free(l->ctx);
	l->ctx = ctx;
	same = same_str(l->site->address, site->address) &&
	       same_str(l->site->ca_file, site->ca_file) &&
	       same_str(l->site->cert_file, site->cert_file) &&
	       same_str(l->site->key_file, site->key_file);
	l->site = site; /* keepalive_interval follows at the next tick */
	jg_config_unref(l->cfg);
	l->cfg = jg_config_ref(l->gw->cfg);
	if (same)
		return 0;
	jg_log_info("site %s: reconfigured (%s): reconnecting", site->name, site->address);
	if (l->session != NULL || l->bev != NULL) {
		l->failures++;
		snprintf(l->error, sizeof(l->error), "reconfigured");
		link_close(l, "the site was reconfigured");
	}
	l->backoff_ms = BACKOFF_MIN_MS;
	link_set(l, JG_SITELINK_WAITING);
	evtimer_del(l->timer);
	arm(l->timer, 0);
	return 1;
}

void jg_sitelink_stop(struct jg_sitelink *l, const char *why)
{
	link_set(l, JG_SITELINK_STOPPED);
	if (l->session != NULL || l->bev != NULL)
		link_close(l, why);
	evtimer_del(l->timer);
}

void jg_sitelink_drain(struct jg_sitelink *l)
{
	link_set(l, JG_SITELINK_STOPPED);
	evtimer_del(l->timer);
	/* Streams running on it go on; the route stream ends with the session. */
	jg_linksess_goaway(l);
}

void jg_sitelink_stats(const struct jg_sitelink *l, void *json_array)
{
	json_t *o = json_pack(
	    "{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "site", l->site->name,
	    "address", l->site->address, "state", jg_sitelink_state_name(l->state), "since",
	    (json_int_t)l->since, "error", l->error, "connects", (json_int_t)l->connects,
	    "failures", (json_int_t)l->failures, "streams", (json_int_t)l->nstreams,
	    "streams_total", (json_int_t)l->streams_total, "bytes_in", (json_int_t)l->bytes_in,
	    "bytes_out", (json_int_t)l->bytes_out, "routes_refused",
	    (json_int_t)jg_routes_refused(l->gw, l->site->name));

	if (o == NULL)
		return;
	json_object_set_new(o, "rtt_ms",
			    l->rtt_ms >= 0 ? json_real((double)(long long)(l->rtt_ms * 1000) / 1000)
					   : json_null());
	json_array_append_new(json_array, o);
}
