/* One link to a peer gateway, seen from inside: private to its two halves.
 *
 *   sitelink.c    the transport: TLS over TCP, connect, backoff, keepalive
 *                 timer, the link's state;
 *   linksession.c the multiplexer: the HTTP/2 client session (h2/client.h)
 *                 on an established transport, the route stream we subscribe to,
 *                 and the streams users open on the link (gateway/sites/sites.h).
 *
 * The transport hands the session its bytes (jg_linksess_recv) and asks it to
 * write (jg_linksess_send); the session reports a failure (jg_sitelink_fail,
 * or jg_sitelink_fail_soon from inside nghttp2's callbacks) and the answer of
 * the route stream (jg_sitelink_up).  siteset.c keeps the set of links
 * (gateway/sites/sites.h).  Everything runs on the event loop. */
#ifndef JG_GATEWAY_SITES_SITELINK_H
#define JG_GATEWAY_SITES_SITELINK_H

#include <stdint.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "gateway/sites/sites.h"
#include "relay/keepalive.h"

struct jg_config;
struct jg_h2client;
struct jg_site;
struct jg_sitelink_stream;

struct jg_sitelink {
	struct jg_gateway *gw;
	const struct jg_site *site;  /* an entry of CFG */
	const struct jg_config *cfg; /* the link's reference to the configuration of SITE */
	SSL_CTX *ctx;
	enum jg_sitelink_state state;
	struct bufferevent *bev;
	struct jg_h2client *session; /* h2/client.h, while the transport is established */
	struct event *timer;	     /* backoff wait, then the connect deadline */
	struct event *ping_ev;	     /* keepalive tick */
	struct event *flush_ev;	     /* send what nghttp2 has, from outside its callbacks */
	struct event *fail_ev;	     /* a failure recorded inside a callback */
	char fail_why[256];
	uint32_t backoff_ms;
	struct jg_keepalive ka; /* relay/keepalive.h: the rule, on jg_clock_ms and bytes_in */
	struct timespec ping_sent;
	double rtt_ms;
	time_t since;	 /* when the state last changed */
	char error[256]; /* the last failure */
	uint64_t bytes_in, bytes_out, connects, failures;
	uint64_t streams_total;
	size_t nstreams;
	/* The peer is going away (GOAWAY, or its route stream ended cleanly): its routes
	 * are withdrawn, no new stream may start, and once the streams still running end
	 * the link is dropped and dialled again. */
	int retiring;
	char retire_why[200];
	int32_t route_stream; /* our GET /v1/routes/stream, or -1 */
	int route_status;
	struct evbuffer *route_buf; /* an incomplete line of the route stream */
	struct jg_sitelink_stream *streams;
	struct jg_sitelink *next; /* the gateway's list of links */
};

/* --- sitelink.c, for siteset.c ------------------------------------------- */

/* A link to SITE (an entry with an address of gw->cfg, which the link holds a reference
 * to while it uses SITE), its first attempt armed.  NULL with the reason in ERR (a CA,
 * certificate or key file). */
struct jg_sitelink *jg_sitelink_new(struct jg_gateway *gw, const struct jg_site *site, char *err,
				    size_t errlen);
/* Free a link (stopped first, or never connected). */
void jg_sitelink_free(struct jg_sitelink *l);
/* SIGHUP: follow SITE (the same name, an entry of the new gw->cfg, whose reference the
 * link then holds instead of the old one's): the TLS context is rebuilt from its files;
 * when its address, ca, cert or key changed the link reconnects.  1 when it reconnects,
 * 0 when not, -1 with the reason in ERR (an unusable file: nothing changed, the link
 * keeps the old entry and its configuration). */
int jg_sitelink_reconfigure(struct jg_sitelink *l, const struct jg_site *site, char *err,
			    size_t errlen);
/* Close for good: streams end with "route to SITE lost: WHY", its routes are withdrawn. */
void jg_sitelink_stop(struct jg_sitelink *l, const char *why);
/* SIGTERM: no more attempts; GOAWAY to the peer, running streams go on. */
void jg_sitelink_drain(struct jg_sitelink *l);
/* Append the link's /v1/stats object to the jansson array JSON_ARRAY. */
void jg_sitelink_stats(const struct jg_sitelink *l, void *json_array);

/* --- sitelink.c, for linksession.c --------------------------------------- */

/* Drop the connection now with the reason (recorded as the link's error). */
void jg_sitelink_fail(struct jg_sitelink *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, from inside nghttp2's callbacks: done from the event loop. */
void jg_sitelink_fail_soon(struct jg_sitelink *l, const char *why);
/* The route stream was answered 200: the link is UP. */
void jg_sitelink_up(struct jg_sitelink *l);
/* Have the session's output written from the event loop (outside its callbacks). */
void jg_sitelink_schedule_flush(struct jg_sitelink *l);

/* --- linksession.c, for sitelink.c --------------------------------------- */

/* Start the HTTP/2 session on the established transport and subscribe to the route
 * stream.  0, or -1 with the link failed. */
int jg_linksess_start(struct jg_sitelink *l);
/* Bytes from the peer; 0, or -1 with the link failed. */
int jg_linksess_recv(struct jg_sitelink *l, const uint8_t *data, size_t len);
/* Write what the session has; fails the link when the session is over. */
void jg_linksess_send(struct jg_sitelink *l);
/* A keepalive PING (its answer measures the RTT). */
void jg_linksess_ping(struct jg_sitelink *l);
/* Tell the peer we go (GOAWAY); streams running go on. */
void jg_linksess_goaway(struct jg_sitelink *l);
/* The connection is gone: every stream's user is told LOST, the session freed. */
void jg_linksess_close(struct jg_sitelink *l, const char *lost);

#endif
