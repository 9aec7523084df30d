/* A request's HTTP/2 stream, as admission, the operations, the onward pool's agent
 * forwarding and the sites see it.  The edge implements it (gateway/edge/h2stream.c)
 * and hands it down through a callback table, jg_stream_cbs, at the head of each
 * stream: the layers below answer, stream and credit through these calls and never
 * include an edge header or reach the session or the connection behind them.  Like
 * gateway.h, a leaf header of the service glue (tests/lint/layers.sh).  The operation serving a
 * stream (struct jg_op, first in each operation) is called through its jg_op_cbs table by the
 * edge. */
#ifndef JG_GATEWAY_STREAM_H
#define JG_GATEWAY_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct jg_op;
struct jg_stream;

/* Streams, as seen by operations.  A stream's response body is a queue of bytes
 * that nghttp2 pulls as the client's window allows. */
/* What the edge gives each stream it makes (h2stream.c: jg_h2stream_cbs), called
 * through the jg_stream_* functions below; each member has the contract of the
 * function of its name.  The layers below the edge hold a request by this interface
 * only, never by the edge's header. */
struct jg_stream_cbs {
	void (*reply_error)(struct jg_stream *s, int status, const char *error, const char *reason);
	void (*reply)(struct jg_stream *s, int status, const char *content_type, const char *body,
		      size_t len);
	int (*start)(struct jg_stream *s, int status, const char *content_type);
	int (*start_headers)(struct jg_stream *s, int status, const char *const headers[][2],
			     size_t n);
	const char *(*header)(const struct jg_stream *s, const char *name);
	void (*append)(struct jg_stream *s, struct evbuffer *buf);
	void (*finish)(struct jg_stream *s);
	int (*finish_failed)(struct jg_stream *s, const char *error, const char *reason);
	size_t (*queued)(const struct jg_stream *s);
	void (*consume)(struct jg_stream *s, size_t n);
	void (*consume_socket)(struct jg_stream *s, size_t n);
	void (*reset)(struct jg_stream *s, uint32_t h2_error);
	void (*flush)(struct jg_stream *s);
	const char *(*peer)(const struct jg_stream *s);
	const char *(*identity)(const struct jg_stream *s);
	const char *(*via)(const struct jg_stream *s);
	const char *(*content_type)(const struct jg_stream *s);
	int (*headers)(const struct jg_stream *s, const char *out[][2], size_t max,
		       const char *skip);
	int32_t (*id)(const struct jg_stream *s);
	struct jg_stream *(*sibling)(const struct jg_stream *s, int32_t id);
	struct jg_op *(*op)(const struct jg_stream *s);
	void (*set_agent)(struct jg_stream *s, int32_t agent_stream, int how);
	int (*agent)(const struct jg_stream *s, int32_t *agent_stream);
	void (*set_audited)(struct jg_stream *s);
	const char *(*error_reason)(const struct jg_stream *s);
};

/* The invariant the calls below rest on: every struct jg_stream (the edge's type,
 * gateway/edge/h2conn.h) begins with this head, set when the stream is made. */
struct jg_stream_head {
	const struct jg_stream_cbs *cbs;
};

static inline const struct jg_stream_cbs *jg_stream_cbs_of(const struct jg_stream *s)
{
	return ((const struct jg_stream_head *)(const void *)s)->cbs;
}

/* Answer with STATUS and a JSON body {"error": ERROR, "reason": REASON}; ends the response. */
static inline void jg_stream_reply_error(struct jg_stream *s, int status, const char *error,
					 const char *reason)
{
	jg_stream_cbs_of(s)->reply_error(s, status, error, reason);
}
/* Answer with STATUS, CONTENT_TYPE and the whole BODY (copied). */
static inline void jg_stream_reply(struct jg_stream *s, int status, const char *content_type,
				   const char *body, size_t len)
{
	jg_stream_cbs_of(s)->reply(s, status, content_type, body, len);
}
/* Start a streamed response (headers now, body appended later with jg_stream_append). */
static inline int jg_stream_start(struct jg_stream *s, int status, const char *content_type)
{
	return jg_stream_cbs_of(s)->start(s, status, content_type);
}
/* The same with any response headers (at most 16 name/value pairs, names in lower case;
 * the strings are copied by nghttp2 before this returns). */
static inline int jg_stream_start_headers(struct jg_stream *s, int status,
					  const char *const headers[][2], size_t n)
{
	return jg_stream_cbs_of(s)->start_headers(s, status, headers, n);
}
/* A request header (name in lower case) other than the pseudo-headers, or NULL. */
static inline const char *jg_stream_header(const struct jg_stream *s, const char *name)
{
	return jg_stream_cbs_of(s)->header(s, name);
}
/* Append body bytes (moved out of BUF). */
static inline void jg_stream_append(struct jg_stream *s, struct evbuffer *buf)
{
	jg_stream_cbs_of(s)->append(s, buf);
}
/* No more body bytes: END_STREAM goes out after what is queued. */
static inline void jg_stream_finish(struct jg_stream *s)
{
	jg_stream_cbs_of(s)->finish(s);
}
/* A started response whose body stops short of its content-length: after what is
 * queued, trailers x-jumpgate-error: ERROR and x-jumpgate-reason: REASON (control bytes
 * blanked, clipped) end the stream.  The client's HTTP/2 layer sees the length unmet (a
 * broken response, never a short file passed off as whole) and can say why.  -1 when
 * out of memory (nothing changed: reset instead). */
