/* The connection to the gateway: TCP, then TLS (client/tls.h), then the shared
 * HTTP/2 client session (h2/client.h) over a libevent bufferevent_openssl.
 *
 * Transport and multiplexer only: operations (client/exec.c) submit requests
 * and get their stream's events through struct jg_h2client_stream_cbs; they never
 * touch the socket.
 *
 * Callback contract: every callback runs from the event loop.  Stream
 * callbacks run inside nghttp2; from there an operation may call
 * jg_conn_resume() and jg_conn_shutdown() (both defer their sending), but not
 * jg_conn_free(). */
#ifndef JG_CLIENT_CONN_H
#define JG_CLIENT_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "h2/client.h"

struct jg_client;
struct jg_conn;

struct jg_conn_cbs {
	/* TLS is up, the gateway agreed to HTTP/2 and its first SETTINGS came: requests may
	 * be submitted.  Not before those SETTINGS, so that a connection lost before them
	 * carried no request (jg_conn_heard_settings): one round trip on a new connection
	 * buys an exact "nothing ran" for failover, even through HAProxy, which drops what a
	 * killed gateway had sent.  The persistent client's socket answers at once. */
	void (*ready)(void *arg);
	/* The connection failed (connect, TLS, HTTP/2, or the gateway went away); MSG says why,
	 * for a person, without the "jumpgate: " prefix.  Nothing more will be called. */
	void (*failed)(void *arg, const char *msg);
	/* jg_conn_shutdown() finished (or gave up): nothing more will be called. */
	void (*closed)(void *arg);
	/* Optional: the gateway's first SETTINGS arrived, so jg_conn_can_connect() knows. */
	void (*settings)(void *arg);
	/* Optional: the gateway sent GOAWAY (it is closing, or cutting us): no new requests. */
	void (*goaway)(void *arg);
};

/* A stream's events are those of the shared HTTP/2 client: struct jg_h2client_stream_cbs
 * (h2/client.h); from its callbacks call jg_conn_resume(), not jg_h2client_resume().
 * Without jg_conn_set_manual_window() the stream is reset (NO_ERROR) once the gateway
 * ended the response, as what we would still send has no reader. */

/* Start connecting to c->gateway (bounded by c->connect_timeout; once open, the
 * gateway's silence by c->timeout, with keepalive PINGs).  NULL when the TLS
 * setup failed (message printed); otherwise the outcome arrives through CBS. */
struct jg_conn *jg_conn_new(struct jg_client *c, const struct jg_conn_cbs *cbs, void *arg);
/* Close at once, without a goodbye.  NULL is fine. */
void jg_conn_free(struct jg_conn *conn);

/* Submit a request with a streamed body.  HEADERS holds NHEADERS name/value pairs beyond the
 * pseudo-headers.  The stream id (> 0), or a negative JG_ERR_*. */
int32_t jg_conn_request(struct jg_conn *conn, const char *method, const char *path,
			const char *const headers[][2], size_t nheaders,
			const struct jg_h2client_stream_cbs *cbs, void *arg);
/* An extended CONNECT (RFC 8441): :method CONNECT, :protocol PROTOCOL, :scheme and :path
 * as for jg_conn_request; request and response bodies are raw bytes.  Only once
 * jg_conn_can_connect() is 1.  The stream id (> 0), or a negative JG_ERR_*. */
int32_t jg_conn_connect(struct jg_conn *conn, const char *protocol, const char *path,
			const char *const headers[][2], size_t nheaders,
			const struct jg_h2client_stream_cbs *cbs, void *arg);
/* 1 when the gateway's SETTINGS enable extended CONNECT, 0 when they do not, -1 while
 * they have not arrived (see cbs->settings). */
int jg_conn_can_connect(const struct jg_conn *conn);
/* 1 once the gateway's first SETTINGS arrived.  No request is sent before (cbs->ready):
 * a connection lost before they came carried none, so the gateway acted on nothing of it
 * (client/failover.h).  Exact also when a proxy between us lost the gateway's last bytes
 * (HAProxy in front of a gateway killed with -9). */
int jg_conn_heard_settings(const struct jg_conn *conn);
/* The body of STREAM_ID has bytes (or its end) again. */
void jg_conn_resume(struct jg_conn *conn, int32_t stream_id);
/* Reset STREAM_ID (CANCEL). */
void jg_conn_cancel(struct jg_conn *conn, int32_t stream_id);
/* The gateway must answer (a PING is sent now) within SECS, or the connection fails
 * naming WHY ("a signal could not be delivered").  Once at a time; any bytes from the
 * gateway settle it. */
void jg_conn_probe(struct jg_conn *conn, int secs, const char *why);
/* For a relay (client/master.c), before the connection is ready: response bytes are no
 * longer acknowledged as they arrive but only when jg_conn_consume() says they were passed
 * on, so a slow reader holds back the gateway instead of growing a buffer. */
void jg_conn_set_manual_window(struct jg_conn *conn);
/* LEN bytes of STREAM_ID's response were passed on: the gateway may send that much more. */
void jg_conn_consume(struct jg_conn *conn, int32_t stream_id, size_t len);
/* 1 when this connection goes through the persistent client (client/mux.h). */
int jg_conn_via_master(const struct jg_conn *conn);
/* Say goodbye (GOAWAY, TLS close_notify) and call cbs->closed once the bytes are out, or
 * after a short bound. */
void jg_conn_shutdown(struct jg_conn *conn);

#endif
