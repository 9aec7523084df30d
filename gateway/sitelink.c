/* Links to peer gateways: one persistent HTTP/2-over-TLS client connection
 * per `sites` entry with an address (gateway/sites.h).
 *
 * States (enum jg_sitelink_state), moved only by link_set/link_fail:
 *   WAITING --timer--> CONNECTING --TLS up, h2 session--> SUBSCRIBING
 *   SUBSCRIBING --route stream 200--> UP
 *   CONNECTING/SUBSCRIBING/UP --failure--> WAITING (backoff)   any --drain--> STOPPED
 * Backoff: 0.5 s doubling to 30 s, each wait drawn in [d/2, d] (jitter, so
 * gateways that lost the same peer do not come back in lockstep); reset once
 * a link reaches UP.
 *
 * Keepalive: a PING every keepalive_interval; a PING not answered by the next
 * tick kills the link ("no answer to PING within N s"), so a stalled peer is
 * noticed within two intervals.  The round trip of the last answer is the RTT.
 *
 * Flow control: automatic WINDOW_UPDATE is off, as on the server side: a
 * stream's response credit goes back only as its user passes the bytes on
 * (jg_sitelink_stream_consume).  The connection window covers every stream's
 * window, so one stalled stream never starves the others.
 *
 * nghttp2_session_send is never called from inside the session's callbacks:
 * writers activate flush_ev.  A failure found inside a callback is recorded
 * and handled from fail_ev, outside nghttp2. */
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
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/sites.h"
#include "relay/err.h"
#include "relay/log.h"

#define BACKOFF_MIN_MS 500u
#define BACKOFF_MAX_MS 30000u
#define OUTPUT_HIGH_WATER 65536u
#define ROUTE_LINE_MAX 65536u

struct jg_sitelink_stream {
	struct jg_sitelink *link;
	int32_t id;
	const struct jg_sitelink_stream_cbs *cbs; /* NULL once detached */
	int tunnel; /* an extended CONNECT: each direction ends on its own */
	void *ud;
	struct jg_sitelink_stream *next, *prev;
};

struct jg_sitelink {
	struct jg_gateway *gw;
	const struct jg_site *site; /* from the configuration the gateway started with */
	SSL_CTX *ctx;
	enum jg_sitelink_state state;
	struct bufferevent *bev;
	nghttp2_session *session;
	struct event *timer;	/* backoff wait, then the connect deadline */
	struct event *ping_ev;	/* keepalive tick */
	struct event *flush_ev; /* send what nghttp2 has, from outside its callbacks */
	struct event *fail_ev;	/* a failure recorded inside a callback */
	char fail_why[256];
	uint32_t backoff_ms;
	int ping_outstanding;
	struct timespec ping_sent;
	double rtt_ms;
	time_t since;	 /* when the state last changed */
	char error[256]; /* the last failure */
	uint64_t bytes_in, bytes_out, connects, failures;
	uint64_t streams_total;
	size_t nstreams;
	int goaway;	      /* the peer sent GOAWAY: no new streams, routes withdrawn */
	int32_t route_stream; /* our GET /v1/routes/stream, or -1 */
	int route_status;
	struct evbuffer *route_buf; /* an incomplete line of the route stream */
	struct jg_sitelink_stream *streams;
};

struct jg_sites {
	struct jg_sitelink *links;
	size_t nlinks;
};

