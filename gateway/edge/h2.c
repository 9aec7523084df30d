/* Multiplexer: one nghttp2 server session per controller connection.
 *
 * Contracts of the nghttp2 callbacks used here:
 *  - on_begin_headers creates the jg_stream; on_header fills method, path and
 *    content type; on_frame_recv(HEADERS, END_HEADERS) routes the request to an
 *    operation, which may answer at once.
 *  - on_data_chunk_recv hands body bytes to the operation.  Automatic
 *    WINDOW_UPDATE is off: the operation gives credit back with
 *    jg_stream_consume() once the next hop took the bytes, so a slow target
 *    slows its own stream only.
 *  - resp_read (the data provider) pulls the response queue; an empty queue
 *    defers the stream until jg_stream_append() resumes it.
 *  - on_stream_close tells the operation, then frees the stream.
 *  - When our response ends before the request body does, the client may keep
 *    sending: the bytes are credited and dropped.  After an error answer
 *    (status >= 400: a refused PUT...) the stream lingers H2_LINGER_MS for the
 *    body's end, then is reset with RST_STREAM(NO_ERROR), as RFC 9113 8.1
 *    allows: curl 7.88 stops sending when an error arrives before its body
 *    ended and then waits for the stream to close, which it otherwise did
 *    only at idle_timeout.  Not at once: a reset that reaches curl 7.88
 *    before it has stopped sending is "a framing error" (exit 92), and one
 *    submitted with the answer goes out first (nghttp2 sends other frames
 *    before DATA) and loses it.  Successful answers and tunnels keep the
 *    half-open stream.  When the client does end the request after such an
 *    answer (curl "stops sending" with an empty END_STREAM), a PING follows:
 *    curl 7.88 sees that close only while reading, and nothing else would
 *    come, so it waited for the connection's idle_timeout.
 * nghttp2_session_send() is never called from inside a callback: writers
 * schedule a flush event instead. */
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
#include "gateway/admission/api.h"
#include "gateway/onward/agentfwd.h"
#include "gateway/gateway.h"
#include "gateway/edge/edge.h"
#include "gateway/stream.h"
#include "h2/bulk.h"
#include "gateway/edge/h2conn.h"
#include "gateway/edge/h2field.h"
#include "gateway/memtrim.h"
#include "gateway/onward/setupq.h"
#include "gateway/sites/sites.h"
#include "relay/clock.h"
#include "relay/log.h"

/* Stop asking nghttp2 for frames while this much is waiting for the socket. */
#define OUTPUT_HIGH_WATER 65536u
/* SETTINGS_HEADER_TABLE_SIZE, and the most our HPACK encoder uses whatever the
 * client advertises: the RFC's default, a bounded cost per connection. */
#define HPACK_TABLE_SIZE 4096u
/* A request's header list decoding to this many times max_header_list_size is not a
 * large request (answered 431) but an HPACK bomb (its stream reset at once). */
#define HPACK_BOMB_FACTOR 8u

static void conn_free(struct jg_h2conn *c, const char *why);

/* Rapid reset: judged once a connection has reset this many streams, and cut when
 * more than half of the streams it opened were reset by it (HAProxy counts such
 * "glitches" the same way).  A client that cancels an operation now and then stays
 * far below; one that opens streams only to reset them is cut long before nghttp2's
 * own limit (1000 a burst), each of them having started a process. */
#define RESET_MIN 32u

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

