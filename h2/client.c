/* One HTTP/2 client session over an evbuffer: see h2/client.h.
 *
 * Invariants:
 *   - nghttp2_session_send runs in one place (jg_h2client_send) and never inside
 *     itself: IN_SEND turns a nested call into SEND_AGAIN, one more round after it;
 *   - nothing sends while nghttp2_session_mem_recv runs (IN_RECV): the owner sends
 *     after jg_h2client_recv, so want_send is not called then;
 *   - every stream of ours is nghttp2's stream user data and on H->streams until its
 *     close callback, which unlinks it before calling the owner's close. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "h2/bulk.h"
#include "h2/client.h"
#include "relay/err.h"
#include "relay/log.h"

/* The most header fields of a request, pseudo-headers included. */
#define H2CLIENT_MAX_FIELDS 40

struct h2client_stream {
	const struct jg_h2client_stream_cbs *cbs;
	void *arg;
	int flags; /* JG_H2CLIENT_KEEP_REQUEST */
	struct h2client_stream *next, *prev;
};

struct jg_h2client {
	nghttp2_session *session;
	const struct jg_h2client_cbs *cbs;
	void *arg;
	struct evbuffer *out;
	size_t out_high;
	int manual_window;
	char *scheme, *authority;
	struct h2client_stream *streams; /* open streams, freed with the session at the latest */
	int in_recv;			 /* inside nghttp2_session_mem_recv */
	int in_send, send_again;	 /* inside nghttp2_session_send: once more after it */
	int settings_seen;		 /* the peer's first SETTINGS arrived */
	uint64_t bytes_in, bytes_out;
};

static void stream_unlink(struct jg_h2client *h, struct h2client_stream *st)
{
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	st->next = st->prev = NULL;
}

/* Ask the owner to send what was just submitted, unless it will anyway (after recv). */
static void kick(struct jg_h2client *h)
{
	if (!h->in_recv && h->cbs->want_send != NULL)
		h->cbs->want_send(h->arg);
}

/* ---------------------------------------------------------------- sending */

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
		       void *user_data)
{
	struct jg_h2client *h = user_data;

	/* Backpressure: leave the rest in nghttp2 until the owner drained OUT. */
	if (evbuffer_get_length(h->out) >= h->out_high)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(h->out, data, length) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	h->bytes_out += length;
	return (ssize_t)length;
}

/* A DATA frame of a body_queue stream: its header, then the bytes moved (chains, not
 * copies) from the queue into OUT. */
static int send_data_cb(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
			size_t length, nghttp2_data_source *source, void *user_data)
{
	static const uint8_t zeros[256];
	struct jg_h2client *h = user_data;
	struct h2client_stream *st =
	    nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	uint8_t pad = frame->data.padlen > 0 ? (uint8_t)(frame->data.padlen - 1) : 0;
	struct evbuffer *q;
	int eof = 0;

	(void)source;
	/* The stream closed while this frame waited for room (WOULDBLOCK below): nghttp2
	 * still asks for its bytes, which nobody reads any more.  Drop the frame, not the
	 * connection (an rsync through rsh whose far end had exited failed so). */
	if (st == NULL || st->cbs->body_queue == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(h->out) >= h->out_high)
		return NGHTTP2_ERR_WOULDBLOCK;
	if ((q = st->cbs->body_queue(st->arg, &eof)) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_add(h->out, framehd, 9) != 0 ||
	    (frame->data.padlen > 0 && evbuffer_add(h->out, &pad, 1) != 0) ||
	    evbuffer_remove_buffer(q, h->out, length) != (int)length ||
	    (pad > 0 && evbuffer_add(h->out, zeros, pad) != 0))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	h->bytes_out += 9 + frame->data.padlen + length;
	/* May refill the queue and resume the stream: that send waits for SEND_AGAIN. */
	if (st->cbs->body_taken != NULL)
		st->cbs->body_taken(st->arg);
	return 0;
}

int jg_h2client_send(struct jg_h2client *h)
{
	int rv;

	/* A body callback that refills its queue (body_taken, body) may resume a stream and
	 * so ask to send from inside nghttp2_session_send: nghttp2 would offer the frame it
	 * is sending a second time (rsync through rsh via the persistent client failed so).
	 * Once more after it returns instead. */
	if (h->in_send) {
		h->send_again = 1;
		return 0;
	}
	h->in_send = 1;
	do {
		h->send_again = 0;
		rv = nghttp2_session_send(h->session);
	} while (rv == 0 && h->send_again);
	h->in_send = 0;
	return rv;
}

