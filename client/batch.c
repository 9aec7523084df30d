/* Many requests on one connection with bounded concurrency; see batch.h.
 *
 * Invariants: a request is in exactly one of: the queue (not sent), the
 * in-flight list (stream open, counted in INFLIGHT), or nowhere (its close
 * callback ran, the caller owns it again).  New streams are submitted only
 * from kick_cb, which runs from the event loop, so nghttp2 is never entered
 * twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "client/agentrelay.h"
#include "client/batch.h"
#include "client/client.h"
#include "client/conn.h"
#include "client/opconn.h"
#include "relay/err.h"
#include "relay/log.h"

/* Whole answers of jg_batch_get() above this are refused: they are small JSON documents. */
#define BATCH_GET_MAX (4u << 20)

struct jg_batch {
	struct jg_client *c;
	struct jg_conn *conn;
	const struct jg_batch_cbs *cbs;
	void *arg;
	unsigned limit, inflight;
	struct jg_batch_req *queue, **queue_tail;
	struct jg_batch_req *flying; /* in flight, most recent first */
	struct event *kick;
	int open;      /* the connection is ready and not failed */
	int finishing; /* goodbye said: nothing more is submitted */
	int failed;    /* the connection failed, or was aborted: nothing more is sent */
	int lost;      /* the connection failed (not aborted by us) */
	int aborting;  /* jg_batch_abort() was called; kick_cb has yet to cancel */
	char error[512];
	struct jg_agentrelay *agent; /* borrowed, or NULL */
};

static void batch_unfly(struct jg_batch *b, struct jg_batch_req *req)
{
	struct jg_batch_req **pp;

	for (pp = &b->flying; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == req) {
			*pp = req->next;
			b->inflight--;
			break;
		}
	}
	req->next = NULL;
	req->stream_id = -1;
}

static struct jg_batch_req *batch_pop(struct jg_batch *b)
{
	struct jg_batch_req *req = b->queue;

	if (req == NULL)
		return NULL;
	b->queue = req->next;
	if (b->queue == NULL)
		b->queue_tail = &b->queue;
	req->next = NULL;
	return req;
}

/* Close every request, queued or in flight, as lost.  Their close callbacks may queue more:
 * those are lost too, hence the loop. */
static void batch_lose_all(struct jg_batch *b)
{
	struct jg_batch_req *req;

	for (;;) {
		if ((req = b->flying) != NULL)
			batch_unfly(b, req);
		else if ((req = batch_pop(b)) == NULL)
			break;
		req->cbs->close(req->arg, JG_BATCH_LOST);
	}
}

static int w_header(void *arg, const char *name, const char *value)
{
	struct jg_batch_req *req = arg;

	return req->cbs->header(req->arg, name, value);
}

static int w_data(void *arg, const uint8_t *data, size_t len)
{
	struct jg_batch_req *req = arg;

	return req->cbs->data(req->arg, data, len);
}

static ssize_t w_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct jg_batch_req *req = arg;

	return req->cbs->body(req->arg, buf, len, eof);
}

static void w_close(void *arg, uint32_t h2_error)
{
	struct jg_batch_req *req = arg;
	struct jg_batch *b = req->b;

	batch_unfly(b, req);
	/* After an abort the resets are ours: they say "lost", not "the gateway reset it". */
	req->cbs->close(req->arg, b->failed ? JG_BATCH_LOST : h2_error);
	event_active(b->kick, 0, 0);
}

static const struct jg_h2client_stream_cbs batch_stream_cbs = {
    .header = w_header,
    .data = w_data,
    .body = w_body,
    .close = w_close,
};

/* From the loop, after jg_batch_abort(): the queue is closed as lost, the streams in flight
 * are reset (their closes arrive as lost), and the connection says goodbye. */
static void batch_cancel_all(struct jg_batch *b)
{
	struct jg_batch_req *req;

	b->aborting = 0;
	while ((req = batch_pop(b)) != NULL)
		req->cbs->close(req->arg, JG_BATCH_LOST);
	/* A cancel may close its stream (and unlink it) at once: start over from the head each
	 * time, skipping those already cancelled. */
	for (;;) {
		for (req = b->flying; req != NULL && req->cancelled; req = req->next)
			;
		if (req == NULL)
			break;
		req->cancelled = 1;
		jg_conn_cancel(b->conn, req->stream_id);
	}
	if (b->open && !b->finishing) {
		b->finishing = 1;
		jg_conn_shutdown(b->conn);
	} else if (!b->open) {
		event_base_loopbreak(b->c->base);
	}
}

