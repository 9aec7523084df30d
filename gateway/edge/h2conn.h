/* The HTTP/2 multiplexer's private types, shared by h2.c (connections), h2session.c
 * (the nghttp2 session and its callbacks) and h2stream.c (the stream API operations
 * use).  Nothing outside those three files includes this. */
#ifndef JG_H2CONN_H
#define JG_H2CONN_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "gateway/stream.h"
#include "relay/autowin.h"

struct jg_gateway;
struct jg_op;
struct evbuffer;
struct event;
struct bufferevent;
struct jg_h2field;

struct jg_stream {
	struct jg_stream_head head; /* first: its jg_stream_cbs (gateway/stream.h) */
	struct jg_h2conn *conn;
	int32_t id;
	char method[16];
	char *path;
	char content_type[128];
	char protocol[32];     /* :protocol of an extended CONNECT (RFC 8441), or "" */
	struct evbuffer *hdrs; /* other request headers: "name\0value\0" pairs */
	size_t hdr_bytes;      /* request header list size as RFC 9113 6.5.2 counts it */
	int hdr_too_big;       /* over max_header_list_size: answered 431, headers dropped */
	struct evbuffer *resp; /* response body not yet taken by nghttp2 */
	int resp_started;      /* response headers submitted */
	int resp_ended;	       /* our END_STREAM went out */
	char *trailers[2];     /* x-jumpgate-error, x-jumpgate-reason to end with, or NULL */
	struct event *linger;  /* error answered, request still open: reset when it fires */
	int resp_finished;     /* no more body will be appended */
	int deferred;	       /* the data provider returned DEFERRED */
	int req_ended;	       /* END_STREAM received from the client */
	char *asserted;	       /* the identity a trusted peer gateway asserted, or NULL */
	int status;	       /* the response's :status, 0 until one is submitted (the
				* audit record of a refusal; a PING for errors, h2session.c) */
	int audited;	       /* admission opened a record for it (admit.h) */
	char *error_reason;    /* the reason of its error answer, or NULL */
	struct jg_op *op;      /* owned by itself; released through on_close */
	struct jg_autowin win; /* its body's window growth (h2stream.c) */
	/* x-jumpgate-agent: the agent stream (gateway/onward/agentfwd.h) this request borrows, and
	 * how far (JG_POLICY_AGENT_*); 0, 0: none. */
	int32_t agent_stream;
	int agent;
	struct jg_stream *next, *prev;
};

struct jg_h2conn {
	struct jg_gateway *gw;
	struct bufferevent *bev;
	nghttp2_session *session;
	char peer[80];
	char identity[256];
	int plain;	/* h2c on the Unix socket: no TLS under the bufferevent */
	int handshaken; /* TLS done (or plain): the session exists */
	int goaway_sent;
	int refused;	  /* over max_connections_per_identity: close once GOAWAY is out */
	int limit_logged; /* the stream limit was logged once for this connection */
	/* Rapid reset (CVE-2023-44487): streams the client opened and reset before their
	 * end.  Once it resets most of what it opens, `calm` is set: GOAWAY
	 * ENHANCE_YOUR_CALM, no new stream, closed when the last ends. */
	uint32_t opened, resets;
	int calm;
	int in_handshake; /* on gw's handshake list (hs_prev, hs_next) */
	int no_linger;	  /* dropped unheard (no alert to deliver): close at once */
	int linger;	  /* ended by our GOAWAY while the peer may still send: linger */
	struct jg_h2conn *hs_prev, *hs_next;
	struct jg_h2field *field;  /* the client's bytes pass it first (h2field.h) */
	struct evbuffer *filtered; /* what it let through, for nghttp2 */
	struct event *timer;	   /* handshake timeout, then idle timeout */
	struct event *flush_ev;
	struct jg_stream *streams;
	size_t nstreams;
	struct jg_h2conn *next, *prev;
};

/* h2.c: send pending output soon (from outside nghttp2's callbacks). */
void jg_h2_schedule_flush(struct jg_h2conn *c);
/* h2.c: (re)arm C's one timer -- handshake, preface or idle timeout -- for MS ms. */
void jg_h2_arm_timer(struct jg_h2conn *c, uint32_t ms);
/* h2session.c: C's nghttp2 server session (callbacks, SETTINGS, connection window) and
 * its oversized-field filter.  0, or -1 out of memory (C is left for its caller to free). */
int jg_h2_session_start(struct jg_h2conn *c);
/* h2session.c: S's operation is told WHY first, so it stops using S; then S is unlinked
 * from its connection and freed (the idle timer is armed when it was the last). */
void jg_h2_stream_close(struct jg_stream *s, const char *why);
/* h2stream.c: the data provider of every response. */
ssize_t jg_h2_resp_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t len,
			uint32_t *data_flags, nghttp2_data_source *source, void *ud);
/* h2stream.c: nghttp2 sends a DATA frame of S's response chosen by jg_h2_resp_read: the
 * 9-byte FRAMEHD, then LENGTH body bytes moved (not copied) from the response queue
 * into OUT (PADLEN as nghttp2 gives it; 0 here).  0, or -1 when OUT cannot take it. */
int jg_h2_resp_send(struct jg_stream *s, struct evbuffer *out, const uint8_t *framehd,
		    size_t length, size_t padlen);
/* h2stream.c: N response bytes left the gateway-wide buffer budget (taken by
 * nghttp2, or dropped with their stream); resumes agent links below budget. */
void jg_h2_budget_release(struct jg_gateway *gw, size_t n);

/* The stream interface the edge gives each stream (h2stream.c). */
extern const struct jg_stream_cbs jg_h2stream_cbs;

#endif
