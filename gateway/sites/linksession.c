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
 * nghttp2_session_send is never called from inside the session's callbacks:
 * writers call jg_sitelink_schedule_flush.  A failure found inside a callback
 * goes through jg_sitelink_fail_soon. */
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
#include "gateway/sites/sitelink.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/log.h"

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
	int r;

	if (l->session == NULL)
		return;
	if ((r = nghttp2_session_send(l->session)) != 0) {
		jg_sitelink_fail(l, "HTTP/2 error: %s", nghttp2_strerror(r));
		return;
	}
	if (!nghttp2_session_want_read(l->session) && !nghttp2_session_want_write(l->session) &&
	    evbuffer_get_length(bufferevent_get_output(l->bev)) == 0)
		jg_sitelink_fail(l, "%s closed the HTTP/2 session%s", l->site->name,
				 l->retiring ? " (it is shutting down)" : "");
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
		jg_sitelink_schedule_flush(l);
	return id;
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
			return;
		}
		evbuffer_drain(l->route_buf, n + 1);
	}
	if (evbuffer_get_length(l->route_buf) > ROUTE_LINE_MAX)
		jg_sitelink_fail_soon(l, "route stream: a line longer than 64 KiB");
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
		snprintf(why, sizeof(why), "%s is shutting down", l->site->name);
		retire(l, why);
		return 0;
	case NGHTTP2_HEADERS:
		if (id == l->route_stream) {
			if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE)
				route_answered(l);
			break;
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
		/* The peer stopped serving routes (it drains): as a GOAWAY. */
		snprintf(why, sizeof(why), "%s stopped serving routes (it is shutting down)",
			 l->site->name);
		retire(l, why);
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
	char why[200];

	if (id == l->route_stream) {
		l->route_stream = -1;
		if (!l->retiring) {
			snprintf(why, sizeof(why), "%s closed our route stream (%s)", l->site->name,
				 nghttp2_http2_strerror(error_code));
			jg_sitelink_fail_soon(l, why);
		}
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
	if (l->retiring && l->nstreams == 0)
		jg_sitelink_fail_soon(l, l->retire_why);
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

/* ---------------------------------------------------------------- the session */

int jg_linksess_recv(struct jg_sitelink *l, const uint8_t *data, size_t len)
{
	ssize_t r;

	if (l->session == NULL)
		return 0;
	l->bytes_in += len;
	r = nghttp2_session_mem_recv(l->session, data, len);
	if (r < 0) {
		jg_sitelink_fail(l, "HTTP/2 error from %s: %s", l->site->name,
				 nghttp2_strerror((int)r));
		return -1;
	}
	return 0;
}

static int session_new(struct jg_sitelink *l)
{
	const struct jg_config *cfg = l->gw->cfg;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 16},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->stream_window},
	    {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, JG_H2_MAX_FRAME},
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
	jg_h2bulk_tune_callbacks(cbs);
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
	if (nghttp2_submit_settings(l->session, NGHTTP2_FLAG_NONE, iv,
				    sizeof(iv) / sizeof(iv[0])) != 0)
		return -1;
	nghttp2_session_set_local_window_size(
	    l->session, NGHTTP2_FLAG_NONE, 0,
	    (int32_t)(conn_window > 0x7fffffff ? 0x7fffffff : conn_window));
	return 0;
}

int jg_linksess_start(struct jg_sitelink *l)
{
	l->retiring = 0;
	l->retire_why[0] = '\0';
	l->route_status = 0;
	if (session_new(l) != 0) {
		jg_sitelink_fail(l, "cannot start an HTTP/2 session: out of memory");
		return -1;
	}
	jg_linksess_ping(l);
	l->route_stream = submit(l, "GET", NULL, "/v1/routes/stream", NULL, 0, NULL, NULL);
	if (l->route_stream < 0) {
		jg_sitelink_fail(l, "cannot open the route stream: %s",
				 nghttp2_strerror(l->route_stream));
		return -1;
	}
	return 0;
}

void jg_linksess_ping(struct jg_sitelink *l)
{
	if (l->session == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &l->ping_sent);
	l->ping_outstanding = 1;
	nghttp2_submit_ping(l->session, NGHTTP2_FLAG_NONE, NULL);
	jg_sitelink_schedule_flush(l);
}

void jg_linksess_goaway(struct jg_sitelink *l)
{
	if (l->session == NULL)
		return;
	nghttp2_submit_goaway(l->session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
	jg_sitelink_schedule_flush(l);
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
	if (l->session != NULL) {
		nghttp2_session_del(l->session);
		l->session = NULL;
	}
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
	nghttp2_data_provider prd = {.read_callback = body_read};
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
	jg_sitelink_schedule_flush(l);
}

void jg_sitelink_stream_consume(struct jg_sitelink_stream *st, size_t n)
{
	struct jg_sitelink *l = st->link;

	if (l->session == NULL || n == 0)
		return;
	nghttp2_session_consume(l->session, st->id, n);
	jg_sitelink_schedule_flush(l);
}

void jg_sitelink_stream_cancel(struct jg_sitelink_stream *st)
{
	struct jg_sitelink *l = st->link;

	st->cbs = NULL;
	if (l->session == NULL)
		return;
	nghttp2_submit_rst_stream(l->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
	jg_sitelink_schedule_flush(l);
}
