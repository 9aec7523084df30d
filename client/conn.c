/* The connection to the gateway: non-blocking TCP connect (every address of
 * the host in turn), TLS over a bufferevent_openssl, then an nghttp2 client
 * session fed from the bufferevent.  Or, for "-g unix:PATH", the gateway's Unix
 * socket: a plain bufferevent and h2c with prior knowledge (RFC 9113 3.3), no
 * TLS and no certificates -- the gateway takes our identity from SO_PEERCRED.
 *
 * States: CONNECTING (TCP) -> HANDSHAKE (TLS) -> OPEN (HTTP/2) -> CLOSING
 * (GOAWAY sent, draining) -> DONE; a Unix socket goes from CONNECTING straight
 * to OPEN.  One timer bounds CONNECTING plus HANDSHAKE, and later the CLOSING
 * drain; once OPEN, a keepalive tick (tick_cb) bounds the gateway's silence. */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>

#include "client/client.h"
#include "h2/bulk.h"
#include "client/conn.h"
#include "client/mux.h"
#include "client/failover.h"
#include "client/tls.h"
#include "relay/err.h"
#include "relay/clock.h"
#include "relay/log.h"

/* Stop handing nghttp2's output to the bufferevent above this: the socket is slow. */
#define CONN_OUTPUT_HIGH (64 * 1024)
/* Our receive windows: responses are written out synchronously, so these only set speed. */
#define CONN_STREAM_WINDOW (1024 * 1024)
#define CONN_SESSION_WINDOW (8 * 1024 * 1024)
/* For a relay: 256 streams' windows (the gateway's default max_streams). */
#define CONN_RELAY_SESSION_WINDOW (256 * CONN_STREAM_WINDOW)
/* How long a goodbye may take before we stop waiting for the bytes to leave. */
#define CONN_CLOSE_TIMEOUT 2

/* Once open, the silence of the gateway is checked every second: a PING goes out after
 * a third of c->timeout without a byte from it, and the connection fails after all
 * of it (a stopped or wedged gateway, a dead path).  See jg_conn_probe() too. */
#define CONN_TICK_MS 1000

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_OPEN, CONN_CLOSING, CONN_DONE };

struct jg_conn {
	struct jg_client *c;
	const struct jg_conn_cbs *cbs;
	void *arg;
	enum conn_state state;
	SSL_CTX *ctx;		       /* NULL on a Unix socket (c->unix_path set) */
	struct addrinfo *ai_list, *ai; /* the address being tried */
	int fd;			       /* the socket while CONNECTING; then the bufferevent's */
	int last_errno;		       /* why the previous address failed */
	struct event *connect_ev, *timer, *start_ev, *shutdown_ev;
	struct bufferevent *bev;
	nghttp2_session *session;
	struct conn_stream *streams; /* open streams, freed with the connection at the latest */
	int in_recv;		     /* inside nghttp2_session_mem_recv: sending is deferred */
	int in_send, send_again;     /* inside nghttp2_session_send: conn_send() runs it again */
	int settings_seen;	     /* the gateway's first SETTINGS arrived */
	struct event *tick;	     /* keepalive: CONN_TICK_MS while open */
	uint64_t heard_ms;	     /* CLOCK_MONOTONIC of the last bytes from the gateway */
	uint64_t ping_ms;	     /* of our last PING, 0: none since the gateway was heard */
	uint64_t probe_ms;	     /* jg_conn_probe(): an answer due by then, 0: none */
	char probe_why[128];	     /* what the probe was for, in the failure message */
	int manual_window;	     /* jg_conn_set_manual_window() */
	int via_master;		     /* connected to the persistent client's socket */
	int handshake_timed_out;     /* (not broken off): no second try of the same address */
};

/* The per-stream glue, nghttp2's stream_user_data. */
struct conn_stream {
	const struct jg_conn_stream_cbs *cbs;
	void *arg;
	struct conn_stream *next;
};

