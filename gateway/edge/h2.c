/* Multiplexer, connection side: one controller connection (TLS, or h2c on the Unix
 * socket) from accept to close.  The TLS handshake (the handshake list and its limit,
 * the rate-limited failure log), the session's start once the identity is known,
 * the read path (the client's bytes through the oversized-field filter, h2field.h,
 * into nghttp2), the send path (conn_send: what nghttp2 has, then whether the
 * connection is done), the handshake, preface and idle timeouts, the linger of a
 * closed socket so that our last alert or GOAWAY is read, drain and shutdown.
 *
 * The nghttp2 session itself -- its callbacks, settings and the streams -- is
 * h2session.c's; the stream API operations use is h2stream.c's.
 * nghttp2_session_send() is never called from inside a callback: writers
 * schedule a flush event instead (jg_h2_schedule_flush). */
#include <errno.h>
#include <malloc.h>
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
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/edge/edge.h"
#include "h2/bulk.h"
#include "gateway/edge/h2conn.h"
#include "gateway/edge/h2field.h"
#include "relay/clock.h"
#include "relay/log.h"

static void conn_free(struct jg_h2conn *c, const char *why);

/* After a flood of connections the allocator keeps the freed memory: give it back
 * once the handshakes are over, when there were at least this many at once. */
#define TRIM_AFTER_HANDSHAKES 64u
/* Drops over max_handshakes: at most one log line per this interval. */
#define HS_LOG_INTERVAL_MS 10000u

size_t jg_h2conn_handshake_limit(const struct jg_gateway *gw)
{
	if (gw->cfg->max_handshakes > 0)
		return gw->cfg->max_handshakes;
	return gw->nofile >= 64 ? (size_t)(gw->nofile / 4) : 16;
}

/* C leaves the handshake list (done, or freed). */
static void hs_unlink(struct jg_h2conn *c)
{
	struct jg_gateway *gw = c->gw;

	if (!c->in_handshake)
		return;
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else
		gw->hs_oldest = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	else
		gw->hs_newest = c->hs_prev;
	c->in_handshake = 0;
	gw->handshaking--;
	if (gw->handshaking == 0 && gw->hs_peak >= TRIM_AFTER_HANDSHAKES) {
#ifdef __GLIBC__
		malloc_trim(0);
#endif
		gw->hs_peak = 0;
	}
}

/* Failed handshakes: at most HS_FAIL_LINES lines per HS_LOG_INTERVAL_MS, then one
 * line saying how many were not logged, so a flood of connections cannot flood the
 * log (each costs a line otherwise). */
#define HS_FAIL_LINES 20u
static void hs_fail_log(struct jg_gateway *gw, const char *peer, const char *why)
{
	uint64_t now = jg_clock_ms();

	if (gw->hs_fail_ms == 0 || now - gw->hs_fail_ms >= HS_LOG_INTERVAL_MS) {
		if (gw->hs_fail_quiet > 0)
			jg_log_warn("%llu more failed TLS handshakes in the last %u s were not "
				    "logged",
				    (unsigned long long)gw->hs_fail_quiet,
				    HS_LOG_INTERVAL_MS / 1000);
		gw->hs_fail_ms = now;
		gw->hs_fail_lines = 0;
		gw->hs_fail_quiet = 0;
	}
	if (gw->hs_fail_lines++ < HS_FAIL_LINES)
		jg_log_warn("TLS handshake from %s failed: %s", peer, why);
	else
		gw->hs_fail_quiet++;
}

/* C starts its handshake; past the limit the oldest handshake is dropped, so that
 * clients that never finish one cannot hold the descriptors and memory. */
