/* Multi-site: links to peer gateways, the route table learned over them, and
 * operations forwarded along it (docs/api.md "Sites", docs/protocol.md
 * "Routes between gateways").
 *
 * Layers, as for controllers: sitelink.c is the transport (TLS, reconnect with
 * backoff, PING keepalive, the set of links) and linksession.c the multiplexer
 * on it (an nghttp2 CLIENT session, the route stream, streams); rtable.c is the
 * sans-I/O path-vector table and routes.c wires it to the links and to the
 * gateways linked to us; forward.c is the operation that carries one
 * controller stream onto a link stream, HTTP/2 windows bridged, and fwput.c
 * the part of a fan-out that goes to one other site.
 *
 * Direction: a gateway links to the sites in its `sites` (with `address`);
 * over each link it subscribes to GET /v1/routes/stream, on which the peer
 * pushes the sites IT reaches.  So routes flow against the link direction, and
 * operations along it. */
#ifndef JG_GATEWAY_SITES_SITES_H
#define JG_GATEWAY_SITES_SITES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct evbuffer;
struct jg_audit_op;
struct jg_admit;
struct jg_gateway;
struct jg_stream;
struct jg_op;
struct jg_site;
struct jg_sitelink;
struct jg_sitelink_stream;

/* The request header that carries the controller's identity to the next gateway. */
#define JG_ON_BEHALF_OF "x-jumpgate-on-behalf-of"

/* --- sitelink.c: one persistent HTTP/2-over-TLS link per configured peer ---- */

enum jg_sitelink_state {
	JG_SITELINK_WAITING,	 /* backing off before the next attempt */
	JG_SITELINK_CONNECTING,	 /* TCP connect and TLS handshake */
	JG_SITELINK_SUBSCRIBING, /* HTTP/2 up, the route stream not answered yet */
	JG_SITELINK_UP,		 /* the route stream answered 200: usable */
	JG_SITELINK_STOPPED,	 /* shutting down: no more attempts */
};

/* What a stream on a link reports to its user.  Every callback runs from the event
 * loop, possibly inside the link's nghttp2 callbacks: a user must not free the link
 * stream itself (jg_sitelink_stream_cancel detaches it instead). */
struct jg_sitelink_stream_cbs {
	/* One response header (":status" included); the list ends with on_headers_end. */
	void (*on_header)(void *ud, const char *name, const char *value);
	void (*on_headers_end)(void *ud);
	/* Response body bytes (borrowed).  Their flow-control credit goes back to the peer
	 * only when the user calls jg_sitelink_stream_consume. */
	void (*on_data)(void *ud, const uint8_t *data, size_t len);
	/* The response ended (END_STREAM). */
	void (*on_end)(void *ud);
	/* The request body: copy up to LEN bytes into BUF and return the count; 0 with *EOF
	 * set ends it; JG_ERR_AGAIN when nothing is ready (then jg_sitelink_stream_resume). */
	ssize_t (*body)(void *ud, uint8_t *buf, size_t len, int *eof);
	/* The stream is gone: H2_ERROR is its HTTP/2 error code (0: a clean end), or LOST
	 * is non-NULL ("route to site-b lost: <reason>") when the link itself died.  The
	 * link stream is freed after this returns. */
	void (*on_close)(void *ud, uint32_t h2_error, const char *lost);
};

/* Start every link of GW's configuration (sites with an address). 0, or -1 with the
 * reason in ERR (a CA, certificate or key file unusable). */
int jg_sites_start(struct jg_gateway *gw, char *err, size_t errlen);
/* SIGHUP, after gw->cfg became the new configuration (whose gateway_name is the same):
 * links to sites gone from `sites` are closed and their routes withdrawn, links whose
 * address, ca, cert or key changed reconnect, new sites get links; every link's TLS
 * context is rebuilt from its files.  Problems are logged; the rest goes on. */
