/* jumpgated: the daemon's context and the interfaces between its layers.
 *
 * Layers (HAProxy's model): transport (TLS, in tls.c) -> multiplexer (HTTP/2
 * session, in h2.c) -> routing (api.h) -> admission (admit.h: the target
 * resolved once, every policy decision, the audit record) -> operation (exec,
 * in exec.c; /healthz and /v1/stats in api.c) -> pump (pump.h: one agent
 * channel <-> one stream, credit both ways, half-close, abandon; every
 * agent-channel op uses one) -> agent links (agentlink.c), the other side of
 * an operation.
 * struct jg_gateway is the one context; it is passed explicitly, never global. */
#ifndef JG_GATEWAY_H
#define JG_GATEWAY_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "gateway/onward/keymap.h"
#include "relay/bootstrap.h"
#include "relay/frame.h"

struct event_base;
struct event;
struct bufferevent;
struct evconnlistener;
struct evbuffer;
struct jg_config;
struct jg_accept_guard;
struct jg_setupq;
struct jg_reaper;
struct jg_conn;
struct jg_stream;
struct jg_agentlink;
struct jg_audit;
struct jg_audit_op;
struct jg_sites;
struct jg_routes;
struct jg_agentfwd;
struct jg_metrics;
struct evhttp;

struct jg_stats {
	uint64_t conns_current, conns_total;
	uint64_t streams_current, streams_total;
	uint64_t exec_current, exec_total, exec_failed;
	uint64_t bytes_from_clients, bytes_to_clients;
	uint64_t tls_failures;
};

struct jg_gateway {
	struct event_base *base;
	const struct jg_config *cfg; /* immutable; our reference, swapped by SIGHUP (main.c) */
	SSL_CTX *ssl_ctx;
	struct jg_certwatch *certwatch; /* CRL changes and renewals (certwatch.c) */
	struct evconnlistener *listener;
	struct jg_accept_guard *tls_guard; /* its back-off on EMFILE (accept.h) */
	struct jg_reaper *reaper;
	struct jg_conn *conns;	    /* every live controller connection */
	struct jg_agentlink *links; /* every live agent link, one per target */
	struct jg_keymap link_map;  /* the same links by chain key (keymap.h) */
	struct jg_linger *lingers;  /* closed connections draining their input (h2.c) */
	struct jg_stats stats;
	char agent_path[PATH_MAX];
	struct jg_agent_build *builds; /* agents the gateway can send to targets */
	size_t nbuilds;
	char *boot_stub; /* the bootstrap stub script (relay/bootstrap.h) */
	time_t started;
	int draining; /* SIGTERM seen: GOAWAY sent, no new streams */
	struct event *drain_timer;
	struct evconnlistener *unix_listener; /* h2c on cfg->unix_socket, or NULL */
	struct jg_accept_guard *unix_guard;   /* its back-off on EMFILE (accept.h) */
	char *unix_path;		      /* the socket file we created (removed at exit) */
	uint64_t buffered;		      /* response bytes queued gateway-wide (h2stream.c) */
	/* buffered > cfg->buffer_budget: agent links, raw execs' pipes and tunnel sockets
	 * do not read (h2stream.c resumes them below three quarters of it). */
	int budget_paused;
	/* Its log lines, at most one per 10 s (h2stream.c): pauses since the last line, when
	 * that was (CLOCK_MONOTONIC ms, 0: never), and whether the current pause was logged
	 * (then its resume is too). */
	uint64_t budget_pauses, budget_log_ms;
	int budget_pause_logged;
	/* Connections in their TLS handshake, oldest first (h2.c): at most
	 * jg_conn_handshake_limit(), past it the oldest is dropped. */
	struct jg_conn *hs_oldest, *hs_newest;
	size_t handshaking;
	size_t hs_peak;	     /* most handshaking at once since memory was last trimmed */
	uint64_t hs_dropped; /* dropped over the limit since the last log line */
	uint64_t hs_log_ms;  /* CLOCK_MONOTONIC of that line, 0: never */
	/* Failed handshakes logged in the window starting at hs_fail_ms, and not logged. */
	uint64_t hs_fail_ms, hs_fail_lines, hs_fail_quiet;
	uint64_t nofile;	  /* the soft RLIMIT_NOFILE the gateway runs with (main.c) */
	struct jg_setupq *setupq; /* onward setups running and waiting (setupq.h), or NULL */
	/* The audit log (auth/audit.h), opened from cfg->audit_path before serving (main.c:
	 * a path it cannot write refuses the start); SIGHUP calls
	 * jg_audit_reopen_at(gw->audit, cfg->audit_path). */
	struct jg_audit *audit;
	/* Multi-site (gateway/sites/sites.h): links to peer gateways, and the route table. */
	struct jg_sites *sites;
	struct jg_routes *routes;
	/* Controllers' agent streams, lent to onward ssh (gateway/onward/agentfwd.h). */
	struct jg_agentfwd *agentfwds;
	/* Prometheus counters (gateway/metrics.h) and the plain-HTTP listener serving them
	 * (metrics_listen), or NULL. */
	struct jg_metrics *metrics;
	struct evhttp *metrics_http;
};