/* From the loop: fill the free slots; when nothing is left, ask for more or say goodbye. */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_batch *b = arg;
	struct jg_batch_req *req;
	int32_t id, last = 0;

	if (b->aborting) {
		batch_cancel_all(b);
		return;
	}
	if (!b->open || b->finishing)
		return;
	if (b->queue == NULL && b->inflight == 0) {
		b->cbs->idle(b->arg);
		if (b->queue == NULL && b->inflight == 0) {
			b->finishing = 1;
			jg_conn_shutdown(b->conn);
			return;
		}
	}
	while (b->inflight < b->limit && (req = batch_pop(b)) != NULL) {
		/* Its agent stream first: the gateway knows it when the request names it. */
		if (req->agent && b->agent != NULL &&
		    ((id = jg_agentrelay_open(b->agent, b->conn, req->agent_hdr,
					      sizeof(req->agent_hdr))) != 0 ||
		     (id = jg_batch_header(req, "x-jumpgate-agent", req->agent_hdr)) != 0)) {
			jg_log_debug("cannot open an agent stream for %s %s: %s", req->method,
				     req->path, jg_strerror(id));
			req->cbs->close(req->arg, NGHTTP2_INTERNAL_ERROR);
			continue;
		}
		id = jg_conn_request(b->conn, req->method, req->path, req->hdr, req->nhdr,
				     &batch_stream_cbs, req);
		if (id < 0) {
			jg_log_debug("cannot submit %s %s: %s", req->method, req->path,
				     jg_strerror(id));
			req->cbs->close(req->arg, NGHTTP2_INTERNAL_ERROR);
			continue;
		}
		req->stream_id = id;
		req->next = b->flying;
		b->flying = req;
		b->inflight++;
		req->cancelled = 0;
		last = id;
	}
	/* Submitting does not send: resuming any stream makes conn.c flush what is pending. */
	if (last > 0)
		jg_conn_resume(b->conn, last);
	if (b->queue == NULL && b->inflight == 0)
		event_active(b->kick, 0, 0);
}

static void on_ready(void *arg)
{
	struct jg_batch *b = arg;

	b->open = 1;
	b->cbs->ready(b->arg);
	event_active(b->kick, 0, 0);
}

static void on_failed(void *arg, const char *msg)
{
	struct jg_batch *b = arg;

	if (!b->failed) {
		snprintf(b->error, sizeof(b->error), "%s", msg);
		jg_client_fail("%s", msg);
	}
	b->failed = 1;
	b->lost = 1;
	b->open = 0;
	batch_lose_all(b);
	event_base_loopbreak(b->c->base);
}

static void on_closed(void *arg)
{
	struct jg_batch *b = arg;

	b->open = 0;
	batch_lose_all(b); /* normally none: the goodbye comes when all are done */
	event_base_loopbreak(b->c->base);
}

static const struct jg_conn_cbs batch_conn_cbs = {
    .ready = on_ready,
    .failed = on_failed,
    .closed = on_closed,
};

struct jg_batch *jg_batch_new(struct jg_client *c, unsigned limit, const struct jg_batch_cbs *cbs,
			      void *arg)
{
	struct jg_batch *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		jg_client_fail("out of memory");
		return NULL;
	}
	b->c = c;
	b->cbs = cbs;
	b->arg = arg;
	b->limit = limit > 0 ? limit : 1;
	b->queue_tail = &b->queue;
	if ((b->kick = event_new(c->base, -1, 0, kick_cb, b)) == NULL) {
		jg_client_fail("out of memory");
		free(b);
		return NULL;
	}
	if ((b->conn = jg_conn_new(c, &batch_conn_cbs, b)) == NULL) {
		event_free(b->kick);
		free(b);
		return NULL;
	}
	return b;
}