static void stream_unlink(struct jg_conn *conn, struct conn_stream *st)
{
	struct conn_stream **pp;

	for (pp = &conn->streams; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	free(st);
}

static void conn_fail(struct jg_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int conn_failover(struct jg_conn *conn, const char *msg);

static void conn_fail(struct jg_conn *conn, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (conn->state == CONN_DONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Before it opened nothing was sent: the next gateway of -g a,b may take it. */
	if ((conn->state == CONN_CONNECTING || conn->state == CONN_HANDSHAKE) &&
	    conn_failover(conn, msg) == 0)
		return;
	if (conn->state == CONN_OPEN && conn->settings_seen)
		conn->c->gateway_lost = 1;
	else if (conn->state == CONN_OPEN)
		conn->c->lost_unheard = 1;
	conn->state = CONN_DONE;
	if (conn->timer != NULL)
		evtimer_del(conn->timer);
	if (conn->tick != NULL)
		evtimer_del(conn->tick);
	if (conn->bev != NULL)
		bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	conn->cbs->failed(conn->arg, msg);
}

static void conn_send(struct jg_conn *conn);

static void conn_ping(struct jg_conn *conn, uint64_t now)
{
	if (nghttp2_submit_ping(conn->session, NGHTTP2_FLAG_NONE, NULL) == 0) {
		conn->ping_ms = now;
		if (!conn->in_recv)
			conn_send(conn);
	}
}

/* Keepalive (CONN_TICK_MS): PING a silent gateway, give up on one silent too long. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_conn *conn = arg;
	uint64_t now = jg_clock_ms(), silent = now - conn->heard_ms;
	uint64_t limit = (uint64_t)conn->c->timeout * 1000;

	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	if (conn->probe_ms != 0 && now >= conn->probe_ms) {
		conn_fail(conn, "the gateway %s did not answer for %llu s (%s)", conn->c->gateway,
			  (unsigned long long)(silent / 1000), conn->probe_why);
		return;
	}
	if (limit == 0)
		return;
	if (silent >= limit) {
		conn_fail(conn,
			  "the gateway %s has not answered for %llu s (no reply to keepalive "
			  "PINGs): giving up (--timeout, JUMPGATE_TIMEOUT)",
			  conn->c->gateway, (unsigned long long)(silent / 1000));
		return;
	}
	if (silent >= limit / 3 && conn->ping_ms == 0)
		conn_ping(conn, now);
}

void jg_conn_probe(struct jg_conn *conn, int secs, const char *why)
{
	uint64_t now = jg_clock_ms();

	if ((conn->state != CONN_OPEN && conn->state != CONN_CLOSING) || conn->probe_ms != 0)
		return;
	conn->probe_ms = now + (uint64_t)secs * 1000;
	snprintf(conn->probe_why, sizeof(conn->probe_why), "%s", why);
	conn_ping(conn, now);
}

static void conn_closed(struct jg_conn *conn)
{
	if (conn->state == CONN_DONE)
		return;
	conn->state = CONN_DONE;
	evtimer_del(conn->timer);
	evtimer_del(conn->tick);
	if (conn->bev != NULL) {
		SSL *ssl = bufferevent_openssl_get_ssl(conn->bev);

		/* close_notify: tells the gateway this end was deliberate, not a crash. */
		if (ssl != NULL) {
			SSL_shutdown(ssl);
			ERR_clear_error();
		}
		bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
	}
	conn->cbs->closed(conn->arg);
}

/* Push whatever nghttp2 wants to send into the bufferevent.  Never from inside nghttp2,
 * which forbids re-entry: what happens during mem_recv (in_recv) is sent by read_cb after. */
static void conn_send(struct jg_conn *conn)
{
	int rv;

	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	/* A body callback that refills its queue (body_taken, body) may resume a stream and
	 * so ask to send from inside nghttp2_session_send: nghttp2 would offer the frame it
	 * is sending a second time (rsync through rsh via the persistent client failed so).
	 * Once more after it returns instead. */
	if (conn->in_send) {
		conn->send_again = 1;
		return;
	}
	conn->in_send = 1;
	do {
		conn->send_again = 0;
		rv = nghttp2_session_send(conn->session);
	} while (rv == 0 && conn->send_again);
	conn->in_send = 0;
	if (rv != 0)
		conn_fail(conn, "HTTP/2 error talking to the gateway %s: %s", conn->c->gateway,
			  nghttp2_strerror(rv));
}

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
		       void *user_data)
{
	struct jg_conn *conn = user_data;
	struct evbuffer *out = bufferevent_get_output(conn->bev);

	/* Backpressure: leave the rest in nghttp2 until write_cb says the socket drained. */
	if (evbuffer_get_length(out) >= CONN_OUTPUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (bufferevent_write(conn->bev, data, length) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)length;
}

/* A DATA frame of a body_queue stream: its header, then the bytes moved (chains, not
 * copies) from the queue into the TLS stream's input. */
static int send_data_cb(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
			size_t length, nghttp2_data_source *source, void *user_data)
{
	static const uint8_t zeros[256];
	struct jg_conn *conn = user_data;
	struct evbuffer *out = bufferevent_get_output(conn->bev), *q;
	struct conn_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	uint8_t pad = frame->data.padlen > 0 ? (uint8_t)(frame->data.padlen - 1) : 0;
	int eof = 0;

	(void)source;
	/* The stream closed while this frame waited for room (WOULDBLOCK below): nghttp2
	 * still asks for its bytes, which nobody reads any more.  Drop the frame, not the
	 * connection (an rsync through rsh whose far end had exited failed so). */
	if (st == NULL || st->cbs->body_queue == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(out) >= CONN_OUTPUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if ((q = st->cbs->body_queue(st->arg, &eof)) == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_add(out, framehd, 9) != 0 ||
	    (frame->data.padlen > 0 && evbuffer_add(out, &pad, 1) != 0) ||
	    evbuffer_remove_buffer(q, out, length) != (int)length ||
	    (pad > 0 && evbuffer_add(out, zeros, pad) != 0))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (st->cbs->body_taken != NULL)
		st->cbs->body_taken(st->arg);
	return 0;
}

static int header_cb(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user_data)
{
	struct conn_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (st == NULL)
		return 0;
	/* nghttp2 guarantees NUL-terminated name and value. */
	if (st->cbs->header(st->arg, (const char *)name, (const char *)value) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int data_chunk_cb(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			 const uint8_t *data, size_t len, void *user_data)
{
	struct conn_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st == NULL)
		return 0;
	if (st->cbs->data(st->arg, data, len) != 0)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
	return 0;
}

/* The gateway ended its response: whatever we were still sending (stdin, an
 * EOF frame not yet sent) has no reader any more, so end our side too.
 * Otherwise the stream stays half-closed and we would wait for nothing. */
static int frame_recv_cb(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct jg_conn *conn = user_data;
	int32_t id = frame->hd.stream_id;

	/* Extended CONNECT may only be sent once the gateway's SETTINGS allowed it. */
	if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK) &&
	    !conn->settings_seen) {
		conn->settings_seen = 1;
		/* Only now has the gateway accepted us (TLS 1.3 finishes our side of the
		 * handshake before it judged our certificate): failed tries are forgotten. */
		conn->c->heard = 1;
		jg_failover_opened(conn->c);
		/* Requests go out only now (conn_open): one lost before this frame came was
		 * never sent, whatever a proxy between us dropped (conn.h). */
		conn->cbs->ready(conn->arg);
		if (conn->cbs->settings != NULL)
			conn->cbs->settings(conn->arg);
		return 0;
	}

	/* The persistent client passes on why the gateway is gone: say it as if we had seen it
	 * ourselves (client/master.c sends the message as GOAWAY debug data). */
	if (frame->hd.type == NGHTTP2_GOAWAY && conn->cbs->goaway != NULL)
		conn->cbs->goaway(conn->arg);
	if (frame->hd.type == NGHTTP2_GOAWAY && conn->via_master &&
	    frame->goaway.error_code != NGHTTP2_NO_ERROR) {
		conn_fail(conn, "%.*s", (int)frame->goaway.opaque_data_len,
			  frame->goaway.opaque_data_len > 0
			      ? (const char *)frame->goaway.opaque_data
			      : "the persistent client failed");
		return 0;
	}
	if (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) {
		struct conn_stream *st = nghttp2_session_get_stream_user_data(session, id);
		int es = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

		if (st != NULL && st->cbs->frame_end != NULL &&
		    (frame->hd.type == NGHTTP2_HEADERS || es))
			st->cbs->frame_end(st->arg, frame->hd.type == NGHTTP2_HEADERS, es);
	}
	/* (A relay ends its side itself, without a reset: see client/master.c.) */
	if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !conn->manual_window &&
	    nghttp2_session_get_stream_user_data(session, id) != NULL &&
	    nghttp2_session_get_stream_local_close(session, id) == 0)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
	return 0;
}