/* --- tls.c: transport ----------------------------------------------------- */

/* Build the server SSL_CTX: TLS 1.3 only, ALPN h2, client certificates required and
 * verified against cfg->ca_file. 0 or JG_ERR_TLS with the reason in ERR. */
int jg_tls_server_ctx(const struct jg_config *cfg, SSL_CTX **out, char *err, size_t errlen);
/* Start listening on cfg->listen_host:listen_port. 0 or JG_ERR_IO with the reason in ERR. */
int jg_tls_listen(struct jg_gateway *gw, char *err, size_t errlen);
/* The controller's identity from the peer's certificate into BUF: the part chosen by the
 * configuration's `identity` (kept in the SSL_CTX's app data by jg_tls_server_ctx). */
void jg_tls_peer_identity(SSL *ssl, char *buf, size_t len);

/* --- unixsock.c: the local listener (h2c, prior knowledge) -------------- */

/* Listen on cfg->unix_socket (mode 0660) when set; 0 when unset. 0 or JG_ERR_IO
 * with the reason in ERR. */
int jg_unix_listen(struct jg_gateway *gw, char *err, size_t errlen);
/* Stop listening (SIGTERM); the file stays until jg_unix_close. */
void jg_unix_stop(struct jg_gateway *gw);
/* Stop listening and remove the socket file we created. */
void jg_unix_close(struct jg_gateway *gw);

/* --- h2.c: HTTP/2 sessions ---------------------------------------------- */

/* Take ownership of a connected TLS bufferevent (handshake in progress) from PEER. */
void jg_conn_accept(struct jg_gateway *gw, struct bufferevent *bev, const char *peer);
/* Take ownership of a plain (h2c, prior knowledge) bufferevent from PEER whose identity
 * is already known (the Unix socket's peer credentials): the session starts at once. */
void jg_conn_accept_plain(struct jg_gateway *gw, struct bufferevent *bev, const char *peer,
			  const char *identity);
/* Connections allowed in their TLS handshake at once: max_handshakes, or (0) a quarter
 * of the descriptor limit. */
size_t jg_conn_handshake_limit(const struct jg_gateway *gw);
/* Send GOAWAY on every connection; each closes when its streams end. */
void jg_conn_drain_all(struct jg_gateway *gw);
/* Close every connection now (the drain time is up), and those still lingering. */
void jg_conn_close_all(struct jg_gateway *gw);

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

/* --- operations: what the router (api.h) hands a request to ------------- */

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
/* --- exec.c: the exec operation ------------------------------------------ */

/* Run the admitted request ADM (gateway/admission/admit.h, taken: closed on every path); its policy
 * decision is taken at OPEN, when argv is known.  NULL when it answered already. */
struct jg_admit;
struct jg_op *jg_exec_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm);

/* --- tunnel.c: extended CONNECT to a TCP port on (or from) a target ------- */

/* CONNECT :protocol QUERY ("port=22") for ADM (gateway/admission/admit.h, action tunnel; taken:
 * closed on every path), decided here once the query says what is asked. */
struct jg_op *jg_tunnel_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm,
			      const char *protocol, const char *query);

/* --- files.c, fanout.c: PUT/GET of files -------------------------------- */

/* PUT or GET /v1/targets/{target}/files/{PATH} (PATH percent-decoded, absolute) for ADM
 * (gateway/admission/admit.h, action put or get; taken: closed on every path), decided once the
 * path is normalised. */
struct jg_op *jg_files_start(struct jg_gateway *gw, struct jg_stream *s, const char *method,
			     struct jg_admit *adm, const char *path, const char *query);
/* PUT /v1/files/{PATH}?targets=a,b,c: one upload to many targets; with COPY, PUT
 * /v1/copy/{PATH}?targets=...&from=TARGET:/SRC: the bytes read from SRC on TARGET. */
