/* The HTTP/2 side of a link to a peer gateway (gateway/sites/sitelink.h): one
 * nghttp2 CLIENT session per established transport, the route stream we
 * subscribe to on it, and the streams users open on it (gateway/sites/sites.h).
 *
 * Flow control: automatic WINDOW_UPDATE is off, as on the server side: a
 * stream's response credit goes back only as its user passes the bytes on
 * (jg_sitelink_stream_consume).  The connection window covers every stream's
 * window, so one stalled stream never starves the others.
 *
 * The route stream: GET /v1/routes/stream, answered 200 (the link is then
 * UP), then one JSON line per change for as long as the peer serves
 * (relay/rtable.c learns them).  A bad line drops the link.
 *
 * A peer going away -- its GOAWAY, or its route stream ended cleanly -- makes
 * the link *retire*: its routes are withdrawn at once and no new stream
 * starts, but streams running on it finish; when the last one ends the link
 * is dropped (and dialled again by the transport's backoff).
 *
 * The session itself is the shared HTTP/2 client (h2/client.h): it never
 * re-enters nghttp2, and asks for a send (want_send) through
 * jg_sitelink_schedule_flush, so the link's output is written from the event
 * loop.  What is ours: the route stream, retiring, the link's streams and
 * their users.  A failure found inside a callback goes through
 * jg_sitelink_fail_soon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "h2/bulk.h"
#include "h2/client.h"
#include "gateway/sites/sitelink.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/log.h"

#define OUTPUT_HIGH_WATER 65536u
#define ROUTE_LINE_MAX 65536u
/* SETTINGS_MAX_CONCURRENT_STREAMS we announce (a peer opens none to us). */
#define LINK_MAX_STREAMS 16

struct jg_sitelink_stream {
	struct jg_sitelink *link;
	int32_t id;
	const struct jg_sitelink_stream_cbs *cbs; /* NULL once detached */
	void *ud;
	struct jg_sitelink_stream *next, *prev;
};

/* ---------------------------------------------------------------- retiring */

/* The peer goes away (WHY): withdraw its routes now, let the running streams end. */
static void retire(struct jg_sitelink *l, const char *why)
{
	char lost[400];

	if (l->retiring)
		return;
	l->retiring = 1;
	snprintf(l->retire_why, sizeof(l->retire_why), "%s", why);
	snprintf(lost, sizeof(lost), "route to %s lost: %s", l->site->name, why);
	jg_log_info("site %s: %s; %zu stream(s) through it may finish", l->site->name, why,
		    l->nstreams);
	jg_routes_link_down(l->gw, l->site->name, lost);
	if (l->nstreams == 0)
		jg_sitelink_fail_soon(l, why);
}

/* ---------------------------------------------------------------- sending */

void jg_linksess_send(struct jg_sitelink *l)
{
	uint64_t before;
	int r;

	if (l->session == NULL)
		return;
	before = jg_h2client_bytes_out(l->session);
	r = jg_h2client_send(l->session);
	l->bytes_out += jg_h2client_bytes_out(l->session) - before;
	if (r != 0) {
		jg_sitelink_fail(l, "HTTP/2 error: %s", nghttp2_strerror(r));
		return;
	}
	if (!jg_h2client_alive(l->session) &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) == 0)
		jg_sitelink_fail(l, "%s closed the HTTP/2 session%s", l->site->name,
				 l->retiring ? " (it is shutting down)" : "");
}

static int32_t submit(struct jg_sitelink *l, const char *method, const char *protocol,
		      const char *path, const char *const headers[][2], size_t nheaders, int flags,
		      const struct jg_h2client_stream_cbs *cbs, void *arg)
{
	int32_t id = jg_h2client_submit(l->session, method, protocol, path, headers, nheaders,
					flags, cbs, arg);

	if (id >= 0)
		jg_sitelink_schedule_flush(l);
	return id;
}

/* ---------------------------------------------------------------- the route stream */

static int route_header(void *arg, const char *name, const char *value)
{
	struct jg_sitelink *l = arg;

	if (strcmp(name, ":status") == 0)
		l->route_status = atoi(value);
	return 0;
}

/* Complete lines of the route stream go to the table; a bad line drops the link. */
static int route_data(void *arg, const uint8_t *data, size_t len)
{
	struct jg_sitelink *l = arg;
	struct evbuffer_ptr eol;
	char err[300];

	evbuffer_add(l->route_buf, data, len);
	jg_h2client_consume(l->session, l->route_stream, len);
	for (;;) {
		size_t n;
		char *line;
		int r;

		eol = evbuffer_search(l->route_buf, "\n", 1, NULL);
		if (eol.pos < 0)
			break;
		n = (size_t)eol.pos;
		line = (char *)evbuffer_pullup(l->route_buf, (ssize_t)n + 1);
		r = n > 0 ? jg_routes_learn(l->gw, l->site->name, line, n, err, sizeof(err)) : 0;
		if (r == JG_ERR_TOOBIG) {
			jg_log_warn("site %s: %s", l->site->name, err);
		} else if (r != 0) {
			jg_sitelink_fail_soon(l, err);
			return 0;
		}
		evbuffer_drain(l->route_buf, n + 1);
	}
	if (evbuffer_get_length(l->route_buf) > ROUTE_LINE_MAX)
		jg_sitelink_fail_soon(l, "route stream: a line longer than 64 KiB");
	return 0;
}