void jg_batch_free(struct jg_batch *b)
{
	if (b == NULL)
		return;
	jg_conn_free(b->conn); /* calls no stream callbacks */
	event_free(b->kick);
	free(b);
}

int jg_batch_run(struct jg_batch *b)
{
	event_base_dispatch(b->c->base);
	return b->lost ? JG_EXIT_FAILURE : 0;
}

void jg_batch_set_agent(struct jg_batch *b, struct jg_agentrelay *r)
{
	b->agent = r;
}

int jg_batch_header(struct jg_batch_req *req, const char *name, const char *value)
{
	if (req->nhdr >= JG_BATCH_MAX_HEADERS)
		return -1;
	req->hdr[req->nhdr][0] = name;
	req->hdr[req->nhdr][1] = value;
	req->nhdr++;
	return 0;
}

void jg_batch_add(struct jg_batch *b, struct jg_batch_req *req)
{
	req->b = b;
	req->stream_id = -1;
	req->next = NULL;
	if (b->failed) {
		req->cbs->close(req->arg, JG_BATCH_LOST);
		return;
	}
	*b->queue_tail = req;
	b->queue_tail = &req->next;
	if (b->open)
		event_active(b->kick, 0, 0);
}

void jg_batch_resume(struct jg_batch *b, const struct jg_batch_req *req)
{
	if (req->stream_id > 0)
		jg_conn_resume(b->conn, req->stream_id);
}

void jg_batch_abort(struct jg_batch *b, const char *why)
{
	if (b->failed)
		return;
	b->failed = 1;
	b->aborting = 1;
	snprintf(b->error, sizeof(b->error), "%s", why);
	/* The callers are often inside nghttp2 (a stream callback): cancelling from here would
	 * re-enter it.  kick_cb does the work from the loop. */
	event_active(b->kick, 0, 0);
}

const char *jg_batch_error(const struct jg_batch *b)
{
	return b->error;
}

struct event_base *jg_batch_base(const struct jg_batch *b)
{
	return b->c->base;
}

/* ------------------------------------------------------------------ whole-answer GET */

struct batch_get {
	struct jg_batch_req req;
	int status;
	struct evbuffer *body;
	jg_batch_get_cb done;
	void *arg;
};

static int get_header(void *arg, const char *name, const char *value)
{
	struct batch_get *g = arg;

	if (strcmp(name, ":status") == 0)
		g->status = atoi(value);
	return 0;
}

static int get_data(void *arg, const uint8_t *data, size_t len)
{
	struct batch_get *g = arg;

	if (evbuffer_get_length(g->body) + len > BATCH_GET_MAX)
		return -1;
	return evbuffer_add(g->body, data, len);
}

static ssize_t get_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	*eof = 1;
	return 0;
}

static void get_close(void *arg, uint32_t h2_error)
{
	struct batch_get *g = arg;

	g->done(g->arg, h2_error == 0 ? g->status : 0, g->body);
	evbuffer_free(g->body);
	free(g->req.path);
	free(g);
}

static const struct jg_h2client_stream_cbs get_cbs = {
    .header = get_header,
    .data = get_data,
    .body = get_body,
    .close = get_close,
};

int jg_batch_get(struct jg_batch *b, const char *path, jg_batch_get_cb done, void *arg)
{
	struct batch_get *g = calloc(1, sizeof(*g));

	if (g == NULL || (g->body = evbuffer_new()) == NULL ||
	    (g->req.path = strdup(path)) == NULL) {
		if (g != NULL && g->body != NULL)
			evbuffer_free(g->body);
		free(g);
		return JG_ERR_NOMEM;
	}
	g->req.method = "GET";
	g->req.cbs = &get_cbs;
	g->req.arg = g;
	g->done = done;
	g->arg = arg;
	jg_batch_add(b, &g->req);
	return 0;
}

/* ------------------------------------------------------------------ helpers */

void jg_batch_reason(struct evbuffer *body, int status, char *msg, size_t len)
{
	if (!jg_op_refusal(body, status, msg, len) && status == 0)
		snprintf(msg, len, "the gateway reset the request");
	/* Text from the far side ends up on a terminal: no control characters. */
	jg_op_blank_controls(msg);
}