/* The body of a request: from its queue (zero-copy, send_data_cb) or copied by body. */
static ssize_t body_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
		       uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct h2client_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
	struct evbuffer *q;
	int eof = 0;
	ssize_t n;

	if (st == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (st->cbs->body_queue != NULL && (q = st->cbs->body_queue(st->arg, &eof)) != NULL) {
		size_t have = evbuffer_get_length(q);

		n = (ssize_t)(have < length ? have : length);
		if (n == 0 && !eof)
			return NGHTTP2_ERR_DEFERRED;
		if (eof && (size_t)n == have)
			*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		if (n > 0)
			*data_flags |= NGHTTP2_DATA_FLAG_NO_COPY; /* send_data_cb moves them */
		return n;
	}
	n = st->cbs->body(st->arg, buf, length, &eof);
	if (n == JG_ERR_AGAIN)
		return NGHTTP2_ERR_DEFERRED;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (eof)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

/* ---------------------------------------------------------------- receiving */

static int header_cb(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user_data)
{
	struct h2client_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (st == NULL || st->cbs->header == NULL)
		return 0;
	/* nghttp2 guarantees NUL-terminated name and value. */
	if (st->cbs->header(st->arg, (const char *)name, (const char *)value) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int data_chunk_cb(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			 const uint8_t *data, size_t len, void *user_data)
{
	struct jg_h2client *h = user_data;
	struct h2client_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st == NULL) {
		/* Nobody takes them: their credit goes back at once. */
		if (h->manual_window)
			nghttp2_session_consume(session, stream_id, len);
		return 0;
	}
	if (st->cbs->data(st->arg, data, len) != 0)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
	return 0;
}

/* Frames of the session go to the owner; a stream's header block or last DATA ends
 * with frame_end.  When the peer ended the response, whatever we were still sending
 * (stdin, an EOF frame not yet sent) has no reader any more, so our side ends too
 * (unless KEEP_REQUEST): otherwise the stream stays half-closed and waits for nothing. */
static int frame_recv_cb(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct jg_h2client *h = user_data;
	int32_t id = frame->hd.stream_id;
	struct h2client_stream *st;
	int es = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	switch (frame->hd.type) {
	case NGHTTP2_SETTINGS:
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && !h->settings_seen) {
			h->settings_seen = 1;
			if (h->cbs->settings != NULL)
				h->cbs->settings(h->arg);
		}
		return 0;
	case NGHTTP2_GOAWAY:
		if (h->cbs->goaway != NULL)
			h->cbs->goaway(h->arg, frame->goaway.error_code, frame->goaway.opaque_data,
				       frame->goaway.opaque_data_len);
		return 0;
	case NGHTTP2_PING:
		if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && h->cbs->ping_ack != NULL)
			h->cbs->ping_ack(h->arg);
		return 0;
	case NGHTTP2_HEADERS:
	case NGHTTP2_DATA:
		break;
	default:
		return 0;
	}
	st = nghttp2_session_get_stream_user_data(session, id);
	if (st == NULL)
		return 0;
	if (st->cbs->frame_end != NULL && (frame->hd.type == NGHTTP2_HEADERS || es))
		st->cbs->frame_end(st->arg,
				   frame->hd.type != NGHTTP2_HEADERS ? 0
				   : frame->headers.cat == NGHTTP2_HCAT_RESPONSE
				       ? JG_H2CLIENT_HEADERS
				       : JG_H2CLIENT_TRAILERS,
				   es);
	/* frame_end may have reset the stream: ask nghttp2 again. */
	st = nghttp2_session_get_stream_user_data(session, id);
	if (es && st != NULL && !(st->flags & JG_H2CLIENT_KEEP_REQUEST) &&
	    nghttp2_session_get_stream_local_close(session, id) == 0)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
	return 0;
}

static int stream_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *user_data)
{
	struct h2client_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	stream_unlink(user_data, st);
	st->cbs->close(st->arg, error_code);
	free(st);
	return 0;
}

int jg_h2client_recv(struct jg_h2client *h, const uint8_t *data, size_t len)
{
	ssize_t n;

	h->bytes_in += len;
	h->in_recv = 1;
	n = nghttp2_session_mem_recv(h->session, data, len);
	h->in_recv = 0;
	return n < 0 ? (int)n : 0;
}

/* ---------------------------------------------------------------- the session */

struct jg_h2client *jg_h2client_new(const struct jg_h2client_config *cfg, int *err)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->max_streams},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg->stream_window},
	    {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, cfg->max_frame},
	};
	struct jg_h2client *h;
	int rv = NGHTTP2_ERR_NOMEM;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto out;
	h->cbs = cfg->cbs;
	h->arg = cfg->arg;
	h->out = cfg->out;
	h->out_high = cfg->out_high;
	h->manual_window = cfg->manual_window;
	h->scheme = strdup(cfg->scheme);
	h->authority = strdup(cfg->authority);
	if (h->scheme == NULL || h->authority == NULL)
		goto out;
	if ((rv = nghttp2_session_callbacks_new(&cbs)) != 0)
		goto out;
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_send_data_callback(cbs, send_data_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_chunk_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, stream_close_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
	jg_h2bulk_tune_callbacks(cbs);
	if ((rv = nghttp2_option_new(&opt)) != 0)
		goto out;
	nghttp2_option_set_no_auto_window_update(opt, cfg->manual_window);
	if ((rv = nghttp2_session_client_new2(&h->session, cbs, h, opt)) != 0)
		goto out;
	if ((rv = nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv,
					  sizeof(iv) / sizeof(iv[0]))) != 0)
		goto out;
	/* Each stream holds at most its window; the session's must not let one stalled
	 * reader stall the others. */
	rv = nghttp2_session_set_local_window_size(
	    h->session, NGHTTP2_FLAG_NONE, 0,
	    (int32_t)(cfg->session_window > 0x7fffffff ? 0x7fffffff : cfg->session_window));