/* The route stream's answer: UP, or a refusal that drops the link. */
static void route_answered(struct jg_sitelink *l)
{
	char why[200];

	if (l->route_status != 200) {
		snprintf(why, sizeof(why),
			 "%s refused our route stream (HTTP %d): is our client certificate's "
			 "identity allowed \"admin\" there?",
			 l->site->name, l->route_status);
		jg_sitelink_fail_soon(l, why);
		return;
	}
	jg_sitelink_up(l);
}

static void route_frame_end(void *arg, int headers, int end_stream)
{
	struct jg_sitelink *l = arg;
	char why[200];

	if (headers == JG_H2CLIENT_HEADERS)
		route_answered(l);
	if (end_stream) {
		/* The peer stopped serving routes (it drains): as a GOAWAY. */
		snprintf(why, sizeof(why), "%s stopped serving routes (it is shutting down)",
			 l->site->name);
		retire(l, why);
	}
}

static void route_close(void *arg, uint32_t error_code)
{
	struct jg_sitelink *l = arg;
	char why[200];

	l->route_stream = -1;
	if (!l->retiring) {
		snprintf(why, sizeof(why), "%s closed our route stream (%s)", l->site->name,
			 nghttp2_http2_strerror(error_code));
		jg_sitelink_fail_soon(l, why);
	}
}

static const struct jg_h2client_stream_cbs route_cbs = {
    .header = route_header,
    .data = route_data,
    .close = route_close,
    .frame_end = route_frame_end,
};

/* ---------------------------------------------------------------- the session's events */

static void link_want_send(void *arg)
{
	jg_sitelink_schedule_flush(arg);
}

static void link_goaway(void *arg, uint32_t error_code, const uint8_t *data, size_t len)
{
	struct jg_sitelink *l = arg;
	char why[200];

	snprintf(why, sizeof(why), "%s is shutting down", l->site->name);
	retire(l, why);
}

static void link_ping_ack(void *arg)
{
	struct jg_sitelink *l = arg;
	struct timespec now;

	if (!l->ka.outstanding)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	l->rtt_ms = (double)(now.tv_sec - l->ping_sent.tv_sec) * 1e3 +
		    (double)(now.tv_nsec - l->ping_sent.tv_nsec) / 1e6;
	jg_keepalive_answered(&l->ka);
}

static const struct jg_h2client_cbs link_h2_cbs = {
    .want_send = link_want_send,
    .goaway = link_goaway,
    .ping_ack = link_ping_ack,
};

/* ---------------------------------------------------------------- a user's stream */

/* Each callback passes an event on to the stream's user, unless it detached
 * (jg_sitelink_stream_cancel): then response bytes are credited back at once and the
 * request body ends. */

static int stream_header(void *arg, const char *name, const char *value)
{
	struct jg_sitelink_stream *st = arg;

	if (st->cbs != NULL)
		st->cbs->on_header(st->ud, name, value);
	return 0;
}

static void stream_frame_end(void *arg, int headers, int end_stream)
{
	struct jg_sitelink_stream *st = arg;

	if (headers == JG_H2CLIENT_HEADERS && st->cbs != NULL)
		st->cbs->on_headers_end(st->ud);
	/* Then h2/client.c resets the stream (not a tunnel): what we still send has no
	 * reader (as client/conn.c). */
	if (end_stream && st->cbs != NULL)
		st->cbs->on_end(st->ud);
}

static int stream_data(void *arg, const uint8_t *data, size_t len)
{
	struct jg_sitelink_stream *st = arg;

	if (st->cbs != NULL)
		st->cbs->on_data(st->ud, data, len);
	else
		jg_h2client_consume(st->link->session, st->id, len);
	return 0;
}

static ssize_t stream_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct jg_sitelink_stream *st = arg;

	if (st->cbs == NULL) {
		*eof = 1;
		return 0;
	}
	return st->cbs->body(st->ud, buf, len, eof);
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

static void stream_close(void *arg, uint32_t error_code)
{
	struct jg_sitelink_stream *st = arg;
	struct jg_sitelink *l = st->link;

	stream_unlink(l, st);
	if (st->cbs != NULL)
		st->cbs->on_close(st->ud, error_code, NULL);
	free(st);
	if (l->retiring && l->nstreams == 0)
		jg_sitelink_fail_soon(l, l->retire_why);
}

static const struct jg_h2client_stream_cbs stream_cbs = {
    .header = stream_header,
    .data = stream_data,
    .body = stream_body,
    .close = stream_close,
    .frame_end = stream_frame_end,
};

/* ---------------------------------------------------------------- the session */