static void link_fail(struct jg_sitelink *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

static void schedule_flush(struct jg_sitelink *l)
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

static void link_connect(struct jg_sitelink *l);

/* Drop the connection: every stream on it is told (LOST), the routes learned over it
 * are withdrawn, and the next attempt is scheduled (unless STOPPED). */
static void link_drop(struct jg_sitelink *l, const char *why)
{
	char lost[400];
	struct jg_sitelink_stream *st;
	uint32_t wait;

	snprintf(lost, sizeof(lost), "route to %s lost: %s", l->site->name, why);
	/* Users first, while the streams still exist; each is freed after its callback. */
	while ((st = l->streams) != NULL) {
		l->streams = st->next;
		if (st->cbs != NULL)
			st->cbs->on_close(st->ud, 0, lost);
		free(st);
	}
	l->nstreams = 0;
	if (l->session != NULL) {
		nghttp2_session_del(l->session);
		l->session = NULL;
	}
	if (l->bev != NULL) {
		SSL_set_shutdown(bufferevent_openssl_get_ssl(l->bev), SSL_RECEIVED_SHUTDOWN);
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	evtimer_del(l->ping_ev);
	evtimer_del(l->timer);
	event_del(l->fail_ev);
	l->ping_outstanding = 0;
	l->goaway = 0;
	l->route_stream = -1;
	evbuffer_drain(l->route_buf, evbuffer_get_length(l->route_buf));
	jg_routes_link_down(l->gw, l, lost);
	if (l->state == JG_SITELINK_STOPPED)
		return;
	link_set(l, JG_SITELINK_WAITING);
	/* Equal jitter: somewhere in [d/2, d]. */
	wait = l->backoff_ms / 2 + (uint32_t)((uint64_t)random() % (l->backoff_ms / 2 + 1));
	jg_log_info("site %s: link down (%s); next attempt in %u ms", l->site->name, why, wait);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
	arm(l->timer, wait);
}

static void link_fail(struct jg_sitelink *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	l->failures++;
	link_drop(l, l->error);
}

/* Inside a callback: fail from the loop instead. */
static void link_fail_soon(struct jg_sitelink *l, const char *why)
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
		link_fail(l, "%s", why);
}

/* ---------------------------------------------------------------- sending */

static void link_send(struct jg_sitelink *l)
{
	int r;

	if (l->session == NULL)
		return;
	if ((r = nghttp2_session_send(l->session)) != 0) {
		link_fail(l, "HTTP/2 error: %s", nghttp2_strerror(r));
		return;
	}
	if (!nghttp2_session_want_read(l->session) && !nghttp2_session_want_write(l->session) &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) == 0)
		link_fail(l, "%s closed the HTTP/2 session%s", l->site->name,
			  l->goaway ? " (it is shutting down)" : "");
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	link_send(arg);
}

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t len, int flags,
		       void *ud)
{
	struct jg_sitelink *l = ud;
	struct evbuffer *out = bufferevent_get_output(l->bev);

	if (evbuffer_get_length(out) >= OUTPUT_HIGH_WATER)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (bufferevent_write(l->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	l->bytes_out += len;
	return (ssize_t)len;
}

/* ---------------------------------------------------------------- the route stream */

/* Complete lines of the route stream go to the table; a bad line drops the link. */
static void route_data(struct jg_sitelink *l, const uint8_t *data, size_t len)
{
	struct evbuffer_ptr eol;
	char err[300];

	evbuffer_add(l->route_buf, data, len);
	nghttp2_session_consume(l->session, l->route_stream, len);
	for (;;) {
		size_t n;
		char *line;

		eol = evbuffer_search(l->route_buf, "\n", 1, NULL);
		if (eol.pos < 0)
			break;
		n = (size_t)eol.pos;
		line = (char *)evbuffer_pullup(l->route_buf, (ssize_t)n + 1);
		if (n > 0 && jg_routes_learn(l->gw, l, line, n, err, sizeof(err)) != 0) {
			link_fail_soon(l, err);
			return;
		}
		evbuffer_drain(l->route_buf, n + 1);
	}
	if (evbuffer_get_length(l->route_buf) > ROUTE_LINE_MAX)
		link_fail_soon(l, "route stream: a line longer than 64 KiB");
}

static int32_t submit(struct jg_sitelink *l, const char *method, const char *protocol,
		      const char *path, const char *const headers[][2], size_t nheaders,
		      nghttp2_data_provider *prd, void *stream_ud);

static void subscribe(struct jg_sitelink *l)
{
	l->route_stream = submit(l, "GET", NULL, "/v1/routes/stream", NULL, 0, NULL, NULL);
	if (l->route_stream < 0)
		link_fail(l, "cannot open the route stream: %s", nghttp2_strerror(l->route_stream));
}

/* ---------------------------------------------------------------- nghttp2 callbacks */

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	struct jg_sitelink *l = ud;
	struct jg_sitelink_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (frame->hd.stream_id == l->route_stream) {
		if (namelen == 7 && memcmp(name, ":status", 7) == 0)
			l->route_status = atoi((const char *)value);
		return 0;
	}
	st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (st != NULL && st->cbs != NULL)
		st->cbs->on_header(st->ud, (const char *)name, (const char *)value);
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct jg_sitelink *l = ud;
	struct jg_sitelink_stream *st;
	int32_t id = frame->hd.stream_id;
	struct timespec now;
	char why[200];

	switch (frame->hd.type) {
	case NGHTTP2_PING:
		if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && l->ping_outstanding) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			l->rtt_ms = (double)(now.tv_sec - l->ping_sent.tv_sec) * 1e3 +
				    (double)(now.tv_nsec - l->ping_sent.tv_nsec) / 1e6;
			l->ping_outstanding = 0;
		}
		return 0;
	case NGHTTP2_GOAWAY:
		/* The peer is going away: its routes are withdrawn now and no new stream may
		 * use the link; those running end as the peer ends them, then the session
		 * closes (link_send) and we reconnect. */
		if (!l->goaway) {
			l->goaway = 1;
			snprintf(why, sizeof(why), "route to %s lost: %s is shutting down",
				 l->site->name, l->site->name);
			jg_routes_link_down(l->gw, l, why);
		}
		return 0;
	case NGHTTP2_HEADERS:
		if (id == l->route_stream) {
			if (frame->headers.cat != NGHTTP2_HCAT_RESPONSE)
				return 0;
			if (l->route_status != 200) {
				snprintf(why, sizeof(why),
					 "%s refused our route stream (HTTP %d): is our client "
					 "certificate's identity allowed \"admin\" there?",
					 l->site->name, l->route_status);
				link_fail_soon(l, why);
				return 0;
			}
			link_set(l, JG_SITELINK_UP);
			l->backoff_ms = BACKOFF_MIN_MS;
			l->error[0] = '\0';
			jg_log_info("site %s: link up (%s)", l->site->name, l->site->address);
			return 0;
		}
		st = nghttp2_session_get_stream_user_data(session, id);
		if (st != NULL && st->cbs != NULL && frame->headers.cat == NGHTTP2_HCAT_RESPONSE)
			st->cbs->on_headers_end(st->ud);
		break;
	case NGHTTP2_DATA:
		break;
	default:
		return 0;
	}
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	if (id == l->route_stream) {
		if (!l->goaway)
			link_fail_soon(l, "the peer ended the route stream");
		return 0;
	}
	st = nghttp2_session_get_stream_user_data(session, id);
	if (st == NULL)
		return 0;
	if (st->cbs != NULL)
		st->cbs->on_end(st->ud);
	/* The response is over: whatever we still send has no reader (as client/conn.c) --
	 * except in a tunnel, whose request side goes on after the far end's EOF. */
	if (!st->tunnel && nghttp2_session_get_stream_local_close(session, id) == 0)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct jg_sitelink *l = ud;
	struct jg_sitelink_stream *st;

	if (id == l->route_stream) {
		route_data(l, data, len);
		return 0;
	}
	st = nghttp2_session_get_stream_user_data(session, id);
	if (st != NULL && st->cbs != NULL)
		st->cbs->on_data(st->ud, data, len);
	else
		nghttp2_session_consume(session, id, len);
	return 0;
}