static int stream_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *user_data)
{
	struct conn_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);

	if (st == NULL)
		return 0;
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	st->cbs->close(st->arg, error_code);
	stream_unlink(user_data, st);
	return 0;
}

static ssize_t body_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
		       uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct conn_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
	struct evbuffer *q;
	int eof = 0;
	ssize_t n;

	if (st == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (st->cbs->body_queue != NULL && (q = st->cbs->body_queue(st->arg, &eof)) != NULL) {
		size_t have = evbuffer_get_length(q);

		n = (ssize_t)(have < length ? have : length);
		if (n == 0 && !eof)
			return NGHTTP2_ERR_DEFERRED;
		if (eof && (size_t)n == have)
			*data_flags |= NGHTTP2_DATA_FLAG_EOF;
		if (n > 0)
			*data_flags |= NGHTTP2_DATA_FLAG_NO_COPY; /* send_data_cb moves them */
		return n;
	}
	n = st->cbs->body(st->arg, buf, length, &eof);
	if (n == JG_ERR_AGAIN)
		return NGHTTP2_ERR_DEFERRED;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (eof)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct jg_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n;

	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING) {
		evbuffer_drain(in, len);
		return;
	}
	if (len > 0) {
		conn->heard_ms = jg_clock_ms();
		conn->ping_ms = 0;
		conn->probe_ms = 0;
	}
	conn->in_recv = 1;
	n = nghttp2_session_mem_recv(conn->session, evbuffer_pullup(in, -1), len);
	conn->in_recv = 0;
	if (n < 0) {
		conn_fail(conn, "HTTP/2 error from the gateway %s: %s", conn->c->gateway,
			  nghttp2_strerror((int)n));
		return;
	}
	evbuffer_drain(in, (size_t)n);
	conn_send(conn);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct jg_conn *conn = arg;

	if (conn->state == CONN_CLOSING && !nghttp2_session_want_write(conn->session) &&
	    jg_h2bulk_unsent(bev) == 0) {
		conn_closed(conn);
		return;
	}
	conn_send(conn);
}