int jg_linksess_recv(struct jg_sitelink *l, const uint8_t *data, size_t len)
{
	int r;

	if (l->session == NULL)
		return 0;
	l->bytes_in += len;
	if ((r = jg_h2client_recv(l->session, data, len)) != 0) {
		jg_sitelink_fail(l, "HTTP/2 error from %s: %s", l->site->name, nghttp2_strerror(r));
		return -1;
	}
	return 0;
}

int jg_linksess_start(struct jg_sitelink *l)
{
	const struct jg_config *cfg = l->gw->cfg;
	uint64_t conn_window = (uint64_t)cfg->max_streams * cfg->stream_window;
	/* Automatic WINDOW_UPDATE off: credit goes back as users pass bytes on. */
	struct jg_h2client_config hc = {
	    .scheme = "https",
	    .authority = l->site->address,
	    .max_streams = LINK_MAX_STREAMS,
	    .stream_window = cfg->stream_window,
	    .session_window = (uint32_t)(conn_window > 0x7fffffff ? 0x7fffffff : conn_window),
	    .max_frame = JG_H2_MAX_FRAME,
	    .out_high = OUTPUT_HIGH_WATER,
	    .manual_window = 1,
	    .out = bufferevent_get_output(l->bev),
	    .cbs = &link_h2_cbs,
	    .arg = l,
	};
	int r;

	l->retiring = 0;
	l->retire_why[0] = '\0';
	l->route_status = 0;
	if ((l->session = jg_h2client_new(&hc, &r)) == NULL) {
		jg_sitelink_fail(l, "cannot start an HTTP/2 session: %s", nghttp2_strerror(r));
		return -1;
	}
	jg_linksess_ping(l);
	l->route_stream = submit(l, "GET", NULL, "/v1/routes/stream", NULL, 0,
				 JG_H2CLIENT_KEEP_REQUEST, &route_cbs, l);
	if (l->route_stream < 0) {
		jg_sitelink_fail(l, "cannot open the route stream: %s",
				 jg_strerror(l->route_stream));
		return -1;
	}
	return 0;
}

void jg_linksess_ping(struct jg_sitelink *l)
{
	if (l->session == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &l->ping_sent);
	jg_keepalive_sent(&l->ka);
	jg_h2client_ping(l->session);
}

void jg_linksess_goaway(struct jg_sitelink *l)
{
	if (l->session == NULL)
		return;
	jg_h2client_goaway(l->session, 0);
}

void jg_linksess_close(struct jg_sitelink *l, const char *lost)
{
	struct jg_sitelink_stream *st;

	/* Users first, while the streams still exist; each is freed after its callback. */
	while ((st = l->streams) != NULL) {
		l->streams = st->next;
		if (st->cbs != NULL)
			st->cbs->on_close(st->ud, 0, lost);
		free(st);
	}
	l->nstreams = 0;
	jg_h2client_free(l->session); /* calls no stream callbacks */
	l->session = NULL;
	l->retiring = 0;
	l->route_stream = -1;
	evbuffer_drain(l->route_buf, evbuffer_get_length(l->route_buf));
}

/* ---------------------------------------------------------------- streams */

struct jg_sitelink_stream *jg_sitelink_request(struct jg_sitelink *l, const char *method,
					       const char *protocol, const char *path,
					       const char *const headers[][2], size_t nheaders,
					       const struct jg_sitelink_stream_cbs *cbs, void *ud,
					       char *err, size_t errlen)
{
	struct jg_sitelink_stream *st;
	int32_t id;

	if (l->retiring) {
		snprintf(err, errlen, "%s", l->retire_why);
		return NULL;
	}
	if (l->state != JG_SITELINK_UP || l->session == NULL) {
		snprintf(err, errlen, "the link to %s is %s%s%s", l->site->name,
			 jg_sitelink_state_name(l->state), l->error[0] ? ": " : "", l->error);
		return NULL;
	}
	if (protocol != NULL && !jg_h2client_can_connect(l->session)) {
		snprintf(err, errlen, "%s does not accept extended CONNECT", l->site->name);
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->link = l;
	st->cbs = cbs;
	st->ud = ud;
	/* A tunnel's request side goes on after the far end's EOF. */
	id = submit(l, method, protocol, path, headers, nheaders,
		    protocol != NULL ? JG_H2CLIENT_KEEP_REQUEST : 0, &stream_cbs, st);
	if (id < 0) {
		free(st);
		snprintf(err, errlen, "cannot open a stream to %s: %s", l->site->name,
			 jg_strerror(id));
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
	jg_h2client_resume(l->session, st->id); /* asks for a flush */
}

void jg_sitelink_stream_consume(struct jg_sitelink_stream *st, size_t n)
{
	struct jg_sitelink *l = st->link;

	if (l->session == NULL || n == 0)
		return;
	jg_h2client_consume(l->session, st->id, n);
}

void jg_sitelink_stream_cancel(struct jg_sitelink_stream *st)
{
	struct jg_sitelink *l = st->link;

	st->cbs = NULL;
	if (l->session == NULL)
		return;
	jg_h2client_cancel(l->session, st->id);
}
