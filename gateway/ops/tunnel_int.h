/* Private to gateway/ops/tunnel.c (the tunnel operation: its stream, the AGENT back end,
 * the request's query) and gateway/ops/tundirect.c (the DIRECT back end: the socket the
 * gateway dials itself).  Both drive the one operation object below, whose state and
 * end (failed, started, freed) stay in tunnel.c; no other file includes this. */
#ifndef JG_GATEWAY_OPS_TUNNEL_INT_H
#define JG_GATEWAY_OPS_TUNNEL_INT_H

#include <stdint.h>

#include "gateway/pump/pump.h"
#include "gateway/stream.h"

struct bufferevent;
struct evbuffer;
struct event;
struct jg_admit;
struct jg_audit_op;
struct jg_chain;
struct jg_dial;
struct jg_gateway;

enum tun_state {
	TS_OPENING, /* channel opened / socket connecting; no answer yet */
	TS_RUNNING, /* 200 sent; bytes flow */
	TS_DONE,    /* the far side is finished or failed; waiting for the stream to close */
};

struct jg_tunnel_op {
	struct jg_pump pump; /* AGENT; first: the link's channel user data points here */
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	enum tun_state state;
	char desc[400];		      /* "web1 port 22 (by <identity>)", for log lines */
	struct jg_admit *adm;	      /* its admission (owned): target, chain, record */
	const struct jg_chain *chain; /* adm's */
	/* DIRECT */
	struct evbuffer *scratch;
	struct bufferevent *bev; /* connects and writes; never reads (rd does) */
	struct event *rd;	 /* its socket readable, armed while the stream has room */
	struct jg_dial *dial;	 /* resolving the host's name; NULL once answered */
	const char *typed;	 /* the target as the client named it (adm's) */
	char addr[64];		 /* the address dialled ("127.0.1.5", "::1") */
	char where[400];	 /* "web1 (127.0.1.5) port 22", for messages */
	int sock_eof;		 /* the socket said EOF; its input may still hold bytes */
	uint16_t port;
	/* both */
	int up_eof;	      /* the client ended the request body */
	int up_eof_sent;      /* ... and that reached the socket (SHUT_WR; AGENT: the pump's) */
	int down_eof;	      /* the response is finished */
	struct event *linger; /* pending while lingering after the stream closed */
	/* adm's open record, from the policy's yes to jg_tunnel_op_free */
	struct jg_audit_op *audit;
	int opened;	 /* the 200 went out (the audit's outcome) */
	char cause[300]; /* why it did not open, for the audit */
};

/* tunnel.c: the operation's end, for both back ends. */

/* Free X, closing its admission with the outcome (and why it did not open). */
void jg_tunnel_op_free(struct jg_tunnel_op *x);
/* The tunnel failed with REASON: an error response (STATUS, ERROR) before the 200, a
 * reset after it; the far side is abandoned.  While lingering (no stream) X is freed. */
void jg_tunnel_op_failed(struct jg_tunnel_op *x, int status, const char *error, const char *reason);
/* The far side is answered: the 200 goes out (TS_RUNNING).  0, or -1 when it could not
 * (the far side abandoned, TS_DONE). */
int jg_tunnel_op_started(struct jg_tunnel_op *x);

/* tundirect.c: DIRECT, the gateway dials x->port of a host itself. */

/* Dial HOST (a name or an address) port x->port: resolved first without blocking the
 * loop, the address judged by policy.  0 (connecting, or resolving first), or -1 after
 * an error answer on the stream. */
int jg_tundirect_open(struct jg_tunnel_op *x, const char *host);
/* Move socket bytes onto the stream while its queue has room (and the buffer budget
 * allows reading on); finish the response at the socket's EOF. */
void jg_tundirect_pump_down(struct jg_tunnel_op *x);
/* Client END_STREAM and everything written: SHUT_WR to the far end.  Ends lingering:
 * returns 1 when X was freed. */
int jg_tundirect_maybe_shut(struct jg_tunnel_op *x);

#endif
