/* jumpgated's context: struct jg_gateway, the one context, passed explicitly and never
 * global.  Only the context lives here; each layer has its own folder and headers
 * (DESIGN.md, "the gateway's layers"; docs/glossary.md):
 *
 *   edge/       TLS, Unix socket, HTTP/2 sessions       edge.h (main's view)
 *   admission/  routing (api.h), admission (admit.h)
 *   ops/        exec, raw exec, files, fan-out, tunnels, listings   ops.h
 *   pump/       one agent channel <-> one stream           pump.h
 *   onward/     onward connections to agents (the pool)    agentlink.h
 *   sites/      links to peer gateways, routes, forwarding sites.h, sitelink.h
 *
 * A request flows down once (edge -> admission -> ops -> pump -> onward; sites beside
 * onward); tests/lint/layers.sh fails when a lower layer includes a higher one's header.
 * The service glue beside this file (main.c, sdnotify, metrics, certcmd, memtrim)
 * includes any layer.  The layers include, of it, leaf headers only: this one (the
 * context), stream.h (a request's stream, the edge's jg_stream_cbs) and admitted.h
 * (an admitted request, admission's jg_admit_cbs): a lower layer reaches up through
 * those tables, given at construction, never through a higher layer's header. */
#ifndef JG_GATEWAY_H
#define JG_GATEWAY_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "relay/autowin.h"
#include "relay/keymap.h"
#include "relay/bootstrap.h"

struct event_base;
struct event;
struct bufferevent;
struct evconnlistener;
struct evbuffer;
struct jg_config;
struct jg_accept_guard;
struct jg_setupq;
struct jg_reaper;
struct jg_h2conn;
struct jg_stream;
struct jg_onward;
struct jg_audit;
struct jg_audit_op;
struct jg_sites;
struct jg_routes;
struct jg_agentfwd;
struct jg_metrics;
struct jg_admit_cbs;
struct evhttp;

struct jg_stats {
	uint64_t conns_current, conns_total;
	uint64_t streams_current, streams_total;
	uint64_t exec_current, exec_total, exec_failed;
	uint64_t bytes_from_clients, bytes_to_clients;
	uint64_t tls_failures;
	uint64_t windows_grown; /* request bodies' windows grown (relay/autowin.h) */
};

struct jg_gateway {
	struct event_base *base;
	const struct jg_config *cfg; /* immutable; our reference, swapped by SIGHUP (main.c) */
	SSL_CTX *ssl_ctx;
	struct jg_certwatch *certwatch; /* CRL changes and renewals (certwatch.c) */
	struct evconnlistener *listener;
	struct jg_accept_guard *tls_guard; /* its back-off on EMFILE (accept.h) */
	struct jg_reaper *reaper;
	struct jg_h2conn *conns;   /* every live controller connection */
	struct jg_onward *links;   /* every live agent link, one per target */
	struct jg_keymap link_map; /* the same links by chain key (keymap.h) */
	struct jg_linger *lingers; /* closed connections draining their input (h2.c) */
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
	/* Window growth all request bodies hold together (relay/autowin.h, h2stream.c). */
	struct jg_autowin_budget winbudget;
	/* Its log lines, at most one per 10 s (h2stream.c): pauses since the last line, when
	 * that was (CLOCK_MONOTONIC ms, 0: never), and whether the current pause was logged
	 * (then its resume is too). */
	uint64_t budget_pauses, budget_log_ms;
	int budget_pause_logged;
	/* Connections in their TLS handshake, oldest first (h2.c): at most
	 * jg_h2conn_handshake_limit(), past it the oldest is dropped. */
	struct jg_h2conn *hs_oldest, *hs_newest;
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
	/* Admission as the layers below it call it (gateway/admitted.h): &jg_admit_cbs. */
	const struct jg_admit_cbs *admission;
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

#endif
