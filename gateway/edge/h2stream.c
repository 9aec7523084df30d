/* The stream API operations use (gateway.h): response headers and a body
 * queue per stream that nghttp2 pulls as the client's window allows, request
 * headers, flow-control credit, resets.
 *
 * The buffer budget: every byte queued in a response (jg_stream_append,
 * jg_stream_reply) counts in gw->buffered until nghttp2 takes it or the
 * stream goes.  Above cfg->buffer_budget the agent links stop reading (their
 * agents then stop on channel windows, and processes on full pipes), and so do
 * the ops that read a source of their own (raw execs' ssh pipes, tunnel
 * targets' sockets), instead of the gateway growing; below three quarters of
 * it they resume (jg_onward_resume_all, and each op's on_budget hook).
 * Bytes are never refused, so a stream is never cut by the budget, only
 * slowed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/onward/agentlink.h"
#include "gateway/edge/h2conn.h"
#include "gateway/pump/pump.h"
#include "relay/clock.h"
#include "relay/json.h"
#include "relay/log.h"

/* Under load the budget is reached and left many times a second: one line per
 * BUDGET_LOG_MS at most, saying how often it happened meanwhile. */
#define BUDGET_LOG_MS 10000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void budget_take(struct jg_gateway *gw, size_t n)
{
	uint64_t now;

	gw->buffered += n;
	if (gw->budget_paused || gw->buffered <= gw->cfg->buffer_budget)
		return;
	/* Links, raw execs and tunnel sockets check gw->budget_paused before they read
	 * (agentlink.c, raw.c, tunnel.c). */
	gw->budget_paused = 1;
	gw->budget_pauses++;
	now = mono_ms();
	gw->budget_pause_logged =
	    gw->budget_log_ms == 0 || now - gw->budget_log_ms >= BUDGET_LOG_MS;
	if (!gw->budget_pause_logged)
		return;
	jg_log_warn("buffer budget reached: %llu bytes queued for clients (buffer_budget "
		    "%llu): agent links, raw execs and tunnel sockets pause until clients "
		    "catch up (reached %llu time(s) since the last such line)",
		    (unsigned long long)gw->buffered, (unsigned long long)gw->cfg->buffer_budget,
		    (unsigned long long)gw->budget_pauses);
	gw->budget_log_ms = now;
	gw->budget_pauses = 0;
}

/* Every op with an on_budget hook may read again.  The hooks only re-arm events (they
 * may move bytes already read onto their stream, which can pause the budget again: the
 * later hooks then see budget_paused and stay stopped until the next resume). */
static void budget_resume_ops(struct jg_gateway *gw)
{
	for (struct jg_h2conn *c = gw->conns; c != NULL; c = c->next)
		for (struct jg_stream *s = c->streams; s != NULL; s = s->next)
			if (s->op != NULL && s->op->cbs->on_budget != NULL)
				s->op->cbs->on_budget(s->op);
}

void jg_h2_budget_release(struct jg_gateway *gw, size_t n)
{
	gw->buffered = n > gw->buffered ? 0 : gw->buffered - n;
	/* Resume at three quarters, so links do not flap around the limit. */
	if (gw->budget_paused && gw->buffered <= gw->cfg->buffer_budget / 4 * 3) {
		gw->budget_paused = 0;
		if (gw->budget_pause_logged)
			jg_log_info("buffer budget: %llu bytes queued: agent links resume (raw "
				    "execs and tunnel sockets too)",
				    (unsigned long long)gw->buffered);
		jg_onward_resume_all(gw);
		budget_resume_ops(gw);
	}
}

/* Submit S's trailers (they carry END_STREAM); 0, or -1 (the DATA ends the stream). */
static int stream_trailers(struct jg_stream *s)
{
	nghttp2_nv nv[2] = {
	    {(uint8_t *)"x-jumpgate-error", (uint8_t *)s->trailers[0], 16, strlen(s->trailers[0]),
	     NGHTTP2_NV_FLAG_NONE},
	    {(uint8_t *)"x-jumpgate-reason", (uint8_t *)s->trailers[1], 17, strlen(s->trailers[1]),
	     NGHTTP2_NV_FLAG_NONE},
	};
	int r = nghttp2_submit_trailer(s->conn->session, s->id, nv, 2);

	if (r != 0)
		jg_log_warn("stream %d: cannot submit trailers: %s", s->id, nghttp2_strerror(r));
	return r != 0 ? -1 : 0;
}