static void arm_timer(struct jg_h2conn *c, uint32_t ms)
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

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t len, int flags,
		       void *ud)
{
	struct jg_h2conn *c = ud;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) >= OUTPUT_HIGH_WATER)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (bufferevent_write(c->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c->gw->stats.bytes_to_clients += len;
	return (ssize_t)len;
}

static int send_data_cb(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
			size_t length, nghttp2_data_source *source, void *ud)
{
	struct jg_h2conn *c = ud;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	(void)session;
	if (evbuffer_get_length(out) >= OUTPUT_HIGH_WATER)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (jg_h2_resp_send(source->ptr, out, framehd, length, frame->data.padlen) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	c->gw->stats.bytes_to_clients += 9 + length + frame->data.padlen;
	return 0;
}

static void stream_free(struct jg_stream *s)
{
	struct jg_h2conn *c = s->conn;

	if (s->linger != NULL)
		event_free(s->linger);
	free(s->trailers[0]);
	free(s->trailers[1]);
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	c->nstreams--;
	c->gw->stats.streams_current--;
	jg_h2_budget_release(c->gw, evbuffer_get_length(s->resp));
	jg_autowin_release(&s->win, &c->gw->winbudget);
	evbuffer_free(s->resp);
	evbuffer_free(s->hdrs);
	free(s->path);
	free(s->asserted);
	free(s->error_reason);
	free(s);
	if (c->nstreams == 0 && c->handshaken && !c->gw->draining)
		arm_timer(c, c->gw->cfg->idle_timeout_ms);
	if (c->gw->stats.streams_current == 0)
		jg_memtrim_idle(); /* a burst is over: its heap goes back (memtrim.h) */
}

/* The operation is told first, so it stops using the stream before it goes away. */
static void stream_close(struct jg_stream *s, const char *why)
{
	struct jg_op *op = s->op;

	s->op = NULL;
	if (op != NULL)
		op->cbs->on_close(op, why);
	/* The controller's agent was reachable for this request only. */
	if (s->agent_stream > 0)
		jg_agentfwd_release(s);
	/* Answered with an error before any policy question: audited now, once. */
	if (!s->audited && s->status >= 400)
		jg_api_refused(s->conn->gw, s, s->method, s->path != NULL ? s->path : "", s->status,
			       s->error_reason);
	stream_free(s);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct jg_h2conn *c = ud;
	struct jg_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	/* Cut for rapid reset: nghttp2 only ignores new streams once our GOAWAY is out,
	 * and the rest of this read may hold hundreds; refuse them here (RST_STREAM). */
	if (c->calm)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	c->opened++;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->resp = evbuffer_new()) == NULL || (s->hdrs = evbuffer_new()) == NULL) {
		if (s != NULL && s->resp != NULL)
			evbuffer_free(s->resp);
		free(s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	s->head.cbs = &jg_h2stream_cbs;
	s->conn = c;
	s->id = frame->hd.stream_id;
	/* A field over 64 KiB was replaced (h2field.h): answered 431 like any list too big. */
	s->hdr_too_big = jg_h2field_take(c->field, s->id);
	s->next = c->streams;
	if (c->streams)
		c->streams->prev = s;
	c->streams = s;
	c->nstreams++;
	c->gw->stats.streams_current++;
	c->gw->stats.streams_total++;
	evtimer_del(c->timer);
	nghttp2_session_set_stream_user_data(session, s->id, s);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	struct jg_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (s == NULL)
		return 0;
	/* SETTINGS_MAX_HEADER_LIST_SIZE is advisory to nghttp2 on receipt: enforce it here,
	 * counting as RFC 9113 6.5.2 does.  Past it the rest is dropped and the request is
	 * answered 431 once its headers end (on_frame_recv).  Trailers (which no operation
	 * reads) count in the same total. */
	s->hdr_bytes += namelen + valuelen + 32;
	if (s->hdr_bytes > (size_t)HPACK_BOMB_FACTOR * s->conn->gw->cfg->max_header_list_size) {
		/* No oversized request decodes to this much: an HPACK bomb (an entry of the
		 * dynamic table referenced over and over, a byte each) or a header flood.
		 * Reset the stream now: nghttp2 then decodes the rest of the block to keep
		 * the table in step with the client's, but without validating or handing us
		 * the fields, so the CPU spent stays in proportion to the bytes on the wire.
		 * The connection goes on. */
		jg_log_warn("%s (%s) stream %d: request headers decode to more than %u bytes "
			    "(%u x max_header_list_size): HPACK bomb or header flood, stream reset",
			    s->conn->peer, s->conn->identity, s->id,
			    HPACK_BOMB_FACTOR * s->conn->gw->cfg->max_header_list_size,
			    HPACK_BOMB_FACTOR);
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, s->id,
					  NGHTTP2_ENHANCE_YOUR_CALM);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* trailers: counted, not kept */
	if (s->hdr_too_big || s->hdr_bytes > s->conn->gw->cfg->max_header_list_size) {
		s->hdr_too_big = 1;
		return 0;
	}
	if (namelen == 7 && memcmp(name, ":method", 7) == 0) {
		snprintf(s->method, sizeof(s->method), "%.*s", (int)valuelen, (const char *)value);
	} else if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
		free(s->path);
		s->path = strndup((const char *)value, valuelen);
		if (s->path == NULL)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	} else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		snprintf(s->content_type, sizeof(s->content_type), "%.*s", (int)valuelen,
			 (const char *)value);
	} else if (namelen == 9 && memcmp(name, ":protocol", 9) == 0) {
		snprintf(s->protocol, sizeof(s->protocol), "%.*s", (int)valuelen,
			 (const char *)value);
	} else if (namelen > 0 && name[0] != ':') {
		/* nghttp2 bounds the whole list (SETTINGS_MAX_HEADER_LIST_SIZE), and names and
		 * values never contain NUL, so NUL separators are unambiguous. */
		if (evbuffer_add(s->hdrs, name, namelen) != 0 ||
		    evbuffer_add(s->hdrs, "", 1) != 0 ||
		    evbuffer_add(s->hdrs, value, valuelen) != 0 ||
		    evbuffer_add(s->hdrs, "", 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return 0;
}

/* The client reset one of its open streams: cut the connection (GOAWAY
 * ENHANCE_YOUR_CALM, no new streams) when it resets most of what it opens. */
static void count_reset(struct jg_h2conn *c)
{
	char why[160];
	int n;

	c->resets++;
	if (c->calm || c->resets < RESET_MIN || (uint64_t)c->resets * 2 <= c->opened)
		return;
	c->calm = 1;
	n = snprintf(why, sizeof(why),
		     "rapid reset: %u of the %u streams opened were reset by the client", c->resets,
		     c->opened);
	jg_log_warn("connection from %s (%s): %s: GOAWAY ENHANCE_YOUR_CALM, no new streams",
		    c->peer, c->identity, why);
	nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
			      nghttp2_session_get_last_proc_stream_id(c->session),
			      NGHTTP2_ENHANCE_YOUR_CALM, (const uint8_t *)why, (size_t)n);
	c->goaway_sent = 1;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct jg_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	struct jg_h2conn *c = ud;

	if (s == NULL)
		return 0;
	if (frame->hd.type == NGHTTP2_RST_STREAM) {
		count_reset(c);
		return 0;
	}
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		if (s->hdr_too_big) {
			jg_log_warn("%s (%s) stream %d: request headers over max_header_list_size "
				    "(%u bytes): refused with 431",
				    c->peer, c->identity, s->id, c->gw->cfg->max_header_list_size);
			jg_stream_reply_error(s, 431, "request header fields too large",
					      "the request's headers exceed the gateway's "
					      "max_header_list_size");
		} else if (s->path == NULL) {
			jg_stream_reply_error(s, 400, "bad request", "no :path");
		} else {
			/* A peer gateway trusted to assert (sites.identity) acts for the
			 * controller it names; anyone else for itself. */
			const char *a = jg_sites_trusted_assertion(
			    c->gw, c->identity, jg_stream_header(s, JG_ON_BEHALF_OF));

			if (a != NULL && (s->asserted = strdup(a)) == NULL)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
			jg_log_debug("%s (%s%s%s) stream %d: %s %s", c->peer, c->identity,
				     a != NULL ? " on behalf of " : "", a != NULL ? a : "", s->id,
				     s->method, s->path);
			jg_setupq_acting(c->gw, jg_stream_identity(s));
			s->op = jg_api_route(c->gw, s, s->method, s->path, s->content_type,
					     s->protocol);
			jg_setupq_acting(c->gw, NULL);
		}
	}
	if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
		s->req_ended = 1;
		/* See the top: the stream closes now, inside curl's send path; a PING gives
		 * it bytes to read, so it sees the close (nothing else may come). */
		if (s->resp_ended && s->status >= 400)
			nghttp2_submit_ping(session, NGHTTP2_FLAG_NONE, NULL);
		if (s->op != NULL && s->op->cbs->on_body_end != NULL) {
			jg_setupq_acting(c->gw, jg_stream_identity(s));
			s->op->cbs->on_body_end(s->op);
			jg_setupq_acting(c->gw, NULL);
		}
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			 const uint8_t *data, size_t len, void *ud)
{
	struct jg_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);

	if (s != NULL && s->op != NULL && s->op->cbs->on_body != NULL) {
		/* Onward setups the body asks for (exec's OPEN) count for this identity. */
		jg_setupq_acting(s->conn->gw, jg_stream_identity(s));
		jg_autowin_received(&s->win, len);
		s->op->cbs->on_body(s->op, data, len);
		jg_setupq_acting(s->conn->gw, NULL);
		return 0;
	}
	/* Nobody wants these bytes: give the credit back at once. */
	nghttp2_session_consume(session, stream_id, len);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *ud)
{
	struct jg_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);

	if (s == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	stream_close(s, error_code == NGHTTP2_NO_ERROR ? "stream closed"
						       : nghttp2_http2_strerror(error_code));
	return 0;
}
#define H2_LINGER_MS 1000 /* an error answer waits this long for the request's end */

