/* A request's HTTP/2 stream, as admission, the operations, the pump's owners and the
 * sites see it (h2stream.c implements it; struct jg_stream itself is the edge's,
 * gateway/edge/h2conn.h).  The one thing below the edge handed a request: a lower layer
 * answers, streams and credits through these calls and never reaches the session or
 * the connection behind them.  The operation serving a stream (struct jg_op, first in
 * each operation) is called through its jg_op_hooks table by the edge. */
#ifndef JG_GATEWAY_EDGE_STREAM_H
#define JG_GATEWAY_EDGE_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct jg_op;
struct jg_stream;

/* Streams, as seen by operations.  A stream's response body is a queue of bytes
 * that nghttp2 pulls as the client's window allows. */
/* Answer with STATUS and a JSON body {"error": ERROR, "reason": REASON}; ends the response. */
void jg_stream_reply_error(struct jg_stream *s, int status, const char *error, const char *reason);
/* Answer with STATUS, CONTENT_TYPE and the whole BODY (copied). */
void jg_stream_reply(struct jg_stream *s, int status, const char *content_type, const char *body,
		     size_t len);
/* Start a streamed response (headers now, body appended later with jg_stream_append). */
int jg_stream_start(struct jg_stream *s, int status, const char *content_type);
/* The same with any response headers (at most 16 name/value pairs, names in lower case;
 * the strings are copied by nghttp2 before this returns). */
int jg_stream_start_headers(struct jg_stream *s, int status, const char *const headers[][2],
			    size_t n);
/* A request header (name in lower case) other than the pseudo-headers, or NULL. */
const char *jg_stream_header(const struct jg_stream *s, const char *name);
/* Append body bytes (moved out of BUF). */
void jg_stream_append(struct jg_stream *s, struct evbuffer *buf);
/* No more body bytes: END_STREAM goes out after what is queued. */
void jg_stream_finish(struct jg_stream *s);
/* A started response whose body stops short of its content-length: after what is
 * queued, trailers x-jumpgate-error: ERROR and x-jumpgate-reason: REASON (control bytes
 * blanked, clipped) end the stream.  The client's HTTP/2 layer sees the length unmet (a
 * broken response, never a short file passed off as whole) and can say why.  -1 when
 * out of memory (nothing changed: reset instead). */
int jg_stream_finish_failed(struct jg_stream *s, const char *error, const char *reason);
/* Bytes queued in the response and not yet taken by nghttp2. */
size_t jg_stream_queued(const struct jg_stream *s);
/* Give back N request-body bytes of HTTP/2 flow-control credit (WINDOW_UPDATE). */
void jg_stream_consume(struct jg_stream *s, size_t n);
/* Reset the stream (RST_STREAM with an HTTP/2 error code). */
void jg_stream_reset(struct jg_stream *s, uint32_t h2_error);
/* Flush pending output on the stream's connection. */
void jg_stream_flush(struct jg_stream *s);
/* The connection's peer address ("127.0.0.1:50312", or "unix pid N" on the Unix socket). */
const char *jg_stream_peer(const struct jg_stream *s);
/* The identity the stream acts for: the connection's (its client certificate), or the
 * controller a trusted peer gateway asserted (x-jumpgate-on-behalf-of, gateway/sites/sites.h). */
const char *jg_stream_identity(const struct jg_stream *s);
/* The site whose trusted peer asserted the stream's identity, or NULL when the identity
 * is the connection's own. */
const char *jg_stream_via(const struct jg_stream *s);
/* The request's content-type ("" when absent). */
const char *jg_stream_content_type(const struct jg_stream *s);
/* The request headers other than pseudo-headers and content-type, SKIP left out (NULL:
 * none), as name/value pairs into OUT (pointers into the stream, valid while it lives).
 * The count, or -1 when there are more than MAX. */
int jg_stream_headers(const struct jg_stream *s, const char *out[][2], size_t max,
		      const char *skip);
int32_t jg_stream_id(const struct jg_stream *s);
/* Another live stream of S's connection, by its ID, or NULL. */
struct jg_stream *jg_stream_sibling(const struct jg_stream *s, int32_t id);
/* The operation serving S (jg_api_route's answer), or NULL. */
struct jg_op *jg_stream_op(const struct jg_stream *s);
/* S borrows the agent stream AGENT_STREAM of its connection, forwarding HOW far
 * (JG_POLICY_AGENT_*, auth/policy.h); gateway/onward/agentfwd.h. */
void jg_stream_set_agent(struct jg_stream *s, int32_t agent_stream, int how);
/* How far S forwards the controller's ssh-agent (0: not), and the agent stream's id. */
int jg_stream_agent(const struct jg_stream *s, int32_t *agent_stream);
/* An audit record was opened for S (gateway/admission/admit.h): no refusal record at its close. */
void jg_stream_set_audited(struct jg_stream *s);
/* The reason of the error S was answered with (jg_stream_reply_error), or NULL. */
const char *jg_stream_error_reason(const struct jg_stream *s);

/* --- the operation serving a stream: the edge calls down through its hooks ---- */

/* An operation serving one stream: its hooks, called by the HTTP/2 layer.  The router
 * (api.c) starts it with an admitted request (gateway/admission/admit.h) or answers itself. */
struct jg_op;
struct jg_op_hooks {
	/* Request body bytes arrived (borrowed). */
	void (*on_body)(struct jg_op *op, const uint8_t *data, size_t len);
	/* The request body ended (END_STREAM from the client). */
	void (*on_body_end)(struct jg_op *op);
	/* nghttp2 took N bytes of the response queue (credit may flow back). */
	void (*on_sent)(struct jg_op *op, size_t n);
	/* Optional: the gateway-wide buffer budget is no longer exceeded
	 * (gw->budget_paused went back to 0): an op that stopped reading its source
	 * because of it (raw.c's pipes, tunnel.c's sockets) re-arms its reads.  Called for
	 * every op that has it, paused or not; it must not free the op or its stream. */
	void (*on_budget)(struct jg_op *op);
	/* The stream is gone (closed, reset, connection lost); free the op. The stream
	 * pointer must not be used after this. */
	void (*on_close)(struct jg_op *op, const char *why);
};
struct jg_op {
	const struct jg_op_hooks *hooks;
};

#endif