static void hs_add(struct jg_h2conn *c)
{
	struct jg_gateway *gw = c->gw;
	size_t max = jg_h2conn_handshake_limit(gw);
	uint64_t now;

	c->in_handshake = 1;
	c->hs_prev = gw->hs_newest;
	if (gw->hs_newest)
		gw->hs_newest->hs_next = c;
	else
		gw->hs_oldest = c;
	gw->hs_newest = c;
	if (++gw->handshaking > gw->hs_peak)
		gw->hs_peak = gw->handshaking;
	while (gw->handshaking > max && gw->hs_oldest != c) {
		struct jg_h2conn *old = gw->hs_oldest;

		gw->hs_dropped++;
		gw->stats.tls_failures++;
		old->no_linger = 1;
		conn_free(old, "over max_handshakes");
	}
	now = jg_clock_ms();
	if (gw->hs_dropped > 0 &&
	    (gw->hs_log_ms == 0 || now - gw->hs_log_ms >= HS_LOG_INTERVAL_MS)) {
		jg_log_warn("more than %zu connections in their TLS handshake (max_handshakes): "
			    "dropped the oldest, %llu so far (next line in %u s at the earliest)",
			    max, (unsigned long long)gw->hs_dropped, HS_LOG_INTERVAL_MS / 1000);
		gw->hs_dropped = 0;
		gw->hs_log_ms = now;
	}
}

/* A socket whose TLS handshake failed: our alert is on its way, but closing
 * with unread client data in the receive queue would send RST, and the RST can
 * destroy the alert before the client reads it -- leaving the user with
 * "connection reset" instead of "certificate rejected".  So: shut down our
 * side, read and drop what the client still sends, close on its EOF or after
 * LINGER_MS at most. */
#define LINGER_MS 2000
struct jg_linger {
	evutil_socket_t fd;
	struct event *ev;
	/* In gw->lingers, so that those still lingering at exit are freed too. */
	struct jg_gateway *gw;
	struct jg_linger *prev, *next;
};

static void linger_free(struct jg_linger *lg)
{
	if (lg->prev != NULL)
		lg->prev->next = lg->next;
	else
		lg->gw->lingers = lg->next;
	if (lg->next != NULL)
		lg->next->prev = lg->prev;
	event_free(lg->ev);
	evutil_closesocket(lg->fd);
	free(lg);
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
	struct jg_linger *lg = arg;
	char buf[4096];
	ssize_t n = 0;

	if (what & EV_READ) {
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
	}
	linger_free(lg);
}

static void linger_close(struct jg_gateway *gw, evutil_socket_t fd)
{
	struct event_base *base = gw->base;
	struct timeval tv = {.tv_sec = LINGER_MS / 1000, .tv_usec = (LINGER_MS % 1000) * 1000};
	struct jg_linger *lg;
	evutil_socket_t dupfd = fd < 0 ? -1 : dup(fd);

	if (dupfd < 0)
		return;
	lg = calloc(1, sizeof(*lg));
	if (lg == NULL || (lg->ev = event_new(base, dupfd, EV_READ | EV_PERSIST | EV_TIMEOUT,
					      on_linger, lg)) == NULL) {
		free(lg);
		evutil_closesocket(dupfd);
		return;
	}
	lg->fd = dupfd;
	lg->gw = gw;
	lg->next = gw->lingers;
	if (gw->lingers != NULL)
		gw->lingers->prev = lg;
	gw->lingers = lg;
	evutil_make_socket_nonblocking(dupfd);
	evutil_make_socket_closeonexec(dupfd);
	shutdown(dupfd, SHUT_WR);
	event_add(lg->ev, &tv);
}

void jg_h2_schedule_flush(struct jg_h2conn *c)
{
	if (c->flush_ev != NULL && !event_pending(c->flush_ev, EV_TIMEOUT, NULL))
		event_active(c->flush_ev, EV_TIMEOUT, 0);
}

void jg_h2_arm_timer(struct jg_h2conn *c, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	evtimer_add(c->timer, &tv);
}

/* Send what nghttp2 has, then close the connection if nothing is left to do.
 * Returns -1 when the connection was freed. */
