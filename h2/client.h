/* One HTTP/2 client session (nghttp2), shared by the controller's connection to
 * its gateway (client/conn.c) and a gateway's links to its peers
 * (gateway/linksession.c), as h2o shares one client between its proxy and its
 * CLI.  The owner keeps the transport (connect, TLS, failover, keepalive,
 * link lifecycle); this module keeps the multiplexer:
 *
 *   - the session, our SETTINGS and receive windows;
 *   - the send path: frames go into OUT, an evbuffer the owner drains (a
 *     bufferevent's output), held back in nghttp2 while OUT holds more than
 *     the high-water mark.  nghttp2_session_send is never re-entered: a call
 *     from inside it (a body callback refilling its queue resumes its stream)
 *     sends once more after it returns, and a call from inside
 *     jg_h2client_recv waits for the owner's jg_h2client_send after it;
 *   - requests with a body provider: a copying one (body), or a queue-backed
 *     one (body_queue) whose bytes move as evbuffer chains straight into OUT
 *     (NGHTTP2_DATA_FLAG_NO_COPY);
 *   - the streams and their user data, each closed exactly once (close), or
 *     dropped unannounced by jg_h2client_free;
 *   - with manual_window, received DATA credited back only as the owner says
 *     it was passed on (jg_h2client_consume), so a slow reader holds back the
 *     peer instead of growing a buffer;
 *   - the peer's first SETTINGS, GOAWAY and PING answers, reported to the owner.
 *
 * It touches no socket and no event loop: the unit tests run it against an
 * nghttp2 server session through two evbuffers (tests/unit/test_h2client.c).
 *
 * Callback contract: stream and session callbacks run inside nghttp2 (inside
 * jg_h2client_recv or jg_h2client_send).  From there the owner may call
 * jg_h2client_resume, _consume, _cancel, _ping and _goaway (they only ask for
 * a send, see want_send), but not jg_h2client_free. */
#ifndef JG_H2_CLIENT_H
#define JG_H2_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evbuffer;
struct jg_h2client;

/* frame_end's HEADERS argument: which header block ended. */
#define JG_H2CLIENT_HEADERS 1  /* the response's header block (or an informational one) */
#define JG_H2CLIENT_TRAILERS 2 /* trailers */

struct jg_h2client_cbs {
	/* Something was submitted outside the owner's send path (a resume, a consumed
	 * window, a reset, a PING, a GOAWAY): call jg_h2client_send, at once or from the
	 * loop.  Not called while jg_h2client_recv runs: the owner sends after it anyway. */
	void (*want_send)(void *arg);
	/* Optional: the peer's first SETTINGS arrived (jg_h2client_can_connect knows now). */
	void (*settings)(void *arg);
	/* Optional: the peer sent GOAWAY with ERROR_CODE and DATA (its debug data, LEN
	 * bytes, not NUL-terminated): no new request will be accepted. */
	void (*goaway)(void *arg, uint32_t error_code, const uint8_t *data, size_t len);
	/* Optional: the peer answered a PING of ours. */
	void (*ping_ack)(void *arg);
};

struct jg_h2client_stream_cbs {
	/* One response header (or trailer), ":status" included; NAME and VALUE are
	 * NUL-terminated.  Non-zero resets the stream. */
	int (*header)(void *arg, const char *name, const char *value);
	/* Response body bytes.  Non-zero resets the stream (CANCEL).  With manual_window
	 * the owner gives them back with jg_h2client_consume once passed on. */
	int (*data)(void *arg, const uint8_t *data, size_t len);
	/* The request body: copy up to LEN bytes into BUF and return the count; return 0
	 * with *eof set to end the request; return JG_ERR_AGAIN when nothing is ready (then
	 * call jg_h2client_resume when something is).  NULL together with body_queue: the
	 * request has no body (END_STREAM on its HEADERS). */
	ssize_t (*body)(void *arg, uint8_t *buf, size_t len, int *eof);
	/* Optional, before body: the request body is what the evbuffer this returns holds,
	 * moved out of it into OUT without a copy; *EOF set once nothing more will be added.
	 * Empty and not at EOF: call jg_h2client_resume when it has bytes.  body_taken(ARG)
	 * follows each frame taken, so the caller can refill it (and resume, even from
	 * there).  NULL: frames come from body.  Once it returned a queue, it must go on. */
	struct evbuffer *(*body_queue)(void *arg, int *eof);
	void (*body_taken)(void *arg);
	/* The stream is closed; H2_ERROR is its HTTP/2 error code (0: a clean end).  The
	 * last callback of the stream. */
	void (*close)(void *arg, uint32_t h2_error);
	/* Optional: a header block ended (HEADERS JG_H2CLIENT_HEADERS or _TRAILERS), or
	 * DATA ended the response (HEADERS 0); END_STREAM says whether the peer's side of
	 * the stream is done. */
	void (*frame_end)(void *arg, int headers, int end_stream);
};