static inline int jg_stream_finish_failed(struct jg_stream *s, const char *error,
					  const char *reason)
{
	return jg_stream_cbs_of(s)->finish_failed(s, error, reason);
}
/* Bytes queued in the response and not yet taken by nghttp2. */
static inline size_t jg_stream_queued(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->queued(s);
}
/* Give back N request-body bytes of HTTP/2 flow-control credit (WINDOW_UPDATE). */
static inline void jg_stream_consume(struct jg_stream *s, size_t n)
{
	jg_stream_cbs_of(s)->consume(s, n);
}
/* The same for N bytes a socket took: a next hop with no window of its own, so the
 * stream's window may grow while the socket keeps up (relay/autowin.h).  A next hop
 * that has a window (an agent's channel, a peer gateway's stream) uses
 * jg_stream_consume: a larger window here would only hold bytes in the gateway. */
static inline void jg_stream_consume_socket(struct jg_stream *s, size_t n)
{
	jg_stream_cbs_of(s)->consume_socket(s, n);
}
/* Reset the stream (RST_STREAM with an HTTP/2 error code). */
static inline void jg_stream_reset(struct jg_stream *s, uint32_t h2_error)
{
	jg_stream_cbs_of(s)->reset(s, h2_error);
}
/* Flush pending output on the stream's connection. */
static inline void jg_stream_flush(struct jg_stream *s)
{
	jg_stream_cbs_of(s)->flush(s);
}
/* The connection's peer address ("127.0.0.1:50312", or "unix pid N" on the Unix socket). */
static inline const char *jg_stream_peer(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->peer(s);
}
/* The identity the stream acts for: the connection's (its client certificate), or the
 * controller a trusted peer gateway asserted (x-jumpgate-on-behalf-of, gateway/sites/sites.h). */
static inline const char *jg_stream_identity(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->identity(s);
}
/* The site whose trusted peer asserted the stream's identity, or NULL when the identity
 * is the connection's own. */
static inline const char *jg_stream_via(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->via(s);
}
/* The request's content-type ("" when absent). */
static inline const char *jg_stream_content_type(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->content_type(s);
}
/* The request headers other than pseudo-headers and content-type, SKIP left out (NULL:
 * none), as name/value pairs into OUT (pointers into the stream, valid while it lives).
 * The count, or -1 when there are more than MAX. */
static inline int jg_stream_headers(const struct jg_stream *s, const char *out[][2], size_t max,
				    const char *skip)
{
	return jg_stream_cbs_of(s)->headers(s, out, max, skip);
}
static inline int32_t jg_stream_id(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->id(s);
}
/* Another live stream of S's connection, by its ID, or NULL. */
static inline struct jg_stream *jg_stream_sibling(const struct jg_stream *s, int32_t id)
{
	return jg_stream_cbs_of(s)->sibling(s, id);
}
/* The operation serving S (jg_api_route's answer), or NULL. */
static inline struct jg_op *jg_stream_op(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->op(s);
}
/* S borrows the agent stream AGENT_STREAM of its connection, forwarding HOW far
 * (JG_POLICY_AGENT_*, auth/policy.h); gateway/onward/agentfwd.h. */
static inline void jg_stream_set_agent(struct jg_stream *s, int32_t agent_stream, int how)
{
	jg_stream_cbs_of(s)->set_agent(s, agent_stream, how);
}
/* How far S forwards the controller's ssh-agent (0: not), and the agent stream's id. */
static inline int jg_stream_agent(const struct jg_stream *s, int32_t *agent_stream)
{
	return jg_stream_cbs_of(s)->agent(s, agent_stream);
}
/* An audit record was opened for S (gateway/admission/admit.h): no refusal record at its close. */
static inline void jg_stream_set_audited(struct jg_stream *s)
{
	jg_stream_cbs_of(s)->set_audited(s);
}
/* The reason of the error S was answered with (jg_stream_reply_error), or NULL. */
static inline const char *jg_stream_error_reason(const struct jg_stream *s)
{
	return jg_stream_cbs_of(s)->error_reason(s);
}

/* --- the operation serving a stream: the edge calls down through its hooks ---- */

/* An operation serving one stream: its hooks, called by the HTTP/2 layer.  The router
 * (api.c) starts it with an admitted request (gateway/admission/admit.h) or answers itself. */
struct jg_op;
struct jg_op_cbs {
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
	const struct jg_op_cbs *cbs;
};

#endif