/* The handshake is done (or the Unix socket connected): insist on h2 over TLS, then start
 * the HTTP/2 session. */
static void conn_open(struct jg_conn *conn)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, CONN_STREAM_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, JG_H2_MAX_FRAME},
	};
	SSL *ssl = bufferevent_openssl_get_ssl(conn->bev);
	const unsigned char *proto = NULL;
	unsigned int plen = 0;
	int rv;

	if (ssl != NULL)
		SSL_get0_alpn_selected(ssl, &proto, &plen);
	if (ssl != NULL && (plen != 2 || memcmp(proto, "h2", 2) != 0)) {
		conn_fail(conn, "the gateway %s does not speak HTTP/2 (no ALPN h2)",
			  conn->c->gateway);
		return;
	}
	if ((rv = nghttp2_session_callbacks_new(&cbs)) != 0)
		goto out;
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_send_data_callback(cbs, send_data_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_chunk_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, stream_close_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
	jg_h2bulk_tune_callbacks(cbs);
	if ((rv = nghttp2_option_new(&opt)) != 0)
		goto out;
	nghttp2_option_set_no_auto_window_update(opt, conn->manual_window);
	if ((rv = nghttp2_session_client_new2(&conn->session, cbs, conn, opt)) != 0)
		goto out;
	if ((rv = nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, iv,
					  sizeof(iv) / sizeof(iv[0]))) != 0)
		goto out;
	/* A relay's streams each hold at most their window; the session's must not make one
	 * stalled reader stall the others (as the gateway sizes its own). */
	if ((rv = nghttp2_session_set_local_window_size(
		 conn->session, NGHTTP2_FLAG_NONE, 0,
		 conn->manual_window ? CONN_RELAY_SESSION_WINDOW : CONN_SESSION_WINDOW)) != 0)
		goto out;
	evtimer_del(conn->timer);
	conn->state = CONN_OPEN;
	conn->heard_ms = jg_clock_ms();
	{
		struct timeval tv = {CONN_TICK_MS / 1000, (CONN_TICK_MS % 1000) * 1000};

		evtimer_add(conn->tick, &tv);
	}
	jg_log_info("connected to %s (%s)", conn->c->gateway,
		    ssl != NULL	       ? SSL_get_version(ssl)
		    : conn->via_master ? "through the persistent client"
				       : "h2c, no TLS");
	/* cbs->ready waits for the gateway's SETTINGS (frame_recv_cb). */
	conn_send(conn);
