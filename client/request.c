/* One small request whose whole answer fits in memory (reset, stats): connect,
 * send METHOD PATH with an empty body, collect the status and the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client/client.h"
#include "client/conn.h"
#include "relay/err.h"

/* Answers above this are refused: these endpoints return small JSON documents. */
#define REQUEST_MAX_BODY (4u << 20)

struct request {
	struct jg_client *c;
	struct jg_conn *conn;
	const char *method, *path;
	const char *const (*headers)[2];
	size_t nheaders;
	int status;
	struct evbuffer *body;
	int done, failed;
};

static int req_header(void *arg, const char *name, const char *value)
{
	struct request *rq = arg;

	if (strcmp(name, ":status") == 0)
		rq->status = atoi(value);
	return 0;
}

static int req_data(void *arg, const uint8_t *data, size_t len)
{
	struct request *rq = arg;

	if (evbuffer_get_length(rq->body) + len > REQUEST_MAX_BODY)
		return -1;
	return evbuffer_add(rq->body, data, len);
}

static ssize_t req_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	*eof = 1;
	return 0;
}

static void req_close(void *arg, uint32_t h2_error)
{
	struct request *rq = arg;

	rq->done = h2_error == 0 && rq->status != 0;
	if (!rq->done)
		jg_client_fail("the gateway %s ended the request without an answer",
			       rq->c->gateway);
	jg_conn_shutdown(rq->conn);
}

static const struct jg_h2client_stream_cbs req_stream_cbs = {
    .header = req_header,
    .data = req_data,
    .body = req_body,
    .close = req_close,
};

static void req_ready(void *arg)
{
	struct request *rq = arg;

	if (jg_conn_request(rq->conn, rq->method, rq->path, rq->headers, rq->nheaders,
			    &req_stream_cbs, rq) < 0) {
		jg_client_fail("cannot send the request to %s", rq->c->gateway);
		jg_conn_shutdown(rq->conn);
	}
}

static void req_failed(void *arg, const char *msg)
{
	struct request *rq = arg;

	rq->failed = 1;
	jg_client_fail("%s", msg);
	event_base_loopexit(rq->c->base, NULL);
}

static void req_closed(void *arg)
{
	struct request *rq = arg;

	event_base_loopexit(rq->c->base, NULL);
}

static const struct jg_conn_cbs req_conn_cbs = {
    .ready = req_ready,
    .failed = req_failed,
    .closed = req_closed,
};

int jg_client_request(struct jg_client *c, const char *method, const char *path, int *status,
		      struct evbuffer *body)
{
	return jg_client_request_with(c, method, path, NULL, 0, status, body);
}

int jg_client_request_with(struct jg_client *c, const char *method, const char *path,
			   const char *const headers[][2], size_t nheaders, int *status,
			   struct evbuffer *body)
{
	struct request rq = {.c = c,
			     .method = method,
			     .path = path,
			     .headers = headers,
			     .nheaders = nheaders,
			     .body = body};

	rq.conn = jg_conn_new(c, &req_conn_cbs, &rq);
	if (rq.conn == NULL)
		return JG_EXIT_FAILURE;
	event_base_dispatch(c->base);
	jg_conn_free(rq.conn);
	if (rq.failed || !rq.done)
		return JG_EXIT_FAILURE;
	*status = rq.status;
	return 0;
}