/* jg_h2client_submit's FLAGS. */
/* The request side outlives the response: no reset with NO_ERROR when the peer ends its
 * side first (an extended CONNECT tunnel, a relay that ends its side itself).  Without
 * it, what we still send once the response is complete has no reader, so the stream is
 * reset (RST_STREAM NO_ERROR) instead of staying half-closed. */
#define JG_H2CLIENT_KEEP_REQUEST 0x1

struct jg_h2client_config {
	const char *scheme;	 /* :scheme of every request ("https", "http") */
	const char *authority;	 /* :authority of every request */
	uint32_t max_streams;	 /* SETTINGS_MAX_CONCURRENT_STREAMS we announce */
	uint32_t stream_window;	 /* SETTINGS_INITIAL_WINDOW_SIZE we announce */
	uint32_t session_window; /* our connection receive window */
	uint32_t max_frame;	 /* SETTINGS_MAX_FRAME_SIZE we announce */
	size_t out_high;	 /* hold frames back while OUT holds this much */
	int manual_window;	 /* DATA credited back only by jg_h2client_consume */
	struct evbuffer *out;	 /* where frames go; the owner's, it drains it */
	const struct jg_h2client_cbs *cbs;
	void *arg;
};

/* A client session writing to CFG->out (the strings are copied), our SETTINGS and
 * window queued for the first jg_h2client_send.  NULL with *ERR set to a negative
 * nghttp2 error (nghttp2_strerror names it). */
struct jg_h2client *jg_h2client_new(const struct jg_h2client_config *cfg, int *err);
/* Free the session and its streams without calling their callbacks.  NULL is fine. */
void jg_h2client_free(struct jg_h2client *h);

/* Bytes from the peer, LEN of them; they are all taken.  0, or a negative nghttp2
 * error: the session is unusable.  The caller then calls jg_h2client_send. */
int jg_h2client_recv(struct jg_h2client *h, const uint8_t *data, size_t len);
/* Write what the session has into OUT, up to the high-water mark; the rest goes when
 * called again (once OUT drained).  Safe from inside the session's callbacks (it then
 * sends once more when the outer call ends).  0, or a negative nghttp2 error. */
int jg_h2client_send(struct jg_h2client *h);

/* Submit a request: :method METHOD, :path PATH, :protocol PROTOCOL when not NULL (an
 * extended CONNECT), then NHEADERS pairs of HEADERS; its events go to CBS with ARG.
 * FLAGS: JG_H2CLIENT_KEEP_REQUEST or 0.  Nothing is sent until jg_h2client_send (so the
 * caller may record the id before the body is asked for).  The stream id (> 0), or
 * JG_ERR_TOOBIG (too many headers), JG_ERR_NOMEM or JG_ERR_STATE (the session takes no
 * more streams). */
int32_t jg_h2client_submit(struct jg_h2client *h, const char *method, const char *protocol,
			   const char *path, const char *const headers[][2], size_t nheaders,
			   int flags, const struct jg_h2client_stream_cbs *cbs, void *arg);
/* The body of STREAM_ID has bytes (or its end) again; harmless when it was not waiting. */
void jg_h2client_resume(struct jg_h2client *h, int32_t stream_id);
/* LEN bytes of STREAM_ID's response were passed on (manual_window): the peer may send
 * that much more. */
void jg_h2client_consume(struct jg_h2client *h, int32_t stream_id, size_t len);
/* Reset STREAM_ID (CANCEL); its close callback follows from the send path. */
void jg_h2client_cancel(struct jg_h2client *h, int32_t stream_id);
/* A PING (ping_ack reports its answer).  0, or a negative nghttp2 error. */
int jg_h2client_ping(struct jg_h2client *h);
/* GOAWAY: no more streams from the peer; ours running go on.  TERMINATE: the session
 * ends once the GOAWAY is out (nghttp2_session_terminate_session). */
void jg_h2client_goaway(struct jg_h2client *h, int terminate);

/* 1 once the peer's first SETTINGS arrived. */
int jg_h2client_heard_settings(const struct jg_h2client *h);
/* 1 when the peer's SETTINGS enable extended CONNECT, 0 otherwise (or not yet heard). */
int jg_h2client_can_connect(const struct jg_h2client *h);
/* 1 while the session has frames to write. */
int jg_h2client_want_write(const struct jg_h2client *h);
/* 0 once the session neither reads nor writes any more (both sides said GOAWAY and
 * every stream ended, or a fatal error): the connection is over. */
int jg_h2client_alive(const struct jg_h2client *h);
/* Bytes written to OUT and read from the peer since jg_h2client_new. */
uint64_t jg_h2client_bytes_out(const struct jg_h2client *h);
uint64_t jg_h2client_bytes_in(const struct jg_h2client *h);

#endif
