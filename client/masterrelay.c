/* The persistent client's relay: each client connection is an h2c server session whose
 * streams are relayed one to one onto streams of the master's gateway connection (see
 * client/master.h for the flow-control rule and a stream's lifetime). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "client/client.h"
#include "client/conn.h"
#include "client/master.h"
#include "h2/bulk.h"
#include "relay/err.h"
#include "relay/log.h"

static void fields_clear(struct fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->nv[i][0]);
		free(f->nv[i][1]);
	}
	f->n = 0;
	f->overflow = 0;
}

static void fields_add(struct fields *f, const char *name, const char *value)
{
	if (f->n == MASTER_MAX_FIELDS) {
		f->overflow = 1;
		return;
	}
	f->nv[f->n][0] = strdup(name);
	f->nv[f->n][1] = strdup(value);
	if (f->nv[f->n][0] == NULL || f->nv[f->n][1] == NULL) {
		free(f->nv[f->n][0]);
		free(f->nv[f->n][1]);
		f->overflow = 1;
		return;
	}
	f->n++;
}

/* F as nghttp2 name/value pairs into NVA (MASTER_MAX_FIELDS); the count. */
static size_t fields_nv(const struct fields *f, nghttp2_nv *nva)
{
	for (size_t i = 0; i < f->n; i++)
		nva[i] =
		    (nghttp2_nv){(uint8_t *)f->nv[i][0], (uint8_t *)f->nv[i][1],
				 strlen(f->nv[i][0]), strlen(f->nv[i][1]), NGHTTP2_NV_FLAG_NONE};
	return f->n;
}

static void stream_cut_request(struct mstream *ms);

static void stream_maybe_free(struct mstream *ms)
{
	struct mstream **pp;

	if (ms->mc != NULL || ms->up_open)
		return;
	for (pp = &ms->m->all; *pp != NULL; pp = &(*pp)->all_next)
		if (*pp == ms) {
			*pp = ms->all_next;
			break;
		}
	fields_clear(&ms->req);
	fields_clear(&ms->resp);
	evbuffer_free(ms->up);
	evbuffer_free(ms->down);
	free(ms);
}

static void client_kick(struct mclient *mc)
{
	if (mc != NULL)
		event_active(mc->send_ev, 0, 0);
}

/* The client's side of MS is gone: forget it there, cancel the gateway's side. */
static void stream_detach(struct master *m, struct mstream *ms)
{
	struct mstream **pp;

	for (pp = &ms->mc->streams; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ms) {
			*pp = ms->next;
			break;
		}
	ms->mc = NULL;
	/* Gone before its answer (interrupted): the gateway's stream has no reader left.  After
	 * it, the request's end is all the gateway still waits for. */
	if (ms->up_open && !ms->down_eof)
		jg_conn_cancel(m->up, ms->up_id);
	else if (ms->up_open)
		stream_cut_request(ms);
	stream_maybe_free(ms);
}

/* ---- the gateway's side of a stream (client/conn.c callbacks) ---- */

static int up_header(void *arg, const char *name, const char *value)
{
	struct mstream *ms = arg;

	if (ms->mc != NULL)
		fields_add(&ms->resp, name, value);
	return 0;
}

static int up_data(void *arg, const uint8_t *data, size_t len)
{
	struct mstream *ms = arg;

	if (ms->mc == NULL) {
		jg_conn_consume(ms->m->up, ms->up_id, len);
		return 1; /* nobody reads it: reset */
	}
	if (evbuffer_add(ms->down, data, len) != 0)
		return 1;
	nghttp2_session_resume_data(ms->mc->session, ms->down_id);
	client_kick(ms->mc);
	return 0;
}

static ssize_t down_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len,
			 uint32_t *flags, nghttp2_data_source *src, void *ud);

/* The gateway's answer is complete while the request is not (a program that exits before
 * reading all its stdin): end the request with an empty END_STREAM, not with a reset as
 * a lone client does.  The gateway counts resets per connection (rapid-reset defence),
 * and all of ours share one. */