/* The lingering stream's request never ended: reset it (see the top). */
static void on_stream_linger(evutil_socket_t fd, short what, void *arg)
{
	struct jg_stream *s = arg;

	(void)fd;
	(void)what;
	if (s->req_ended)
		return;
	jg_log_debug("%s stream %d: the request body did not end after the %d answer: reset "
		     "(NO_ERROR)",
		     s->conn->peer, s->id, s->status);
	nghttp2_submit_rst_stream(s->conn->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
	jg_h2_schedule_flush(s->conn);
}

/* Contract: a frame went out.  See the top: an error answer complete while the request
 * is still open lingers, then is reset with NO_ERROR so the client stops and ends. */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct timeval tv = {H2_LINGER_MS / 1000, (H2_LINGER_MS % 1000) * 1000};
	struct jg_h2conn *c = ud;
	struct jg_stream *s;

	if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (s != NULL)
		s->resp_ended = 1;
	if (s == NULL || s->req_ended || s->status < 400 || s->linger != NULL)
		return 0;
	/* Out of memory: the stream ends at idle_timeout, as it did. */
	if ((s->linger = evtimer_new(c->gw->base, on_stream_linger, s)) != NULL)
		evtimer_add(s->linger, &tv);
	return 0;
}

/* A frame nghttp2 rejected; the one worth a line is a stream past max_streams
 * (nghttp2 resets it itself), logged once per connection. */