static int conn_send(struct jg_h2conn *c)
{
	int r;

	if (c->session == NULL)
		return 0;
	r = nghttp2_session_send(c->session);
	if (r != 0) {
		conn_free(c, nghttp2_strerror(r));
		return -1;
	}
	if (jg_h2bulk_unsent(c->bev) > 0)
		return 0; /* on_write runs again when the socket has taken it all */
	if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
		/* Our GOAWAY (a protocol error, a limit) may be behind bytes the peer is still
		 * sending: a close now would reset the connection and lose it. */
		c->linger = 1;
		conn_free(c, "session finished");
		return -1;
	}
	if (c->gw->draining && c->nstreams == 0 && c->goaway_sent) {
		conn_free(c, "drained");
		return -1;
	}
	if (c->refused) {
		conn_free(c, "too many connections for this identity");
		return -1;
	}
	if (c->calm && c->nstreams == 0) {
		conn_free(c, "rapid reset");
		return -1;
	}
	return 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	conn_send(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct jg_h2conn *c = arg;

	if (!c->handshaken) {
		jg_log_warn("TLS handshake from %s timed out after %u ms", c->peer,
			    c->gw->cfg->handshake_timeout_ms);
		c->gw->stats.tls_failures++;
		conn_free(c, "handshake timeout");
		return;
	}
	if (c->nstreams == 0 && c->opened == 0) {
		jg_log_info("connection from %s (%s): no request within preface_timeout (%u ms): "
			    "closing",
			    c->peer, c->identity, c->gw->cfg->preface_timeout_ms);
		nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
		c->goaway_sent = 1;
		conn_send(c);
	} else if (c->nstreams == 0) {
		jg_log_info("connection from %s (%s) idle for %u ms: closing", c->peer, c->identity,
			    c->gw->cfg->idle_timeout_ms);
		nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
		c->goaway_sent = 1;
		conn_send(c);
	}
}

/* Hand nghttp2 LEN bytes at P.  0, or -1 when the connection was freed. */
static int conn_recv(struct jg_h2conn *c, const uint8_t *p, size_t len)
{
	ssize_t r = nghttp2_session_mem_recv(c->session, p, len);

	if (r < 0) {
		jg_log_warn("connection from %s (%s): HTTP/2 error: %s", c->peer, c->identity,
			    nghttp2_strerror((int)r));
		conn_free(c, "protocol error");
		return -1;
	}
	return 0;
}

/* What the oversized-field filter let through (h2field.h).  0, or -1: freed. */
static int conn_recv_filtered(struct jg_h2conn *c)
{
	size_t flen;

	while ((flen = evbuffer_get_contiguous_space(c->filtered)) > 0) {
		if (conn_recv(c, evbuffer_pullup(c->filtered, (ssize_t)flen), flen) != 0)
			return -1;
		evbuffer_drain(c->filtered, flen);
	}
	return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct jg_h2conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;

	while ((len = evbuffer_get_contiguous_space(in)) > 0) {
		const uint8_t *data = evbuffer_pullup(in, (ssize_t)len);
		size_t off = 0, k;

		c->gw->stats.bytes_from_clients += len;
		while (off < len) {
			/* Headers through the filter (an oversized field is made answerable,
			 * 431, before nghttp2 sees it); DATA payloads straight from here. */
			k = jg_h2field_feed_some(c->field, data + off, len - off, c->filtered);
			if (k == JG_H2FIELD_NOMEM) {
				jg_log_error("connection from %s (%s): out of memory", c->peer,
					     c->identity);
				conn_free(c, "no memory");
				return;
			}
			off += k;
			if (conn_recv_filtered(c) != 0)
				return;
			k = jg_h2field_pass(c->field, len - off);
			if (k > 0 && conn_recv(c, data + off, k) != 0)
				return;
			off += k;
		}
		evbuffer_drain(in, len);
	}
	conn_send(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	conn_send(arg);
}

static void tls_failure_reason(struct bufferevent *bev, char *buf, size_t len)
{
	unsigned long e;

	buf[0] = '\0';
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (buf[0] == '\0')
			ERR_error_string_n(e, buf, len);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "%s", errno ? strerror(errno) : "connection closed");
}