void jg_sites_reload(struct jg_gateway *gw);
/* SIGTERM: end the route streams we serve and stop linking (GOAWAY on each link). */
void jg_sites_drain(struct jg_gateway *gw);
/* Free everything (at exit). */
void jg_sites_free(struct jg_gateway *gw);
/* The link to the peer named SITE, or NULL. */
struct jg_sitelink *jg_sitelink_find(struct jg_gateway *gw, const char *site);
const char *jg_sitelink_name(const struct jg_sitelink *l);
enum jg_sitelink_state jg_sitelink_state(const struct jg_sitelink *l);
const char *jg_sitelink_state_name(enum jg_sitelink_state st);
/* Last round-trip time of a PING in milliseconds, or -1 when none was measured. */
double jg_sitelink_rtt_ms(const struct jg_sitelink *l);
/* Why the link is not up (last failure), "" when it never failed. */
const char *jg_sitelink_error(const struct jg_sitelink *l);
/* Submit a request on L (which must be UP).  HEADERS are NHEADERS name/value pairs
 * beyond the pseudo-headers (copied by nghttp2 before this returns); PROTOCOL
 * non-NULL makes it an extended CONNECT.  NULL with the reason in ERR. */
struct jg_sitelink_stream *jg_sitelink_request(struct jg_sitelink *l, const char *method,
					       const char *protocol, const char *path,
					       const char *const headers[][2], size_t nheaders,
					       const struct jg_sitelink_stream_cbs *cbs, void *ud,
					       char *err, size_t errlen);
/* The request body has bytes (or its end) again. */
void jg_sitelink_stream_resume(struct jg_sitelink_stream *st);
/* N response bytes moved on: give their credit back to the peer. */
void jg_sitelink_stream_consume(struct jg_sitelink_stream *st, size_t n);
/* Reset the stream (CANCEL) and detach it: no callback is called any more. */
void jg_sitelink_stream_cancel(struct jg_sitelink_stream *st);
/* Append one JSON object per link to the jansson array JSON_ARRAY (a json_t *). */
void jg_sites_stats(const struct jg_gateway *gw, void *json_array);

/* --- routes.c: the route table (relay/rtable.c) wired to links and subscribers - */

/* Make the (empty) table; 0 or JG_ERR_NOMEM. */
int jg_routes_init(struct jg_gateway *gw);
/* A new configuration: learned routes are judged again (`learn`, the inventory). */
void jg_routes_reconfigure(struct jg_gateway *gw);
/* How many route advertisements from the peer SITE were refused (`learn`, inventory
 * names), for /v1/stats. */
uint64_t jg_routes_refused(const struct jg_gateway *gw, const char *site);
/* Know the peer SITE we link to, ranked RANK (its place in `sites`). */
int jg_routes_peer(struct jg_gateway *gw, const char *site, size_t rank);
/* The peer SITE is configured away: its routes and entry leave the table. */
void jg_routes_peer_remove(struct jg_gateway *gw, const char *site, const char *reason);
/* The link to SITE died or retires (REASON: why): every route learned over it is
 * withdrawn. */
void jg_routes_link_down(struct jg_gateway *gw, const char *site, const char *reason);
/* One line of the route stream of the link to SITE.  0, or negative with the reason in
 * ERR: JG_ERR_TOOBIG (the table is full, the route dropped), else the line is bad and
 * the caller drops the link. */
int jg_routes_learn(struct jg_gateway *gw, const char *site, const char *line, size_t len,
		    char *err, size_t errlen);
/* Where a target naming site SITE goes.  1 and *LINK (the next hop) and *DIRECT (1 when
 * the next hop IS the site) for a usable route; 0 with the reason in WHY when the site is
 * known but unreachable now ("route to site-b lost: ..."); -1 when SITE is no site. */
int jg_routes_lookup(struct jg_gateway *gw, const char *site, struct jg_sitelink **link,
		     int *direct, char *why, size_t whylen);
/* GET /v1/routes/stream: the route stream served to a gateway linked to us. */
struct jg_op *jg_routes_serve(struct jg_gateway *gw, struct jg_stream *s);
/* GET /v1/routes: JSON text (caller frees). */
char *jg_routes_json(struct jg_gateway *gw);
/* Routes in the table into *UP (with a next hop) and *LOST (metrics.c). */
void jg_routes_count(const struct jg_gateway *gw, size_t *up, size_t *lost);
/* End every route stream we serve (draining). */
void jg_routes_drain(struct jg_gateway *gw);
/* Free the table (at exit). */
void jg_routes_free(struct jg_gateway *gw);