out:
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	if (rv != 0) {
		jg_h2client_free(h);
		h = NULL;
	}
	if (err != NULL)
		*err = rv;
	return h;
}

void jg_h2client_free(struct jg_h2client *h)
{
	struct h2client_stream *st;

	if (h == NULL)
		return;
	if (h->session != NULL)
		nghttp2_session_del(h->session); /* calls no stream callbacks */
	while ((st = h->streams) != NULL) {
		h->streams = st->next;
		free(st);
	}
	free(h->scheme);
	free(h->authority);
	free(h);
}

/* ---------------------------------------------------------------- streams */

int32_t jg_h2client_submit(struct jg_h2client *h, const char *method, const char *protocol,
			   const char *path, const char *const headers[][2], size_t nheaders,
			   int flags, const struct jg_h2client_stream_cbs *cbs, void *arg)
{
	nghttp2_nv nva[H2CLIENT_MAX_FIELDS];
	nghttp2_data_provider prd = {.read_callback = body_cb};
	const char *pseudo[5][2] = {
	    {":method", method}, {":scheme", h->scheme},  {":authority", h->authority},
	    {":path", path},	 {":protocol", protocol},
	};
	size_t np = protocol != NULL ? 5 : 4, n = 0;
	struct h2client_stream *st;
	int32_t id;

	if (nheaders > H2CLIENT_MAX_FIELDS - np)
		return JG_ERR_TOOBIG;
	for (size_t i = 0; i < np + nheaders; i++, n++) {
		const char *name = i < np ? pseudo[i][0] : headers[i - np][0];
		const char *value = i < np ? pseudo[i][1] : headers[i - np][1];

		nva[n] = (nghttp2_nv){(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value,
				      strlen(name), strlen(value), NGHTTP2_NV_FLAG_NONE};
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return JG_ERR_NOMEM;
	st->cbs = cbs;
	st->arg = arg;
	st->flags = flags;
	id = nghttp2_submit_request(h->session, NULL, nva, n,
				    cbs->body != NULL || cbs->body_queue != NULL ? &prd : NULL, st);
	if (id < 0) {
		free(st);
		return id == NGHTTP2_ERR_NOMEM ? JG_ERR_NOMEM : JG_ERR_STATE;
	}
	st->next = h->streams;
	if (h->streams != NULL)
		h->streams->prev = st;
	h->streams = st;
	jg_log_debug("%s: %s %s on stream %d", __func__, method, path, id);
	return id;
}

void jg_h2client_resume(struct jg_h2client *h, int32_t stream_id)
{
	/* Fails harmlessly when the body was not deferred. */
	nghttp2_session_resume_data(h->session, stream_id);
	kick(h);
}

void jg_h2client_consume(struct jg_h2client *h, int32_t stream_id, size_t len)
{
	if (len == 0)
		return;
	nghttp2_session_consume(h->session, stream_id, len);
	kick(h);
}

void jg_h2client_cancel(struct jg_h2client *h, int32_t stream_id)
{
	nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
	kick(h);
}

int jg_h2client_ping(struct jg_h2client *h)
{
	int rv = nghttp2_submit_ping(h->session, NGHTTP2_FLAG_NONE, NULL);

	if (rv == 0)
		kick(h);
	return rv;
}

void jg_h2client_goaway(struct jg_h2client *h, int terminate)
{
	if (terminate)
		nghttp2_session_terminate_session(h->session, NGHTTP2_NO_ERROR);
	else
		nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
	kick(h);
}

/* ---------------------------------------------------------------- queries */

int jg_h2client_heard_settings(const struct jg_h2client *h)
{
	return h->settings_seen;
}

int jg_h2client_can_connect(const struct jg_h2client *h)
{
	return h->settings_seen && nghttp2_session_get_remote_settings(
				       h->session, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1;
}

int jg_h2client_want_write(const struct jg_h2client *h)
{
	return nghttp2_session_want_write(h->session);
}

int jg_h2client_alive(const struct jg_h2client *h)
{
	return nghttp2_session_want_read(h->session) || nghttp2_session_want_write(h->session);
}

uint64_t jg_h2client_bytes_out(const struct jg_h2client *h)
{
	return h->bytes_out;
}

uint64_t jg_h2client_bytes_in(const struct jg_h2client *h)
{
	return h->bytes_in;
}