/* Connections of IDENTITY with a session, C excluded. */
static size_t identity_conns(const struct jg_h2conn *c)
{
	size_t n = 0;

	for (const struct jg_h2conn *o = c->gw->conns; o != NULL; o = o->next)
		if (o != c && o->session != NULL && !o->refused &&
		    strcmp(o->identity, c->identity) == 0)
			n++;
	return n;
}

/* The transport is up and c->identity known (TLS handshake done, or a plain
 * connection accepted): start the HTTP/2 session.  Returns -1 when C was freed. */
static int conn_established(struct jg_h2conn *c)
{
	struct jg_gateway *gw = c->gw;
	uint32_t max = gw->cfg->max_connections_per_identity;
	char why[160];
	int n;

	c->handshaken = 1;
	hs_unlink(c);
	evtimer_del(c->timer);
	/* The preface and the first request get a short time of their own: a connection
	 * that never asks for anything would otherwise count against its identity's
	 * max_connections_per_identity for the whole idle_timeout. */
	jg_h2_arm_timer(c, gw->cfg->preface_timeout_ms);
	if (jg_h2_session_start(c) != 0) {
		jg_log_error("connection from %s: cannot start HTTP/2 session", c->peer);
		conn_free(c, "no memory");
		return -1;
	}
	jg_log_info("connection from %s: identity \"%s\"", c->peer, c->identity);
	if (max > 0 && identity_conns(c) >= max) {
		/* Refused after the handshake, since only then is the identity known: a GOAWAY
		 * whose debug data says why, then the connection closes (conn_send). */
		n = snprintf(why, sizeof(why),
			     "too many connections for this identity (max_connections_per_identity "
			     "%u)",
			     max);
		jg_log_warn("connection from %s (%s) refused: already %u connection(s) for this "
			    "identity (max_connections_per_identity)",
			    c->peer, c->identity, max);
		nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_ENHANCE_YOUR_CALM,
				      (const uint8_t *)why, (size_t)n);
		c->goaway_sent = 1;
		c->refused = 1;
		return conn_send(c);
	}
	if (gw->draining) {
		jg_h2conn_drain_all(gw);
		return 0;
	}
	return conn_send(c);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	struct jg_h2conn *c = arg;
	char why[256];
	const unsigned char *alpn = NULL;
	unsigned alpnlen = 0;
	SSL *ssl;

	if ((events & BEV_EVENT_CONNECTED) && !c->plain) {
		ssl = bufferevent_openssl_get_ssl(bev);
		SSL_get0_alpn_selected(ssl, &alpn, &alpnlen);
		if (alpn == NULL || alpnlen != 2 || memcmp(alpn, "h2", 2) != 0) {
			jg_log_warn("connection from %s did not negotiate h2 (ALPN): closing",
				    c->peer);
			conn_free(c, "no h2");
			return;
		}
		jg_edge_tls_peer_identity(ssl, c->identity, sizeof(c->identity));
		conn_established(c);
		return;
	}
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		if (!c->handshaken) {
			tls_failure_reason(bev, why, sizeof(why));
			hs_fail_log(c->gw, c->peer, why);
			c->gw->stats.tls_failures++;
		} else if (events & BEV_EVENT_ERROR) {
			/* Many clients close without close_notify; that is not worth a log line. */
			tls_failure_reason(bev, why, sizeof(why));
			if (strstr(why, "unexpected eof") != NULL)
				jg_log_debug("connection from %s (%s) closed without close_notify",
					     c->peer, c->identity);
			else
				jg_log_info("connection from %s (%s) failed: %s", c->peer,
					    c->identity, why);
		}
		conn_free(c, (events & BEV_EVENT_EOF) ? "closed by peer" : "connection error");
	}
}