static void stream_cut_request(struct mstream *ms)
{
	size_t left = evbuffer_get_length(ms->up);

	if (ms->up_cut)
		return;
	ms->up_cut = 1;
	ms->up_eof = 1;
	evbuffer_drain(ms->up, left);
	if (ms->mc != NULL) {
		nghttp2_session_consume(ms->mc->session, ms->down_id, left);
		client_kick(ms->mc);
	}
	if (ms->up_open)
		jg_conn_resume(ms->m->up, ms->up_id);
}

static void up_frame_end(void *arg, int headers, int end_stream)
{
	struct mstream *ms = arg;
	nghttp2_data_provider prd = {.source.ptr = ms, .read_callback = down_read};
	nghttp2_nv nva[MASTER_MAX_FIELDS];
	struct mclient *mc = ms->mc;

	if (end_stream)
		stream_cut_request(ms);
	if (mc == NULL)
		return;
	if (end_stream)
		ms->down_eof = 1;
	if (headers && !ms->resp_sent) {
		size_t n = fields_nv(&ms->resp, nva);

		ms->resp_sent = 1;
		if (ms->resp.overflow || nghttp2_submit_response(mc->session, ms->down_id, nva, n,
								 end_stream ? NULL : &prd) != 0)
			nghttp2_submit_rst_stream(mc->session, NGHTTP2_FLAG_NONE, ms->down_id,
						  NGHTTP2_INTERNAL_ERROR);
		fields_clear(&ms->resp);
	} else if (headers) {
		ms->trailers = 1; /* sent by down_read once the body before them is out */
	}
	nghttp2_session_resume_data(mc->session, ms->down_id);
	client_kick(mc);
}

static ssize_t up_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct mstream *ms = arg;
	size_t n = evbuffer_get_length(ms->up);

	if (n == 0 && ms->up_eof) {
		*eof = 1;
		return 0;
	}
	if (n == 0)
		return JG_ERR_AGAIN;
	n = (size_t)evbuffer_remove(ms->up, buf, len);
	if (ms->mc != NULL) {
		nghttp2_session_consume(ms->mc->session, ms->down_id, n);
		client_kick(ms->mc);
	}
	return (ssize_t)n;
}

/* The gateway's stream closed.  A reset (or a close before any answer) reaches the client
 * after the bytes that came before it, as it would have on a direct connection. */
static void up_close(void *arg, uint32_t h2_error)
{
	struct mstream *ms = arg;
	struct mclient *mc = ms->mc;

	ms->up_open = 0;
	if (mc != NULL) {
		if (h2_error != 0 || !ms->resp_sent) {
			ms->rst_pending = h2_error != 0 ? h2_error : NGHTTP2_INTERNAL_ERROR;
			if (!ms->resp_sent || evbuffer_get_length(ms->down) == 0)
				nghttp2_submit_rst_stream(mc->session, NGHTTP2_FLAG_NONE,
							  ms->down_id, ms->rst_pending);
		} else {
			ms->down_eof = 1;
		}
		nghttp2_session_resume_data(mc->session, ms->down_id);
		client_kick(mc);
	}
	stream_maybe_free(ms);
}

static const struct jg_h2client_stream_cbs up_stream_cbs = {
    .header = up_header,
    .data = up_data,
    .body = up_body,
    .close = up_close,
    .frame_end = up_frame_end,
};

/* ---- the client's side (its h2c server session) ---- */

