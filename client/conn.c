/* The connection to the gateway: non-blocking TCP connect (every address of
 * the host in turn), TLS over a bufferevent_openssl, then an nghttp2 client
 * session fed from the bufferevent.  Or, for "-g unix:PATH", the gateway's Unix
 * socket: a plain bufferevent and h2c with prior knowledge (RFC 9113 3.3), no
 * TLS and no certificates -- the gateway takes our identity from SO_PEERCRED.
 *
 * States: CONNECTING (TCP) -> HANDSHAKE (TLS) -> OPEN (HTTP/2) -> CLOSING
 * (GOAWAY sent, draining) -> DONE; a Unix socket goes from CONNECTING straight
 * to OPEN.  One timer bounds CONNECTING plus HANDSHAKE, and later the CLOSING
 * drain; once OPEN, a keepalive tick (tick_cb) bounds the gateway's silence.
 * The HTTP/2 session itself, its streams and their bodies are h2/client.c's, the words
 * for a failure client/tls.c's; what is ours: failover, the wait for the gateway's
 * SETTINGS, keepalive. */
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
#include "h2/client.h"
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
	struct jg_h2client *h2;	 /* the HTTP/2 session, once OPEN */
	struct event *tick;	 /* keepalive: CONN_TICK_MS while open */
	uint64_t heard_ms;	 /* CLOCK_MONOTONIC of the last bytes from the gateway */
	uint64_t ping_ms;	 /* of our last PING, 0: none since the gateway was heard */
	uint64_t probe_ms;	 /* jg_conn_probe(): an answer due by then, 0: none */
	char probe_why[128];	 /* what the probe was for, in the failure message */
	int manual_window;	 /* jg_conn_set_manual_window() */
	int via_master;		 /* connected to the persistent client's socket */
	int handshake_timed_out; /* (not broken off): no second try of the same address */
};

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
	if (conn->state == CONN_OPEN && jg_conn_heard_settings(conn))
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
	/* (Sent through h2_want_send.) */
	if (jg_h2client_ping(conn->h2) == 0)
		conn->ping_ms = now;
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

/* Push whatever the session wants to send into the bufferevent (h2/client.c never
 * re-enters nghttp2, and defers what is asked during jg_h2client_recv to read_cb). */
static void conn_send(struct jg_conn *conn)
{
	int rv;

	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	if ((rv = jg_h2client_send(conn->h2)) != 0)
		conn_fail(conn, "HTTP/2 error talking to the gateway %s: %s", conn->c->gateway,
			  nghttp2_strerror(rv));
}

static void h2_want_send(void *arg)
{
	conn_send(arg);
}

static void h2_settings(void *arg)
{
	struct jg_conn *conn = arg;

	/* Only now has the gateway accepted us (TLS 1.3 finishes our side of the
	 * handshake before it judged our certificate): failed tries are forgotten. */
	conn->c->heard = 1;
	jg_failover_opened(conn->c);
	/* Requests go out only now (conn_open): one lost before this frame came was
	 * never sent, whatever a proxy between us dropped (conn.h).  Extended CONNECT
	 * may only be sent once these SETTINGS allowed it. */
	conn->cbs->ready(conn->arg);
	if (conn->cbs->settings != NULL)
		conn->cbs->settings(conn->arg);
}

static void h2_goaway(void *arg, uint32_t error_code, const uint8_t *data, size_t len)
{
	struct jg_conn *conn = arg;

	if (conn->cbs->goaway != NULL)
		conn->cbs->goaway(conn->arg);
	/* The persistent client passes on why the gateway is gone: say it as if we had seen
	 * it ourselves (client/master.c sends the message as GOAWAY debug data). */
	if (conn->via_master && error_code != NGHTTP2_NO_ERROR)
		conn_fail(conn, "%.*s", (int)len,
			  len > 0 ? (const char *)data : "the persistent client failed");
}