static void stream_unlink(struct jg_sitelink *l, struct jg_sitelink_stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		l->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	l->nstreams--;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *ud)
{
	struct jg_sitelink *l = ud;
	struct jg_sitelink_stream *st;

	if (id == l->route_stream) {
		l->route_stream = -1;
		if (!l->goaway)
			link_fail_soon(l, "the route stream closed");
		return 0;
	}
	st = nghttp2_session_get_stream_user_data(session, id);
	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(session, id, NULL);
	stream_unlink(l, st);
	if (st->cbs != NULL)
		st->cbs->on_close(st->ud, error_code, NULL);
	free(st);
	return 0;
}

static ssize_t body_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len,
			 uint32_t *data_flags, nghttp2_data_source *source, void *ud)
{
	struct jg_sitelink_stream *st = source->ptr;
	int eof = 0;
	ssize_t n;

	if (st == NULL || st->cbs == NULL) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	n = st->cbs->body(st->ud, buf, len, &eof);
	if (n == JG_ERR_AGAIN)
		return NGHTTP2_ERR_DEFERRED;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (eof)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

/* ---------------------------------------------------------------- transport */

static void on_read(struct bufferevent *bev, void *arg)
{
	struct jg_sitelink *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	ssize_t r;

	while (l->session != NULL && (len = evbuffer_get_contiguous_space(in)) > 0) {
		const uint8_t *data = evbuffer_pullup(in, (ssize_t)len);

		l->bytes_in += len;
		r = nghttp2_session_mem_recv(l->session, data, len);
		if (r < 0) {
			link_fail(l, "HTTP/2 error from %s: %s", l->site->name,
				  nghttp2_strerror((int)r));
			return;
		}
		evbuffer_drain(in, len);
	}
	link_send(l);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	link_send(arg);
}

static int session_start(struct jg_sitelink *l)
{
	const struct jg_config *cfg = l->gw->cfg;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 16},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->stream_window},
	};
	uint64_t conn_window = (uint64_t)cfg->max_streams * cfg->stream_window;
	int r;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return -1;
	}
	nghttp2_option_set_no_auto_window_update(opt, 1);
	r = nghttp2_session_client_new2(&l->session, cbs, l, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (r != 0)
		return -1;
	if (nghttp2_submit_settings(l->session, NGHTTP2_FLAG_NONE, iv, 3) != 0)
		return -1;
	nghttp2_session_set_local_window_size(
	    l->session, NGHTTP2_FLAG_NONE, 0,
	    (int32_t)(conn_window > 0x7fffffff ? 0x7fffffff : conn_window));
	return 0;
}