static int on_invalid_frame(nghttp2_session *session, const nghttp2_frame *frame,
			    int lib_error_code, void *ud)
{
	struct jg_h2conn *c = ud;

	if (frame->hd.type != NGHTTP2_HEADERS || c->limit_logged ||
	    c->nstreams < c->gw->cfg->max_streams)
		return 0;
	c->limit_logged = 1;
	jg_log_warn("connection from %s (%s): more than max_streams (%u) streams at once: "
		    "refused (%s)",
		    c->peer, c->identity, c->gw->cfg->max_streams,
		    nghttp2_strerror(lib_error_code));
	return 0;
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

static int session_start(struct jg_h2conn *c)
{
	const struct jg_config *cfg = c->gw->cfg;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[6];
	int32_t conn_window;
	int r;

	if ((c->field = jg_h2field_new()) == NULL || (c->filtered = evbuffer_new()) == NULL)
		return -1;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return -1;
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_send_data_callback(cbs, send_data_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
	jg_h2bulk_tune_callbacks(cbs);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return -1;
	}
	/* Credit is returned by the operations, never automatically. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	/* HPACK: our encoder never keeps more than HPACK_TABLE_SIZE, whatever the client
	 * offers; its encoder is held to the same by SETTINGS_HEADER_TABLE_SIZE below. */
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, HPACK_TABLE_SIZE);
	r = nghttp2_session_server_new2(&c->session, cbs, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (r != 0)
		return -1;
	iv[0] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->max_streams};
	iv[1] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->stream_window};
	iv[2] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
					 cfg->max_header_list_size};
	/* Extended CONNECT (RFC 8441) carries byte tunnels. */
	iv[3] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1};
	iv[4] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, HPACK_TABLE_SIZE};
	iv[5] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_FRAME_SIZE, JG_H2_MAX_FRAME};
	/* nghttp2 refuses streams past MAX_CONCURRENT_STREAMS itself: RST_STREAM
	 * REFUSED_STREAM while our SETTINGS are unacknowledged; once the client has
	 * acknowledged them, exceeding is a connection error (GOAWAY PROTOCOL_ERROR,
	 * "max concurrent streams exceeded"; RFC 9113 5.1.2 allows either), the
	 * streams below the limit already accepted run to their end.  on_invalid_frame
	 * logs it. */
	if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 6) != 0)
		return -1;
	/* The connection window must not let one stalled stream starve the others:
	 * it covers every stream's window, and all the growth they may take. */
	conn_window =
	    (int32_t)((uint64_t)cfg->max_streams * cfg->stream_window + cfg->window_budget >
			      0x7fffffff
			  ? 0x7fffffff
			  : cfg->max_streams * cfg->stream_window + cfg->window_budget);
	nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, conn_window);
	return 0;
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
	arm_timer(c, gw->cfg->preface_timeout_ms);
	if (session_start(c) != 0) {
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
	arm_timer(c, gw->cfg->handshake_timeout_ms);
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
		stream_close(c->streams, why);
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