static const struct jg_h2client_cbs conn_h2_cbs = {
    .want_send = h2_want_send,
    .settings = h2_settings,
    .goaway = h2_goaway,
};

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct jg_conn *conn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	int rv;

	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING) {
		evbuffer_drain(in, len);
		return;
	}
	if (len > 0) {
		conn->heard_ms = jg_clock_ms();
		conn->ping_ms = 0;
		conn->probe_ms = 0;
	}
	rv = jg_h2client_recv(conn->h2, evbuffer_pullup(in, -1), len);
	if (rv != 0) {
		conn_fail(conn, "HTTP/2 error from the gateway %s: %s", conn->c->gateway,
			  nghttp2_strerror(rv));
		return;
	}
	evbuffer_drain(in, len);
	conn_send(conn);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct jg_conn *conn = arg;

	if (conn->state == CONN_CLOSING && !jg_h2client_want_write(conn->h2) &&
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
	struct jg_h2client_config cfg = {
	    .scheme = conn->ctx == NULL ? "http" : "https",
	    /* A path is no authority (nghttp2 refuses '/' there): name the host, as curl does. */
	    .authority = conn->ctx == NULL ? "localhost" : conn->c->gateway,
	    .max_streams = 100,
	    .stream_window = CONN_STREAM_WINDOW,
	    /* A relay's streams each hold at most their window; the session's must not make
	     * one stalled reader stall the others (as the gateway sizes its own). */
	    .session_window = conn->manual_window ? CONN_RELAY_SESSION_WINDOW : CONN_SESSION_WINDOW,
	    .max_frame = JG_H2_MAX_FRAME,
	    .out_high = CONN_OUTPUT_HIGH,
	    .manual_window = conn->manual_window,
	    .out = bufferevent_get_output(conn->bev),
	    .cbs = &conn_h2_cbs,
	    .arg = conn,
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
	if ((conn->h2 = jg_h2client_new(&cfg, &rv)) == NULL) {
		conn_fail(conn, "cannot start HTTP/2: %s", nghttp2_strerror(rv));
		return;
	}
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
	/* cbs->ready waits for the gateway's SETTINGS (h2_settings). */
	conn_send(conn);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct jg_conn *conn = arg;
	unsigned long best;
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
	best = jg_tls_event_error(bev, what, handshake, &sys_err);
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
		jg_h2client_goaway(conn->h2, 1);
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

/* A request; PROTOCOL non-NULL adds :protocol (an extended CONNECT).  A relay ends its
 * side itself, without a reset (client/master.c): its streams keep their request side. */
static int32_t conn_submit(struct jg_conn *conn, const char *method, const char *protocol,
			   const char *path, const char *const headers[][2], size_t nheaders,
			   const struct jg_h2client_stream_cbs *cbs, void *arg)
{
	if (conn->state != CONN_OPEN)
		return JG_ERR_STATE;
	return jg_h2client_submit(conn->h2, method, protocol, path, headers, nheaders,
				  conn->manual_window ? JG_H2CLIENT_KEEP_REQUEST : 0, cbs, arg);
}

int32_t jg_conn_request(struct jg_conn *conn, const char *method, const char *path,
			const char *const headers[][2], size_t nheaders,
			const struct jg_h2client_stream_cbs *cbs, void *arg)
{
	return conn_submit(conn, method, NULL, path, headers, nheaders, cbs, arg);
}

int32_t jg_conn_connect(struct jg_conn *conn, const char *protocol, const char *path,
			const char *const headers[][2], size_t nheaders,
			const struct jg_h2client_stream_cbs *cbs, void *arg)
{
	if (jg_conn_can_connect(conn) != 1)
		return JG_ERR_STATE;
	return conn_submit(conn, "CONNECT", protocol, path, headers, nheaders, cbs, arg);
}

int jg_conn_heard_settings(const struct jg_conn *conn)
{
	return conn->h2 != NULL && jg_h2client_heard_settings(conn->h2);
}

int jg_conn_can_connect(const struct jg_conn *conn)
{
	if (!jg_conn_heard_settings(conn))
		return -1;
	return jg_h2client_can_connect(conn->h2);
}

void jg_conn_resume(struct jg_conn *conn, int32_t stream_id)
{
	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	jg_h2client_resume(conn->h2, stream_id);
}

void jg_conn_cancel(struct jg_conn *conn, int32_t stream_id)
{
	if (conn->state != CONN_OPEN && conn->state != CONN_CLOSING)
		return;
	jg_h2client_cancel(conn->h2, stream_id);
}

void jg_conn_set_manual_window(struct jg_conn *conn)
{
	conn->manual_window = 1;
}

void jg_conn_consume(struct jg_conn *conn, int32_t stream_id, size_t len)
{
	if ((conn->state != CONN_OPEN && conn->state != CONN_CLOSING) || len == 0)
		return;
	jg_h2client_consume(conn->h2, stream_id, len);
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
	jg_h2client_free(conn->h2); /* calls no stream callbacks */
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