out:
	nghttp2_session_callbacks_del(cbs);
	nghttp2_option_del(opt);
	if (rv != 0)
		conn_fail(conn, "cannot start HTTP/2: %s", nghttp2_strerror(rv));
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct jg_conn *conn = arg;
	unsigned long e, best = 0;
	char msg[1024];
	int handshake = conn->state == CONN_HANDSHAKE, sys_err = errno;

	if (what & BEV_EVENT_CONNECTED) {
		conn_open(conn);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (conn->state == CONN_CLOSING) {
		conn_closed(conn); /* the gateway hung up after our GOAWAY: that is the goodbye */
		return;
	}
	/* Prefer an alert from the gateway: it says why it refused us. */
	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		int r = ERR_GET_REASON(e);

		if (ERR_SYSTEM_ERROR(e)) {
			sys_err = r;
			continue;
		}
		/* libevent also queues bare SSL_get_error() codes (library 0): not reasons. */
		if (ERR_GET_LIB(e) == 0)
			continue;

		if (best == 0 || (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256))
			best = e;
	}
	/* TLS 1.3 ends the handshake before the gateway has judged our certificate: its alert
	 * may be sitting unread behind a reset that our first write ran into.  Read it. */
	if (!handshake && best == 0 && (what & BEV_EVENT_WRITING) &&
	    bufferevent_openssl_get_ssl(bev) != NULL) {
		jg_h2bulk_read_pending(bev);
		best = jg_tls_pending_alert(bufferevent_openssl_get_ssl(bev));
	}
	jg_log_debug("%s %s: events 0x%x, errno %d, OpenSSL error 0x%lx",
		     handshake ? "handshake with" : "connection to", conn->c->gateway,
		     (unsigned)what, sys_err, best);
	if (best != 0 || (what & BEV_EVENT_EOF))
		sys_err = 0;
	jg_tls_explain(conn->c, bufferevent_openssl_get_ssl(bev), best, sys_err,
		       (what & BEV_EVENT_EOF) != 0, handshake, msg, sizeof(msg));
	ERR_clear_error();
	conn_fail(conn, "%s", msg);
}

/* The TCP connection is up: wrap it in TLS and start the handshake. */
static void conn_start_tls(struct jg_conn *conn)
{
	int one = 1;
	SSL *ssl;

	setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A gateway host that vanishes is noticed eventually even when we only read. */
	setsockopt(conn->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if ((ssl = jg_tls_client_ssl(conn->c, conn->ctx)) == NULL) {
		conn_fail(conn, "cannot set up TLS for %s", conn->c->gateway);
		return;
	}
	conn->bev = jg_h2bulk_tls_new(conn->c->base, conn->fd, ssl, BUFFEREVENT_SSL_CONNECTING);
	if (conn->bev == NULL) {
		SSL_free(ssl);
		conn_fail(conn, "cannot set up TLS for %s: out of memory", conn->c->gateway);
		return;
	}
	conn->fd = -1; /* the bufferevent owns it now */
	conn->state = CONN_HANDSHAKE;
	/* HTTP/2 frames its own end: a TCP close without close_notify is an EOF to judge. */
	bufferevent_openssl_set_allow_dirty_shutdown(conn->bev, 1);
	jg_h2bulk_tune_bev(conn->bev);
	bufferevent_setcb(conn->bev, read_cb, write_cb, event_cb, conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
}

/* The Unix socket is connected: HTTP/2 starts at once, no handshake (prior knowledge). */
static void conn_start_plain(struct jg_conn *conn)
{
	/* To the persistent client, callbacks run at once: the master answers so fast that a
	 * deferred one was often still queued when we left, and its reference on the
	 * bufferevent kept it from ever being freed (an exit with a leak under ASan). */
	conn->bev = jg_h2bulk_plain_new(conn->c->base, conn->fd,
					conn->via_master ? 0 : BEV_OPT_DEFER_CALLBACKS);
	if (conn->bev == NULL) {
		conn_fail(conn, "cannot set up the connection to %s: out of memory",
			  conn->c->gateway);
		return;
	}
	conn->fd = -1; /* the bufferevent owns it now */
	jg_h2bulk_tune_bev(conn->bev);
	bufferevent_setcb(conn->bev, read_cb, write_cb, event_cb, conn);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	conn_open(conn);
}

/* A hint for a failed connect to the Unix socket: what a person checks next. */
static const char *unix_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is jumpgated running, with unix_socket set to this path?)";
	case EACCES:
		return " (the socket is mode 0660: is this user in the socket's group?)";
	case EAGAIN:
		return " (the gateway's listen queue is full)";
	default:
		return "";
	}
}

/* connect(2) to c->unix_path; a local connect completes at once or fails (EAGAIN: the
 * listen queue is full, which we report rather than wait on). */
static void connect_unix(struct jg_conn *conn)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int err;

	memcpy(sun.sun_path, conn->c->unix_path, strlen(conn->c->unix_path));
	conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (conn->fd >= 0 && connect(conn->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		conn_start_plain(conn);
		return;
	}
	err = errno;
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
	conn_fail(conn, "cannot connect to gateway %s: %s%s", conn->c->gateway, strerror(err),
		  unix_hint(err));
}

static void connect_next(struct jg_conn *conn);

static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_conn *conn = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	event_free(conn->connect_ev);
	conn->connect_ev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == 0) {
		conn_start_tls(conn);
		return;
	}
	conn->last_errno = err;
	jg_log_debug("connect to %s: %s", conn->c->gateway, strerror(err));
	close(conn->fd);
	conn->fd = -1;
	conn->ai = conn->ai->ai_next;
	connect_next(conn);
}