struct jg_op *jg_fanout_start(struct jg_gateway *gw, struct jg_stream *s, const char *path,
			      const char *query, int copy);
/* GET /v1/targets?match=GLOB: inventory names and groups expanded (JSON array). */
void jg_targets_list(struct jg_gateway *gw, struct jg_stream *s, const char *query);
/* GET /v1/targets for a caller without the admin action: the inventory entries it may
 * act on (each with its "actions"), the others left out. */
void jg_targets_list_mine(struct jg_gateway *gw, struct jg_stream *s);
/* GET /v1/whoami: the identity the gateway acts for on S, and how it knows (whoami.c). */
void jg_whoami_reply(struct jg_gateway *gw, struct jg_stream *s);
/* Expand PATTERN, a comma list of names/specs, groups and globs over inventory names, into
 * *NAMES (N strings, first appearance order, no duplicates; the caller frees each and the
 * array).  0, or JG_ERR_INVAL / JG_ERR_NOTFOUND (a glob or the whole list matching nothing)
 * / JG_ERR_TOOBIG / JG_ERR_NOMEM with the reason in ERR. */
int jg_targets_expand(const struct jg_config *cfg, const char *pattern, char ***names, size_t *n,
		      char *err, size_t errlen);

/* --- raw.c: exec without an agent (targets with `raw = true`) ------------ */

/* The exec contract over one `ssh host 'command'` per operation (no pty, signals kill
 * the local ssh), for ADM (admitted, its chain resolved; taken: closed on every path).
 * NULL when it answered already. */
struct jg_op *jg_raw_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm);

/* --- agentlink.c: links to agents ---------------------------------------- */

/* An operation using an agent channel embeds a pump (gateway/pump/pump.h), which embeds
 * this as its first member; the link's channel user data points at it.  The hooks are called from
 * inside the link's input processing; they may send on the channel or close it. */
struct jg_chan_user;
struct jg_chan_hooks {
	/* OPEN_OK, OPEN_FAIL, DATA, EOF, EXIT, CLOSE for this channel. After OPEN_FAIL, EXIT
	 * and CLOSE the channel is gone. */
	void (*on_frame)(struct jg_chan_user *u, const struct jg_frame *f);
	/* The agent granted window: more DATA may be sent. */
	void (*on_writable)(struct jg_chan_user *u);
	/* The channel died with REASON (agent gone, protocol error); it is gone. */
	void (*on_dead)(struct jg_chan_user *u, const char *reason);
};
struct jg_chan_user {
	const struct jg_chan_hooks *hooks;
};
struct jg_chain;
/* The onward connection for CHAIN (by its key), starting one when there is none: an
 * operation on a target that is still connecting waits for it (its OPEN is queued),
 * bounded by the connect timeout. CHAIN is copied. NULL with ERR filled. */
struct jg_agentlink *jg_agentlink_get(struct jg_gateway *gw, const struct jg_chain *chain,
				      char *err, size_t errlen);
/* Close the onward connections with KEY now (its channels die with REASON): the shared
 * one and those opened with controllers' agents.  1 when there was one, 0 when not. */
int jg_agentlink_reset(struct jg_gateway *gw, const char *key, const char *reason);
/* Open a channel of KIND with PAYLOAD for U. Channel id > 0, or a negative JG_ERR_*. */
int64_t jg_agentlink_open(struct jg_agentlink *al, uint32_t kind, const void *payload, size_t len,
			  struct jg_chan_user *u);
/* The underlying sans-I/O link (for a pump, gateway/pump/pump.h, and SIGNAL/RESIZE).  What
 * is queued on it is written once per event-loop turn without being asked (the link's
 * output buffer schedules the write): nobody flushes by hand. */
struct jg_link *jg_agentlink_link(struct jg_agentlink *al);
/* Stop every agent: every channel dies with REASON, the links close (agents kill their
 * children and exit). */
void jg_agentlink_shutdown_all(struct jg_gateway *gw, const char *reason);
/* Every link reads again (the buffer budget is no longer exceeded). */
void jg_agentlink_resume_all(struct jg_gateway *gw);
/* Append one JSON object per link (target, pid, state, channels, bytes, since) to the
 * jansson array JSON_ARRAY (a json_t *, untyped here to keep jansson out of this header). */
void jg_agentlink_stats(const struct jg_gateway *gw, void *json_array);

#endif