/* The body is not copied into nghttp2's frame buffer (NGHTTP2_DATA_FLAG_NO_COPY): the
 * DATA frame's bytes stay in s->resp until jg_h2_resp_send moves them, chains and all,
 * behind the frame header in the connection's output. */
ssize_t jg_h2_resp_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t len,
			uint32_t *data_flags, nghttp2_data_source *source, void *ud)
{
	struct jg_stream *s = source->ptr;
	size_t have = evbuffer_get_length(s->resp), n = have < len ? have : len;

	(void)buf;
	if (n == 0 && !s->resp_finished) {
		s->deferred = 1;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (s->resp_finished && n == have) {
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		if (s->trailers[0] != NULL && stream_trailers(s) == 0)
			*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	if (n > 0)
		*data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	return (ssize_t)n;
}

int jg_h2_resp_send(struct jg_stream *s, struct evbuffer *out, const uint8_t *framehd,
		    size_t length, size_t padlen)
{
	static const uint8_t zeros[256];
	uint8_t pad = padlen > 0 ? (uint8_t)(padlen - 1) : 0;

	if (evbuffer_add(out, framehd, 9) != 0 || (padlen > 0 && evbuffer_add(out, &pad, 1) != 0) ||
	    evbuffer_remove_buffer(s->resp, out, length) != (int)length ||
	    (pad > 0 && evbuffer_add(out, zeros, pad) != 0))
		return -1;
	jg_h2_budget_release(s->conn->gw, length);
	if (s->op != NULL && s->op->cbs->on_sent != NULL)
		s->op->cbs->on_sent(s->op, length);
	return 0;
}

static const char *h2s_header(const struct jg_stream *s, const char *name)
{
	size_t len = evbuffer_get_length(s->hdrs), off = 0;
	const char *p = (const char *)evbuffer_pullup(s->hdrs, -1);

	while (off < len) {
		const char *n = p + off, *v = n + strlen(n) + 1;

		if (strcmp(n, name) == 0)
			return v;
		off = (size_t)(v + strlen(v) + 1 - p);
	}
	return NULL;
}

static int h2s_start(struct jg_stream *s, int status, const char *content_type)
{
	const char *hdrs[1][2] = {{"content-type", content_type}};

	return jg_stream_start_headers(s, status, hdrs, 1);
}

#define MAX_RESPONSE_HEADERS 16

static int h2s_start_headers(struct jg_stream *s, int status, const char *const headers[][2],
			     size_t n)
{
	char st[4];
	nghttp2_nv hdrs[MAX_RESPONSE_HEADERS + 1];
	nghttp2_data_provider prd;
	int r;

	if (s->resp_started || n > MAX_RESPONSE_HEADERS)
		return -1;
	snprintf(st, sizeof(st), "%03d", status);
	hdrs[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)st, 7, 3, NGHTTP2_NV_FLAG_NONE};
	for (size_t i = 0; i < n; i++)
		hdrs[i + 1] = (nghttp2_nv){(uint8_t *)headers[i][0], (uint8_t *)headers[i][1],
					   strlen(headers[i][0]), strlen(headers[i][1]),
					   NGHTTP2_NV_FLAG_NONE};
	prd.source.ptr = s;
	prd.read_callback = jg_h2_resp_read;
	r = nghttp2_submit_response(s->conn->session, s->id, hdrs, n + 1, &prd);
	if (r != 0) {
		jg_log_error("stream %d: cannot submit response: %s", s->id, nghttp2_strerror(r));
		return -1;
	}
	s->resp_started = 1;
	s->status = status;
	jg_h2_schedule_flush(s->conn);
	return 0;
}

static void stream_resume(struct jg_stream *s)
{
	if (s->deferred) {
		s->deferred = 0;
		nghttp2_session_resume_data(s->conn->session, s->id);
	}
	jg_h2_schedule_flush(s->conn);
}

static void h2s_append(struct jg_stream *s, struct evbuffer *buf)
{
	budget_take(s->conn->gw, evbuffer_get_length(buf));
	evbuffer_add_buffer(s->resp, buf);
	stream_resume(s);
}

static void h2s_finish(struct jg_stream *s)
{
	s->resp_finished = 1;
	stream_resume(s);
}

/* A header value from any bytes: control characters blanked, at most 400 bytes. */
static char *trailer_value(const char *v)
{
	size_t n = strnlen(v, 400);
	char *o = malloc(n + 1);

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? ' ' : v[i];
	o[n] = '\0';
	return o;
}

static int h2s_finish_failed(struct jg_stream *s, const char *error, const char *reason)
{
	char *e = trailer_value(error), *r = trailer_value(reason);

	if (e == NULL || r == NULL || s->trailers[0] != NULL) {
		free(e);
		free(r);
		return -1;
	}
	s->trailers[0] = e;
	s->trailers[1] = r;
	jg_stream_finish(s);
	return 0;
}

static size_t h2s_queued(const struct jg_stream *s)
{
	return evbuffer_get_length(s->resp);
}

static void h2s_reply(struct jg_stream *s, int status, const char *content_type, const char *body,
		      size_t len)
{
	budget_take(s->conn->gw, len);
	evbuffer_add(s->resp, body, len);
	s->resp_finished = 1;
	if (jg_stream_start(s, status, content_type) != 0)
		jg_stream_reset(s, NGHTTP2_INTERNAL_ERROR);
}

static void h2s_reply_error(struct jg_stream *s, int status, const char *error, const char *reason)
{
	/* The reason may hold any bytes (a peer's name, a path): relay/json.h makes it text. */
	size_t len;
	char *body = jg_json_error(error, reason, &len);

	free(s->error_reason);
	s->error_reason = strdup(reason); /* for the audit (NULL: the record says less) */
	if (body == NULL) {
		jg_stream_reset(s, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	jg_stream_reply(s, status, "application/json", body, len);
	free(body);
}

/* N body bytes moved on: their credit goes back; when GROW, the window may grow
 * first (relay/autowin.h says when). */
static void give_credit(struct jg_stream *s, size_t n, int grow)
{
	const struct jg_config *cfg = s->conn->gw->cfg;
	nghttp2_session *session = s->conn->session;
	int32_t window;
	uint32_t to = 0;

	if (n == 0)
		return;
	if (grow &&
	    (window = nghttp2_session_get_stream_effective_local_window_size(session, s->id)) > 0)
		to = jg_autowin_consumed(&s->win, &s->conn->gw->winbudget, n, jg_clock_ms(),
					 (uint32_t)window, cfg->stream_window_max,
					 cfg->window_budget);
	/* nghttp2 fails only out of memory: the stream keeps its window (and the
	 * growth counted until it ends). */
	if (to != 0 && nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, s->id,
							     (int32_t)to) == 0) {
		s->conn->gw->stats.windows_grown++;
		jg_log_debug("stream %d: window grown to %u bytes (%llu of window_budget in use)",
			     s->id, to, (unsigned long long)s->conn->gw->winbudget.used);
	}
	nghttp2_session_consume(session, s->id, n);
	jg_h2_schedule_flush(s->conn);
}

static void h2s_consume(struct jg_stream *s, size_t n)
{
	give_credit(s, n, 0);
}

static void h2s_consume_socket(struct jg_stream *s, size_t n)
{
	give_credit(s, n, 1);
}

static void h2s_reset(struct jg_stream *s, uint32_t h2_error)
{
	nghttp2_submit_rst_stream(s->conn->session, NGHTTP2_FLAG_NONE, s->id, h2_error);
	jg_h2_schedule_flush(s->conn);
}

static void h2s_flush(struct jg_stream *s)
{
	jg_h2_schedule_flush(s->conn);
}

static const char *h2s_identity(const struct jg_stream *s)
{
	return s->asserted != NULL ? s->asserted : s->conn->identity;
}

static const char *h2s_via(const struct jg_stream *s)
{
	const struct jg_config *cfg = s->conn->gw->cfg;

	for (size_t i = 0; s->asserted != NULL && i < cfg->nsites; i++)
		if (cfg->sites[i].trust_asserted_identity && cfg->sites[i].identity != NULL &&
		    strcmp(cfg->sites[i].identity, s->conn->identity) == 0)
			return cfg->sites[i].name;
	return NULL;
}

static const char *h2s_content_type(const struct jg_stream *s)
{
	return s->content_type;
}

static int h2s_headers(const struct jg_stream *s, const char *out[][2], size_t max,
		       const char *skip)
{
	size_t len = evbuffer_get_length(s->hdrs), off = 0, n = 0;
	const char *p = (const char *)evbuffer_pullup(s->hdrs, -1);

	while (off < len) {
		const char *name = p + off, *v = name + strlen(name) + 1;

		off = (size_t)(v + strlen(v) + 1 - p);
		if (skip != NULL && strcmp(name, skip) == 0)
			continue;
		if (n == max)
			return -1;
		out[n][0] = name;
		out[n++][1] = v;
	}
	return (int)n;
}

static const char *h2s_peer(const struct jg_stream *s)
{
	return s->conn->peer;
}

static int32_t h2s_id(const struct jg_stream *s)
{
	return s->id;
}

/* The stream side of a pump (gateway/pump/pump.h). */
static void pump_consume(void *s, size_t n)
{
	jg_stream_consume(s, n);
}

static void pump_append(void *s, struct evbuffer *buf)
{
	jg_stream_append(s, buf);
}

const struct jg_pump_stream_cbs jg_stream_pump_cbs = {
    .consume = pump_consume,
    .append = pump_append,
};

static void h2s_set_audited(struct jg_stream *s)
{
	s->audited = 1;
}

static const char *h2s_error_reason(const struct jg_stream *s)
{
	return s->error_reason;
}

static struct jg_stream *h2s_sibling(const struct jg_stream *s, int32_t id)
{
	/* The connection's own list: it holds exactly the streams not yet freed. */
	for (struct jg_stream *o = s->conn->streams; o != NULL; o = o->next)
		if (o->id == id)
			return o;
	return NULL;
}

static struct jg_op *h2s_op(const struct jg_stream *s)
{
	return s->op;
}

static void h2s_set_agent(struct jg_stream *s, int32_t agent_stream, int how)
{
	s->agent_stream = agent_stream;
	s->agent = how;
}

static int h2s_agent(const struct jg_stream *s, int32_t *agent_stream)
{
	if (agent_stream != NULL)
		*agent_stream = s->agent_stream;
	return s->agent;
}

/* gateway/stream.h reaches the table through the head: it must come first. */
_Static_assert(offsetof(struct jg_stream, head) == 0, "struct jg_stream begins with its head");

const struct jg_stream_cbs jg_h2stream_cbs = {
    .reply_error = h2s_reply_error,
    .reply = h2s_reply,
    .start = h2s_start,
    .start_headers = h2s_start_headers,
    .header = h2s_header,
    .append = h2s_append,
    .finish = h2s_finish,
    .finish_failed = h2s_finish_failed,
    .queued = h2s_queued,
    .consume = h2s_consume,
    .consume_socket = h2s_consume_socket,
    .reset = h2s_reset,
    .flush = h2s_flush,
    .peer = h2s_peer,
    .identity = h2s_identity,
    .via = h2s_via,
    .content_type = h2s_content_type,
    .headers = h2s_headers,
    .id = h2s_id,
    .sibling = h2s_sibling,
    .op = h2s_op,
    .set_agent = h2s_set_agent,
    .agent = h2s_agent,
    .set_audited = h2s_set_audited,
    .error_reason = h2s_error_reason,
};