/* Try the current address, moving on through the list; fail when none is left. */
static void connect_next(struct jg_conn *conn)
{
	for (; conn->ai != NULL; conn->ai = conn->ai->ai_next) {
		struct addrinfo *ai = conn->ai;

		conn->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				  ai->ai_protocol);
		if (conn->fd < 0) {
			conn->last_errno = errno;
			continue;
		}
		if (connect(conn->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			conn_start_tls(conn);
			return;
		}
		if (errno == EINPROGRESS) {
			conn->connect_ev =
			    event_new(conn->c->base, conn->fd, EV_WRITE, connect_cb, conn);
			if (conn->connect_ev != NULL && event_add(conn->connect_ev, NULL) == 0)
				return;
			errno = ENOMEM;
		}
		conn->last_errno = errno;
		close(conn->fd);
		conn->fd = -1;
	}
	conn_fail(conn, "cannot connect to gateway %s: %s%s", conn->c->gateway,
		  strerror(conn->last_errno),
		  conn->last_errno == ECONNREFUSED ? " (is jumpgated running?)" : "");
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_conn *conn = arg;

	switch (conn->state) {
	case CONN_CONNECTING:
		conn_fail(conn, "cannot connect to gateway %s: timed out after %d s",
			  conn->c->gateway, conn->c->connect_timeout);
		break;
	case CONN_HANDSHAKE:
		/* A gateway that stopped answering: the same address is not tried again. */
		conn->handshake_timed_out = 1;
		conn_fail(conn,
			  "TLS handshake with %s timed out after %d s (is it a jumpgate gateway?)",
			  conn->c->gateway, conn->c->connect_timeout);
		break;
	case CONN_CLOSING:
		conn_closed(conn);
		break;
	case CONN_OPEN:
	case CONN_DONE:
		break;
	}
}

static void start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_conn *conn = arg;
	char msg[1024];
	int r;

	if (conn->c->unix_path[0] != '\0') {
		connect_unix(conn);
		return;
	}
	if (conn->via_master) {
		conn_start_plain(conn);
		return;
	}
	/* The persistent client (client/mux.h) holds the TLS connection for us, if it may. */
	r = jg_mux_attach(conn->c, 1, &conn->fd, msg, sizeof(msg));
	if (r > 0) {
		conn->via_master = 1;
		conn_start_plain(conn);
	} else if (r < 0) {
		conn_fail(conn, "%s", msg);
	} else {
		connect_next(conn);
	}
}

/* GOAWAY, then wait (bounded) for the output to drain; see write_cb. */
static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jg_conn *conn = arg;
	struct timeval tv = {CONN_CLOSE_TIMEOUT, 0};

	switch (conn->state) {
	case CONN_CONNECTING:
	case CONN_HANDSHAKE:
		conn->state = CONN_DONE;
		evtimer_del(conn->timer);
		conn->cbs->closed(conn->arg);
		break;
	case CONN_OPEN:
		conn->state = CONN_CLOSING;
		nghttp2_session_terminate_session(conn->session, NGHTTP2_NO_ERROR);
		evtimer_add(conn->timer, &tv);
		conn_send(conn);
		if (conn->state == CONN_CLOSING)
			write_cb(conn->bev, conn);
		break;
	case CONN_CLOSING:
	case CONN_DONE:
		break;
	}
}

