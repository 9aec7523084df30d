/* Multiplexer, session side: the nghttp2 server session of one controller
 * connection (h2.c owns the connection): its callbacks, settings and windows, and
 * the streams it opens and closes.
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
 * schedule a flush event instead (jg_h2_schedule_flush, h2.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "gateway/admission/api.h"
#include "gateway/onward/agentfwd.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "h2/bulk.h"
#include "gateway/edge/h2conn.h"
#include "gateway/edge/h2field.h"
#include "gateway/memtrim.h"
#include "gateway/onward/setupq.h"
#include "gateway/sites/sites.h"
#include "relay/log.h"

/* Stop asking nghttp2 for frames while this much is waiting for the socket. */
#define OUTPUT_HIGH_WATER 65536u
/* SETTINGS_HEADER_TABLE_SIZE, and the most our HPACK encoder uses whatever the
 * client advertises: the RFC's default, a bounded cost per connection. */
#define HPACK_TABLE_SIZE 4096u
/* A request's header list decoding to this many times max_header_list_size is not a
 * large request (answered 431) but an HPACK bomb (its stream reset at once). */
#define HPACK_BOMB_FACTOR 8u

/* Rapid reset: judged once a connection has reset this many streams, and cut when
 * more than half of the streams it opened were reset by it (HAProxy counts such
 * "glitches" the same way).  A client that cancels an operation now and then stays
 * far below; one that opens streams only to reset them is cut long before nghttp2's
 * own limit (1000 a burst), each of them having started a process. */
#define RESET_MIN 32u

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
		jg_h2_arm_timer(c, c->gw->cfg->idle_timeout_ms);
	if (c->gw->stats.streams_current == 0)
		jg_memtrim_idle(); /* a burst is over: its heap goes back (memtrim.h) */
}

/* The operation is told first, so it stops using the stream before it goes away. */
void jg_h2_stream_close(struct jg_stream *s, const char *why)
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
	jg_h2_stream_close(s, error_code == NGHTTP2_NO_ERROR ? "stream closed"
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

int jg_h2_session_start(struct jg_h2conn *c)
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