/* --- forward.c: operations carried to another site ------------------------ */

/* If TARGET's first '/'-separated element names a site (or this gateway itself), handle
 * the request: forward it (returning the op), or answer it (NULL, *HANDLED set).  Else
 * *HANDLED is 0 and the caller goes on.  ACTION is the policy action ("exec", "put",
 * "get", "tunnel", "reset"), REST what follows the target in the path ("exec",
 * "files/etc/motd?x=1", "tunnel?port=22"), FPATH the decoded file path or NULL, PORT the
 * tunnel port or 0. */
struct jg_op *jg_forward_target(struct jg_gateway *gw, struct jg_stream *s, const char *method,
				const char *protocol, const char *action, const char *target,
				const char *rest, const char *fpath, int *handled);
/* GET /v1/targets?QUERY: when every element of match= names a target at one other site
 * ("site-c/web*", "site-c/grp"), the listing is asked there (the prefix stripped at the
 * last hop) and the names come back with the site in front; elements of several places
 * are refused (400).  *HANDLED is 0 when no element is at another site. */
struct jg_op *jg_forward_match(struct jg_gateway *gw, struct jg_stream *s, const char *query,
			       int *handled);
/* Is TARGET "SITE/..." with SITE another site we know (up or lost)?  1 with SITE (LEN
 * bytes) filled, else 0. */
int jg_forward_site_of(struct jg_gateway *gw, const char *target, char *site, size_t len);
/* The request headers a forwarded request carries: S's content-type and other headers,
 * and the identity S acts for as x-jumpgate-on-behalf-of (replacing any sent).  The count
 * put in H (at most MAX), or -1 when there are more. */
int jg_forward_headers(struct jg_stream *s, const char *h[][2], size_t max);

/* --- fwput.c: the part of a fan-out that goes to one other site ------------ */

struct jg_fwput;
struct jg_fwput_cbs {
	/* The link took bytes: there is window again. */
	void (*on_writable)(void *owner, struct jg_fwput *p);
	/* It finished, well or not (jg_fwput_results says how); called once. */
	void (*on_done)(void *owner, struct jg_fwput *p);
};
/* Start the upload of FPATH to the N TARGETS at SITE (each named as the client named it,
 * "SITE/..."), one forwarded fan-out on the link to SITE's next hop with S's headers.
 * Takes the N admissions ADM[] (each allowed, its record open; set to NULL) and closes
 * them with the outcome.  A failure at once (the route lost) leaves it done at return,
 * without on_done: the owner checks jg_fwput_done().  NULL when out of memory. */
struct jg_fwput *jg_fwput_start(struct jg_gateway *gw, struct jg_stream *s, const char *site,
				char *const *targets, struct jg_admit **adm, size_t n,
				const char *fpath, const struct jg_fwput_cbs *cbs, void *owner);
/* Bytes it takes now (0: wait for on_writable). */
size_t jg_fwput_window(const struct jg_fwput *p);
/* Give it up to LEN body bytes (copied); returns how many it took. */
size_t jg_fwput_send(struct jg_fwput *p, const void *data, size_t len);
/* The body is complete. */
void jg_fwput_eof(struct jg_fwput *p);
int jg_fwput_done(const struct jg_fwput *p);
const char *jg_fwput_site(const struct jg_fwput *p);
/* Append one object per target (as the far side answered, named as here; or one failure
 * per target named, with the reason) to the jansson array JSON_ARRAY.  Returns the count
 * of failures. */
size_t jg_fwput_results(const struct jg_fwput *p, void *json_array);
/* Abandon it (the link stream reset); done from now on. */
void jg_fwput_abort(struct jg_fwput *p);
/* Abandon when not done, and free. */
void jg_fwput_free(struct jg_fwput *p);

/* The identity an incoming stream acts for: ASSERTED (the on-behalf-of header, may be
 * NULL) when the connection's IDENTITY is a site trusted to assert, else NULL. */
const char *jg_sites_trusted_assertion(const struct jg_gateway *gw, const char *identity,
				       const char *asserted);

#endif