/* A connection for BEV (owned from now on, freed on failure), in gw->conns. */
static struct jg_h2conn *conn_new(struct jg_gateway *gw, struct bufferevent *bev, const char *peer)
{
	struct jg_h2conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		jg_h2bulk_free(bev);
		return NULL;
	}
	c->gw = gw;
	c->bev = bev;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	snprintf(c->identity, sizeof(c->identity), "(handshaking)");
	c->timer = evtimer_new(gw->base, on_timer, c);
	c->flush_ev = event_new(gw->base, -1, 0, on_flush, c);
	if (c->timer == NULL || c->flush_ev == NULL) {
		if (c->timer)
			event_free(c->timer);
		if (c->flush_ev)
			event_free(c->flush_ev);
		jg_h2bulk_free(bev);
		free(c);
		return NULL;
	}
	c->next = gw->conns;
	if (gw->conns)
		gw->conns->prev = c;
	gw->conns = c;
	gw->stats.conns_current++;
	gw->stats.conns_total++;
	return c;
}

void jg_h2conn_accept(struct jg_gateway *gw, struct bufferevent *bev, const char *peer)
{
	struct jg_h2conn *c = conn_new(gw, bev, peer);

	if (c == NULL)
		return;
	jg_h2_arm_timer(c, gw->cfg->handshake_timeout_ms);
	jg_h2bulk_tune_bev(bev);
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	hs_add(c);
}

void jg_h2conn_accept_plain(struct jg_gateway *gw, struct bufferevent *bev, const char *peer,
			    const char *identity)
{
	struct jg_h2conn *c = conn_new(gw, bev, peer);

	if (c == NULL)
		return;
	c->plain = 1;
	snprintf(c->identity, sizeof(c->identity), "%s", identity);
	jg_h2bulk_tune_bev(bev);
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	/* No handshake: the client's preface may already be waiting. */
	if (conn_established(c) == 0)
		bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void conn_free(struct jg_h2conn *c, const char *why)
{
	struct jg_gateway *gw = c->gw;

	hs_unlink(c);
	while (c->streams != NULL)
		jg_h2_stream_close(c->streams, why);
	if (c->session != NULL)
		nghttp2_session_del(c->session);
	jg_h2field_free(c->field);
	if (c->filtered != NULL)
		evbuffer_free(c->filtered);
	if (c->prev)
		c->prev->next = c->next;
	else
		gw->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	gw->stats.conns_current--;
	if (c->handshaken)
		jg_log_debug("connection from %s (%s) closed: %s", c->peer, c->identity, why);
	event_free(c->timer);
	event_free(c->flush_ev);
	/* The SSL is freed with the bufferevent (BEV_OPT_CLOSE_ON_FREE): shut it down quietly
	 * so no close_notify write is attempted on a dead socket. */
	if (!c->plain)
		SSL_set_shutdown(bufferevent_openssl_get_ssl(c->bev), SSL_RECEIVED_SHUTDOWN);
	/* The last records (a TLS alert, a GOAWAY) to the socket before it is shut. */
	jg_h2bulk_send_now(c->bev);
	/* A refused connection lingers too, so its GOAWAY is read rather than reset. */
	if ((!c->handshaken || c->refused || c->linger) && !c->no_linger)
		linger_close(gw, bufferevent_getfd(c->bev));
	jg_h2bulk_free(c->bev);
	free(c);
	if (gw->draining && gw->conns == NULL)
		event_base_loopexit(gw->base, NULL);
}

void jg_h2conn_drain_all(struct jg_gateway *gw)
{
	struct jg_h2conn *c, *next;

	for (c = gw->conns; c != NULL; c = next) {
		next = c->next;
		if (c->session == NULL) {
			/* Still handshaking: nothing to drain. */
			conn_free(c, "shutting down");
			continue;
		}
		if (!c->goaway_sent) {
			nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
					      nghttp2_session_get_last_proc_stream_id(c->session),
					      NGHTTP2_NO_ERROR, NULL, 0);
			c->goaway_sent = 1;
		}
		conn_send(c);
	}
}

void jg_h2conn_close_all(struct jg_gateway *gw)
{
	while (gw->conns != NULL)
		conn_free(gw->conns, "shutdown: drain time is up");
	/* The loop is over: closed connections still lingering are closed now. */
	while (gw->lingers != NULL)
		linger_free(gw->lingers);
}
