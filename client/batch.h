/* Many requests on ONE connection to the gateway, at most LIMIT in flight.
 *
 * `cp -r` and `run` are thousands of small operations; opening a connection
 * (TCP, TLS, HTTP/2) per operation would cost more than the operations.  A
 * batch owns the connection (client/conn.h), keeps a FIFO of requests not yet
 * sent, and submits the next one whenever a stream closes.  Submitting is
 * always done from the event loop, never from inside nghttp2, so request
 * callbacks may queue more requests freely.
 *
 * Lifecycle: jg_batch_new() -> cbs->ready (queue requests) -> ... -> when
 * nothing is queued or in flight, cbs->idle (queue more, e.g. the next phase,
 * or nothing) -> goodbye -> jg_batch_run() returns.  If the connection fails,
 * every request still queued or in flight gets its close callback with
 * JG_BATCH_LOST (jg_batch_error() says why) and jg_batch_run() returns. */
#ifndef JG_CLIENT_BATCH_H
#define JG_CLIENT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "client/conn.h"

struct jg_client;
struct jg_batch;
struct evbuffer;

/* The h2_error given to close callbacks when the connection, not the stream, ended. */
#define JG_BATCH_LOST 0xffffffffu
/* Request headers beyond the pseudo-headers (conn.c accepts 12). */
#define JG_BATCH_MAX_HEADERS 12

struct jg_batch_cbs {
	/* The connection is up: queue the first requests. */
	void (*ready)(void *arg);
	/* Nothing queued, nothing in flight: queue more, or return and the batch ends. */
	void (*idle)(void *arg);
};

/* One request, embedded in the caller's object (the batch borrows it until its close
 * callback has run).  Fill METHOD, PATH, the headers, CBS and ARG before jg_batch_add. */
struct jg_batch_req {
	const char *method;
	char *path; /* owned by the caller */
	const char *hdr[JG_BATCH_MAX_HEADERS][2];
	size_t nhdr;
	const struct jg_h2client_stream_cbs *cbs;
	void *arg;
	/* Forward the controller's agent for this request (jg_batch_set_agent): an agent
	 * stream is opened just before it, and named in its x-jumpgate-agent header. */
	int agent;
	char agent_hdr[32];
	/* Owned by the batch. */
	struct jg_batch *b;
	int32_t stream_id; /* > 0 while in flight */
	int cancelled;	   /* reset by jg_batch_abort() */
	struct jg_batch_req *next;
};

/* Connect to the gateway and prepare to run at most LIMIT requests at once.  NULL when the
 * TLS setup failed (message printed). */
struct jg_batch *jg_batch_new(struct jg_client *c, unsigned limit, const struct jg_batch_cbs *cbs,
			      void *arg);
void jg_batch_free(struct jg_batch *b);
/* Run the event loop until the batch ends.  0, or JG_EXIT_FAILURE when the connection failed
 * (the reason was printed). */
int jg_batch_run(struct jg_batch *b);
/* Requests with AGENT set forward R's agent (client/agentrelay.h; borrowed, freed by the
 * caller after jg_batch_free).  Each holds an agent stream besides its own, so a batch
 * forwarding the agent should run half as many requests at once. */
struct jg_agentrelay;
void jg_batch_set_agent(struct jg_batch *b, struct jg_agentrelay *r);
/* Append a header to REQ (name and value borrowed).  -1 when full. */
int jg_batch_header(struct jg_batch_req *req, const char *name, const char *value);
/* Queue REQ; it is sent when a slot is free. */
void jg_batch_add(struct jg_batch *b, struct jg_batch_req *req);
/* Request bodies that were deferred (JG_ERR_AGAIN) may continue. */
void jg_batch_resume(struct jg_batch *b, const struct jg_batch_req *req);
/* Cancel everything queued and in flight (their close callbacks run with JG_BATCH_LOST), then
 * say goodbye.  For ^C. */
void jg_batch_abort(struct jg_batch *b, const char *why);
/* Why the connection ended, for JG_BATCH_LOST closes; "" while it is fine. */
const char *jg_batch_error(const struct jg_batch *b);
/* The event base (for timers and signals). */
struct event_base *jg_batch_base(const struct jg_batch *b);

/* A GET whose answer (at most 4 MiB) is wanted whole: DONE gets the status (0 when the
 * stream or the connection failed) and the body. */
typedef void (*jg_batch_get_cb)(void *arg, int status, struct evbuffer *body);
/* Queue GET PATH (copied).  0, or JG_ERR_NOMEM. */
int jg_batch_get(struct jg_batch *b, const char *path, jg_batch_get_cb done, void *arg);

/* The "reason" (else "error") of a JSON error body, into MSG; else "HTTP STATUS". */
void jg_batch_reason(struct evbuffer *body, int status, char *msg, size_t len);

#endif