/* A request; PROTOCOL non-NULL adds :protocol (an extended CONNECT). */
static int32_t conn_submit(struct jg_conn *conn, const char *method, const char *protocol,
			   const char *path, const char *const headers[][2], size_t nheaders,
			   const struct jg_conn_stream_cbs *cbs, void *arg)
{
	nghttp2_nv nva[16];
	nghttp2_data_provider prd = {.read_callback = body_cb};
	int plain = conn->ctx == NULL;
	const char *pseudo[5][2] = {
	    {":method", method},
	    {":scheme", plain ? "http" : "https"},
	    /* A path is no authority (nghttp2 refuses '/' there): name the host, as curl does. */
	    {":authority", plain ? "localhost" : conn->c->gateway},
	    {":path", path},
	    {":protocol", protocol},
	};
	size_t np = protocol != NULL ? 5 : 4;
	struct conn_stream *st;
	size_t n = 0, i;
	int32_t id;

	if (conn->state != CONN_OPEN)
		return JG_ERR_STATE;
	if (nheaders > sizeof(nva) / sizeof(nva[0]) - np)
		return JG_ERR_TOOBIG;
	for (i = 0; i < np + nheaders; i++, n++) {
		const char *name = i < np ? pseudo[i][0] : headers[i - np][0];
		const char *value = i < np ? pseudo[i][1] : headers[i - np][1];

		nva[n].name = (uint8_t *)(uintptr_t)name;
		nva[n].namelen = strlen(name);
		nva[n].value = (uint8_t *)(uintptr_t)value;
		nva[n].valuelen = strlen(value);
		nva[n].flags = NGHTTP2_NV_FLAG_NONE;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return JG_ERR_NOMEM;
	st->cbs = cbs;
	st->arg = arg;
	id = nghttp2_submit_request(conn->session, NULL, nva, n, &prd, st);
	if (id < 0) {
		free(st);
		return JG_ERR_STATE;
	}
	st->next = conn->streams;
	conn->streams = st;
	jg_log_debug("%s %s on stream %d", method, path, id);
	return id;
}

int32_t jg_conn_request(struct jg_conn *conn, const char *method, const char *path,
			const char *const headers[][2], size_t nheaders,
			const struct jg_conn_stream_cbs *cbs, void *arg)
{
	return conn_submit(conn, method, NULL, path, headers, nheaders, cbs, arg);
}

int32_t jg_conn_connect(struct jg_conn *conn, const char *protocol, const char *path,
			const char *const headers[][2], size_t nheaders,
			const struct jg_conn_stream_cbs *cbs, void *arg)
{
	if (jg_conn_can_connect(conn) != 1)
		return JG_ERR_STATE;
	return conn_submit(conn, "CONNECT", protocol, path, headers, nheaders, cbs, arg);
}

int jg_conn_heard_settings(const struct jg_conn *conn)
{
	return conn->settings_seen;
}

int jg_conn_can_connect(const struct jg_conn *conn)
{
	if (conn->session == NULL || !conn->settings_seen)
		return -1;
	return nghttp2_session_get_remote_settings(conn->session,
						   NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1;
}

void jg_conn_resume(struct jg_conn *conn, int32_t stream_id)
{
	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	/* Fails harmlessly when the body was not deferred. */
	nghttp2_session_resume_data(conn->session, stream_id);
	if (!conn->in_recv)
		conn_send(conn);
}

void jg_conn_cancel(struct jg_conn *conn, int32_t stream_id)
{
	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	nghttp2_submit_rst_stream(conn->session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
	if (!conn->in_recv)
		conn_send(conn);
}

void jg_conn_set_manual_window(struct jg_conn *conn)
{
	conn->manual_window = 1;
}

void jg_conn_consume(struct jg_conn *conn, int32_t stream_id, size_t len)
{
	if ((conn->state != CONN_OPEN && conn->state != CONN_CLOSING) || len == 0)
		return;
	nghttp2_session_consume(conn->session, stream_id, len);
	if (!conn->in_recv)
		conn_send(conn);
}

int jg_conn_via_master(const struct jg_conn *conn)
{
	return conn->via_master;
}

void jg_conn_shutdown(struct jg_conn *conn)
{
	/* Deferred to the loop: the caller may be inside an nghttp2 callback. */
	event_active(conn->shutdown_ev, 0, 0);
}

/* Resolve c->host into conn->ai_list (TCP only).  0, or -1 with MSG filled. */
static int conn_resolve(struct jg_conn *conn, char *msg, size_t len)
{
	struct addrinfo hints = {0};
	int rv;

	if (conn->ai_list != NULL)
		freeaddrinfo(conn->ai_list);
	conn->ai_list = conn->ai = NULL;
	if (conn->c->unix_path[0] != '\0')
		return 0;
	/* getaddrinfo blocks, but only while nothing else is happening on this connection. */
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rv = getaddrinfo(conn->c->host, conn->c->port, &hints, &conn->ai_list)) != 0) {
		conn->ai_list = NULL;
		snprintf(msg, len, "cannot resolve gateway host %s: %s", conn->c->host,
			 gai_strerror(rv));
		return -1;
	}
	conn->ai = conn->ai_list;
	return 0;
}

/* The connection could not be made (MSG): start again with the next gateway of the list,
 * from the loop.  0, or -1 when there is none left.  A single address is tried again
 * (twice more, after 200 then 400 ms) only when its TLS handshake broke off (not when it
 * timed out: a stopped gateway would hold us three times as long): behind
 * HAProxy that is a gateway that died while HAProxy joined us to it.  A gateway killed
 * with -9 takes a moment to close its listening socket (HAProxy's connection lands in
 * its backlog meanwhile) and HAProxy's check a second or two to mark it down: the pause
 * lets the next connection reach a live one. */
static int conn_failover(struct jg_conn *conn, const char *msg)
{
	struct timeval tv = {conn->c->connect_timeout, 0};
	int min_tries = conn->state == CONN_HANDSHAKE && !conn->handshake_timed_out ? 3 : 1;
	struct timeval pause = {0, 0};
	char why[1024];

	snprintf(why, sizeof(why), "%s", msg);
	for (;;) {
		if (jg_failover_next(conn->c, why, min_tries) != 0)
			return -1;
		if (conn_resolve(conn, why, sizeof(why)) == 0)
			break;
	}
	if (conn->bev != NULL)
		jg_h2bulk_free(conn->bev); /* safe from its own callback: libevent defers it */
	conn->bev = NULL;
	if (conn->connect_ev != NULL)
		event_free(conn->connect_ev);
	conn->connect_ev = NULL;
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
	conn->last_errno = ECONNREFUSED;
	conn->state = CONN_CONNECTING;
	conn->handshake_timed_out = 0;
	/* Past the end of the list: the same gateways again, after a pause. */
	if (conn->c->gateways_tried > conn->c->ngateways)
		pause.tv_usec = 200000 * (conn->c->gateways_tried - conn->c->ngateways);
	tv.tv_sec += pause.tv_usec / 1000000 + 1;
	evtimer_add(conn->timer, &tv);
	event_add(conn->start_ev, &pause);
	return 0;
}

struct jg_conn *jg_conn_new(struct jg_client *c, const struct jg_conn_cbs *cbs, void *arg)
{
	struct jg_conn *conn;
	struct timeval tv = {c->connect_timeout, 0};
	char msg[1024];

	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		jg_client_fail("out of memory");
		return NULL;
	}
	conn->c = c;
	conn->cbs = cbs;
	conn->arg = arg;
	conn->fd = -1;
	conn->last_errno = ECONNREFUSED;
	/* A running persistent client needs no TLS context of ours (loading one costs more
	 * than the rest of a warm invocation); without one, the context is built first, so a
	 * bad certificate file is reported here as always, before any master is started. */
	if (c->unix_path[0] == '\0' && jg_mux_attach(c, 0, &conn->fd, NULL, 0) > 0)
		conn->via_master = 1;
	else if (c->unix_path[0] == '\0' && (conn->ctx = jg_tls_client_ctx(c)) == NULL)
		goto fail;
	conn->timer = evtimer_new(c->base, timer_cb, conn);
	conn->start_ev = event_new(c->base, -1, 0, start_cb, conn);
	conn->shutdown_ev = event_new(c->base, -1, 0, shutdown_cb, conn);
	conn->tick = event_new(c->base, -1, EV_PERSIST, tick_cb, conn);
	if (conn->timer == NULL || conn->start_ev == NULL || conn->shutdown_ev == NULL ||
	    conn->tick == NULL) {
		jg_client_fail("out of memory");
		goto fail;
	}
	/* A name that does not resolve is tried no further than the others of -g a,b (a
	 * persistent master resolved it already). */
	while (!conn->via_master && conn_resolve(conn, msg, sizeof(msg)) != 0) {
		if (c->ngateways < 2 || jg_failover_next(c, msg, 1) != 0) {
			jg_client_fail("%s", msg);
			goto fail;
		}
	}
	evtimer_add(conn->timer, &tv);
	jg_log_debug("connecting to %s", c->gateway);
	/* Report the outcome from the loop, never from inside the constructor. */
	event_active(conn->start_ev, 0, 0);
	return conn;
fail:
	jg_conn_free(conn);
	return NULL;
}

void jg_conn_free(struct jg_conn *conn)
{
	if (conn == NULL)
		return;
	if (conn->session != NULL)
		nghttp2_session_del(conn->session); /* calls no stream callbacks */
	while (conn->streams != NULL)
		stream_unlink(conn, conn->streams);
	if (conn->bev != NULL)
		jg_h2bulk_free(conn->bev);
	if (conn->fd >= 0)
		close(conn->fd);
	if (conn->connect_ev != NULL)
		event_free(conn->connect_ev);
	if (conn->timer != NULL)
		event_free(conn->timer);
	if (conn->start_ev != NULL)
		event_free(conn->start_ev);
	if (conn->shutdown_ev != NULL)
		event_free(conn->shutdown_ev);
	if (conn->tick != NULL)
		event_free(conn->tick);
	if (conn->ai_list != NULL)
		freeaddrinfo(conn->ai_list);
	SSL_CTX_free(conn->ctx);
	free(conn);
}