static void ping(struct jg_sitelink *l)
{
	clock_gettime(CLOCK_MONOTONIC, &l->ping_sent);
	l->ping_outstanding = 1;
	nghttp2_submit_ping(l->session, NGHTTP2_FLAG_NONE, NULL);
	schedule_flush(l);
}

static void on_ping_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jg_sitelink *l = arg;
	uint32_t ms = l->site->keepalive_interval_ms;

	if (l->session == NULL)
		return;
	if (l->ping_outstanding) {
		link_fail(l, "no answer to PING within %u.%u s", ms / 1000, ms % 1000 / 100);
		return;
	}
	ping(l);
	arm(l->ping_ev, ms);
}

static void link_established(struct jg_sitelink *l)
{
	SSL *ssl = bufferevent_openssl_get_ssl(l->bev);
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;

	SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
	if (alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
		link_fail(l, "%s (%s) did not agree to HTTP/2 (ALPN)", l->site->name,
			  l->site->address);
		return;
	}
	if (session_start(l) != 0) {
		link_fail(l, "cannot start an HTTP/2 session: out of memory");
		return;
	}
	evtimer_del(l->timer);
	link_set(l, JG_SITELINK_SUBSCRIBING);
	l->connects++;
	ping(l);
	arm(l->ping_ev, l->site->keepalive_interval_ms);
	subscribe(l);
	if (l->session != NULL)
		link_send(l);
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
	link_fail(l, "%s %s (%s): %s",
		  l->state == JG_SITELINK_CONNECTING ? "connecting to" : "link to", l->site->name,
		  l->site->address, why);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct jg_sitelink *l = arg;

	switch (l->state) {
	case JG_SITELINK_WAITING:
		link_connect(l);
		return;
	case JG_SITELINK_CONNECTING:
		link_fail(l, "connecting to %s (%s): timed out after %u ms", l->site->name,
			  l->site->address, l->gw->cfg->handshake_timeout_ms);
		return;
	case JG_SITELINK_SUBSCRIBING:
	case JG_SITELINK_UP:
	case JG_SITELINK_STOPPED:
		return;
	}
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
		link_fail(l, "address %s: %s", l->site->address, evutil_gai_strerror(r));
		return;
	}
	if ((ssl = link_ssl(l)) == NULL) {
		evutil_freeaddrinfo(ai);
		link_fail(l, "cannot set up TLS for %s", l->site->address);
		return;
	}
	l->bev = bufferevent_openssl_socket_new(l->gw->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (l->bev == NULL) {
		SSL_free(ssl);
		evutil_freeaddrinfo(ai);
		link_fail(l, "cannot set up TLS for %s: out of memory", l->site->address);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(l->bev, 1);
	bufferevent_setcb(l->bev, on_read, on_write, on_event, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	r = bufferevent_socket_connect(l->bev, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (r != 0) {
		link_fail(l, "connecting to %s (%s): %s", l->site->name, l->site->address,
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

/* ---------------------------------------------------------------- streams */

static int32_t submit(struct jg_sitelink *l, const char *method, const char *protocol,
		      const char *path, const char *const headers[][2], size_t nheaders,
		      nghttp2_data_provider *prd, void *stream_ud)
{
	nghttp2_nv nva[40];
	const char *pseudo[5][2] = {
	    {":method", method}, {":scheme", "https"},	  {":authority", l->site->address},
	    {":path", path},	 {":protocol", protocol},
	};
	size_t np = protocol != NULL ? 5 : 4, n = 0;
	int32_t id;

	if (nheaders > sizeof(nva) / sizeof(nva[0]) - np)
		return NGHTTP2_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < np + nheaders; i++, n++) {
		const char *name = i < np ? pseudo[i][0] : headers[i - np][0];
		const char *value = i < np ? pseudo[i][1] : headers[i - np][1];

		nva[n] = (nghttp2_nv){(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value,
				      strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE};
	}
	id = nghttp2_submit_request(l->session, NULL, nva, n, prd, stream_ud);
	if (id >= 0)
		schedule_flush(l);
	return id;
}

struct jg_sitelink_stream *jg_sitelink_request(struct jg_sitelink *l, const char *method,
					       const char *protocol, const char *path,
					       const char *const headers[][2], size_t nheaders,
					       const struct jg_sitelink_stream_cbs *cbs, void *ud,
					       char *err, size_t errlen)
{
	struct jg_sitelink_stream *st;
	nghttp2_data_provider prd = {.read_callback = body_read};
	int32_t id;

	if (l->state != JG_SITELINK_UP || l->session == NULL || l->goaway) {
		snprintf(err, errlen, "the link to %s is %s%s%s", l->site->name,
			 jg_sitelink_state_name(l->state), l->error[0] ? ": " : "", l->error);
		return NULL;
	}
	if (protocol != NULL && nghttp2_session_get_remote_settings(
				    l->session, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) != 1) {
		snprintf(err, errlen, "%s does not accept extended CONNECT", l->site->name);
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->link = l;
	st->tunnel = protocol != NULL;
	st->cbs = cbs;
	st->ud = ud;
	prd.source.ptr = st;
	id = submit(l, method, protocol, path, headers, nheaders, &prd, st);
	if (id < 0) {
		free(st);
		snprintf(err, errlen, "cannot open a stream to %s: %s", l->site->name,
			 nghttp2_strerror(id));
		return NULL;
	}
	st->id = id;
	st->next = l->streams;
	if (l->streams)
		l->streams->prev = st;
	l->streams = st;
	l->nstreams++;
	l->streams_total++;
	return st;
}

void jg_sitelink_stream_resume(struct jg_sitelink_stream *st)
{
	struct jg_sitelink *l = st->link;

	if (l->session == NULL)
		return;
	nghttp2_session_resume_data(l->session, st->id); /* harmless when not deferred */
	schedule_flush(l);
}

void jg_sitelink_stream_consume(struct jg_sitelink_stream *st, size_t n)
{
	struct jg_sitelink *l = st->link;

	if (l->session == NULL || n == 0)
		return;
	nghttp2_session_consume(l->session, st->id, n);
	schedule_flush(l);
}

void jg_sitelink_stream_cancel(struct jg_sitelink_stream *st)
{
	struct jg_sitelink *l = st->link;

	st->cbs = NULL;
	if (l->session == NULL)
		return;
	nghttp2_submit_rst_stream(l->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
	schedule_flush(l);
}

/* ---------------------------------------------------------------- the set of links */

struct jg_sitelink *jg_sitelink_find(struct jg_gateway *gw, const char *site)
{
	struct jg_sites *ss = gw->sites;

	for (size_t i = 0; ss != NULL && i < ss->nlinks; i++)
		if (strcmp(ss->links[i].site->name, site) == 0)
			return &ss->links[i];
	return NULL;
}

int jg_sites_start(struct jg_gateway *gw, char *err, size_t errlen)
{
	const struct jg_config *cfg = gw->cfg;
	struct jg_sites *ss;
	size_t n = 0;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	srandom((unsigned)(ts.tv_nsec ^ ts.tv_sec ^ getpid()));
	for (size_t i = 0; i < cfg->nsites; i++)
		n += cfg->sites[i].address != NULL;
	if ((ss = calloc(1, sizeof(*ss))) == NULL ||
	    (n > 0 && (ss->links = calloc(n, sizeof(*ss->links))) == NULL)) {
		free(ss);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gw->sites = ss;
	for (size_t i = 0; i < cfg->nsites; i++) {
		struct jg_sitelink *l = &ss->links[ss->nlinks];

		if (cfg->sites[i].address == NULL)
			continue;
		l->gw = gw;
		l->site = &cfg->sites[i];
		l->route_stream = -1;
		l->rtt_ms = -1;
		l->backoff_ms = BACKOFF_MIN_MS;
		l->since = time(NULL);
		snprintf(l->error, sizeof(l->error), "not connected yet");
		if ((l->ctx = link_ctx(l->site, err, errlen)) == NULL)
			return -1;
		l->timer = evtimer_new(gw->base, on_timer, l);
		l->ping_ev = evtimer_new(gw->base, on_ping_tick, l);
		l->flush_ev = event_new(gw->base, -1, 0, on_flush, l);
		l->fail_ev = event_new(gw->base, -1, 0, on_fail_ev, l);
		l->route_buf = evbuffer_new();
		ss->nlinks++;
		if (l->timer == NULL || l->ping_ev == NULL || l->flush_ev == NULL ||
		    l->fail_ev == NULL || l->route_buf == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		link_set(l, JG_SITELINK_WAITING);
		arm(l->timer, 0);
	}
	return 0;
}

void jg_sites_drain(struct jg_gateway *gw)
{
	struct jg_sites *ss = gw->sites;

	jg_routes_drain(gw);
	for (size_t i = 0; ss != NULL && i < ss->nlinks; i++) {
		struct jg_sitelink *l = &ss->links[i];

		link_set(l, JG_SITELINK_STOPPED);
		evtimer_del(l->timer);
		if (l->session != NULL) {
			/* Streams running on it go on; the route stream ends with the session. */
			nghttp2_submit_goaway(l->session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR,
					      NULL, 0);
			schedule_flush(l);
		}
	}
}

void jg_sites_free(struct jg_gateway *gw)
{
	struct jg_sites *ss = gw->sites;

	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->nlinks; i++) {
		struct jg_sitelink *l = &ss->links[i];

		l->state = JG_SITELINK_STOPPED;
		if (l->route_buf != NULL && (l->session != NULL || l->bev != NULL))
			link_drop(l, "the gateway is shutting down");
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
	}
	jg_routes_free(gw);
	free(ss->links);
	free(ss);
	gw->sites = NULL;
}

void jg_sites_stats(const struct jg_gateway *gw, void *json_array)
{
	const struct jg_sites *ss = gw->sites;

	for (size_t i = 0; ss != NULL && i < ss->nlinks; i++) {
		const struct jg_sitelink *l = &ss->links[i];
		json_t *o =
		    json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "site",
			      l->site->name, "address", l->site->address, "state",
			      jg_sitelink_state_name(l->state), "since", (json_int_t)l->since,
			      "error", l->error, "connects", (json_int_t)l->connects, "failures",
			      (json_int_t)l->failures, "streams", (json_int_t)l->nstreams,
			      "streams_total", (json_int_t)l->streams_total, "bytes_in",
			      (json_int_t)l->bytes_in, "bytes_out", (json_int_t)l->bytes_out);

		if (o == NULL)
			continue;
		json_object_set_new(o, "rtt_ms",
				    l->rtt_ms >= 0
					? json_real((double)(long long)(l->rtt_ms * 1000) / 1000)
					: json_null());
		json_array_append_new(json_array, o);
	}
}