static ssize_t down_read(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len,
			 uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct mstream *ms = src->ptr;
	struct mclient *mc = ud;
	size_t n = (size_t)evbuffer_remove(ms->down, buf, len);

	if (n > 0)
		jg_conn_consume(mc->m->up, ms->up_id, n);
	if (evbuffer_get_length(ms->down) > 0)
		return (ssize_t)n;
	if (ms->rst_pending != 0) {
		if (n == 0) {
			nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, ms->rst_pending);
			return NGHTTP2_ERR_DEFERRED;
		}
		return (ssize_t)n;
	}
	if (ms->down_eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (ms->trailers) {
			nghttp2_nv nva[MASTER_MAX_FIELDS];
			size_t nt = fields_nv(&ms->resp, nva);

			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			nghttp2_submit_trailer(session, id, nva, nt);
			fields_clear(&ms->resp);
			ms->trailers = 0;
		}
		return (ssize_t)n;
	}
	return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct mclient *mc = ud;
	struct mstream *ms;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (!mc->m->up_ok || (ms = calloc(1, sizeof(*ms))) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	ms->up = evbuffer_new();
	ms->down = evbuffer_new();
	if (ms->up == NULL || ms->down == NULL) {
		if (ms->up != NULL)
			evbuffer_free(ms->up);
		if (ms->down != NULL)
			evbuffer_free(ms->down);
		free(ms);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	ms->m = mc->m;
	ms->mc = mc;
	ms->all_next = mc->m->all;
	mc->m->all = ms;
	ms->down_id = frame->hd.stream_id;
	ms->next = mc->streams;
	mc->streams = ms;
	nghttp2_session_set_stream_user_data(session, ms->down_id, ms);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	struct mstream *ms = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (ms != NULL && frame->hd.type == NGHTTP2_HEADERS && ms->up_id == 0)
		fields_add(&ms->req, (const char *)name, (const char *)value);
	return 0;
}

/* The request's header block is complete: open the gateway's stream for it. */
static int stream_submit(struct master *m, struct mstream *ms)
{
	const char *method = NULL, *path = NULL, *protocol = NULL;
	const char *hdrs[MASTER_MAX_FIELDS][2];
	size_t nh = 0;
	int32_t id;

	if (ms->req.overflow)
		return -1;
	for (size_t i = 0; i < ms->req.n; i++) {
		const char *name = ms->req.nv[i][0], *value = ms->req.nv[i][1];

		if (strcmp(name, ":method") == 0)
			method = value;
		else if (strcmp(name, ":path") == 0)
			path = value;
		else if (strcmp(name, ":protocol") == 0)
			protocol = value;
		else if (name[0] != ':') {
			hdrs[nh][0] = name;
			hdrs[nh][1] = value;
			nh++;
		}
	}
	if (method == NULL || path == NULL)
		return -1;
	if (protocol != NULL)
		id = jg_conn_connect(m->up, protocol, path, hdrs, nh, &up_stream_cbs, ms);
	else
		id = jg_conn_request(m->up, method, path, hdrs, nh, &up_stream_cbs, ms);
	if (id < 0)
		return -1;
	ms->up_id = id;
	ms->up_open = 1;
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct mstream *ms = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	struct mclient *mc = ud;

	if (ms == NULL || (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA))
		return 0;
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
		ms->up_eof = 1;
	if (frame->hd.type == NGHTTP2_HEADERS && ms->up_id == 0) {
		if (stream_submit(mc->m, ms) != 0) {
			/* The gateway connection is closing: as the gateway would refuse it. */
			nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, ms->down_id,
						  NGHTTP2_REFUSED_STREAM);
			return 0;
		}
		fields_clear(&ms->req);
	}
	if (ms->up_open)
		jg_conn_resume(mc->m->up, ms->up_id);
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	struct mstream *ms = nghttp2_session_get_stream_user_data(session, id);
	struct mclient *mc = ud;

	if (ms == NULL || !ms->up_open || ms->up_cut) {
		nghttp2_session_consume(session, id, len);
		return 0;
	}
	if (evbuffer_add(ms->up, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	jg_conn_resume(mc->m->up, ms->up_id);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *ud)
{
	struct mstream *ms = nghttp2_session_get_stream_user_data(session, id);
	struct mclient *mc = ud;

	if (ms == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(session, id, NULL);
	/* What it had sent and we had not passed on no longer counts against the session. */
	nghttp2_session_consume_connection(session, evbuffer_get_length(ms->up));
	evbuffer_drain(ms->up, evbuffer_get_length(ms->up));
	stream_detach(mc->m, ms);
	return 0;
}

static ssize_t client_send_cb(nghttp2_session *session, const uint8_t *data, size_t len, int flags,
			      void *ud)
{
	struct mclient *mc = ud;

	if (evbuffer_get_length(bufferevent_get_output(mc->bev)) >= MASTER_OUTPUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (bufferevent_write(mc->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

void jg_master_client_free(struct mclient *mc)
{
	struct master *m = mc->m;
	struct mclient **pp;

	for (pp = &m->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == mc) {
			*pp = mc->next;
			break;
		}
	while (mc->streams != NULL)
		stream_detach(m, mc->streams);
	nghttp2_session_del(mc->session);
	jg_h2bulk_free(mc->bev);
	event_free(mc->send_ev);
	free(mc);
	jg_master_check_exit(m);
}

static void client_send(evutil_socket_t fd, short what, void *arg)
{
	struct mclient *mc = arg;

	if (nghttp2_session_send(mc->session) != 0) {
		jg_master_client_free(mc);
		return;
	}
	if (mc->closing && !nghttp2_session_want_write(mc->session) &&
	    jg_h2bulk_unsent(mc->bev) == 0)
		jg_master_client_free(mc);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct mclient *mc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n = nghttp2_session_mem_recv(mc->session, evbuffer_pullup(in, -1), len);

	if (n < 0) {
		jg_log_debug("client session: %s", nghttp2_strerror((int)n));
		jg_master_client_free(mc);
		return;
	}
	evbuffer_drain(in, (size_t)n);
	client_send(-1, 0, mc);
}

static void client_write(struct bufferevent *bev, void *arg)
{
	client_send(-1, 0, arg);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		jg_master_client_free(arg);
}

int jg_master_client_new(struct master *m, int fd)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, MASTER_STREAM_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, JG_H2_MAX_FRAME},
	    {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, jg_conn_can_connect(m->up) == 1},
	};
	struct mclient *mc = calloc(1, sizeof(*mc));
	int rv = NGHTTP2_ERR_NOMEM;

	if (mc == NULL) {
		close(fd);
		return -1;
	}
	mc->m = m;
	mc->bev = jg_h2bulk_plain_new(m->c->base, fd, 0);
	mc->send_ev = event_new(m->c->base, -1, 0, client_send, mc);
	if (mc->bev == NULL || mc->send_ev == NULL)
		goto out;
	if ((rv = nghttp2_session_callbacks_new(&cbs)) != 0 || (rv = nghttp2_option_new(&opt)) != 0)
		goto out;
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_session_callbacks_set_send_callback(cbs, client_send_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	if ((rv = nghttp2_session_server_new2(&mc->session, cbs, mc, opt)) != 0)
		goto out;
	if ((rv = nghttp2_submit_settings(mc->session, NGHTTP2_FLAG_NONE, iv,
					  sizeof(iv) / sizeof(iv[0]))) != 0 ||
	    (rv = nghttp2_session_set_local_window_size(mc->session, NGHTTP2_FLAG_NONE, 0,
							MASTER_CONN_WINDOW)) != 0)
		goto out;
	jg_h2bulk_tune_bev(mc->bev);
	bufferevent_setcb(mc->bev, client_read, client_write, client_event, mc);
	bufferevent_enable(mc->bev, EV_READ | EV_WRITE);
	mc->next = m->clients;
	m->clients = mc;
	client_kick(mc);
out:
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	if (rv == 0)
		return 0;
	jg_log_warn("cannot serve a client: %s", nghttp2_strerror(rv));
	if (mc->session != NULL)
		nghttp2_session_del(mc->session);
	if (mc->send_ev != NULL)
		event_free(mc->send_ev);
	if (mc->bev != NULL)
		jg_h2bulk_free(mc->bev);
	else
		close(fd);
	free(mc);
	return -1;
}

void jg_master_clients_fail(struct master *m, const char *msg)
{
	/* conn.c closes no stream after a failure: they are all over. */
	for (struct mstream *ms = m->all; ms != NULL; ms = ms->all_next)
		ms->up_open = 0;
	for (struct mclient *mc = m->clients; mc != NULL; mc = mc->next) {
		nghttp2_submit_goaway(mc->session, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(mc->session),
				      NGHTTP2_INTERNAL_ERROR, (const uint8_t *)msg, strlen(msg));
		mc->closing = 1;
		client_kick(mc);
	}
}

void jg_master_streams_free(struct master *m)
{
	for (struct mstream *ms = m->all; ms != NULL; ms = ms->all_next)
		ms->up_open = 0;
	while (m->all != NULL)
		stream_maybe_free(m->all);
}
