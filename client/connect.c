/* `jumpgate connect HOST PORT`: a raw byte tunnel on stdin/stdout, for ssh's
 * ProxyCommand (docs/api.md, "Tunnels").  By default the gateway itself dials
 * HOST:PORT, as `ssh -W` does (from=gateway); --via-target or -H asks for the
 * tunnel from the target's own agent instead (from=target).
 *
 * One extended CONNECT stream (RFC 8441, :protocol jumpgate-tunnel).  It may
 * only be sent once the gateway's SETTINGS said ENABLE_CONNECT_PROTOCOL, so
 * the request goes out from the conn's `settings` callback, not `ready`.
 *
 * Up: stdin is read into `inq` from the request on (at most CONNECT_AHEAD ahead of what
 * nghttp2 took, which itself waits for the gateway's window), and END_STREAM
 * follows stdin's EOF: a half-close, the far end sees EOF while its answer
 * keeps flowing.  Down: the response body is written to stdout with blocking
 * writes, which is our backpressure: a slow stdout stops our reads of the
 * socket and so, through HTTP/2 and the channel windows, the far end.
 *
 * End: when the response ends (the far end closed) we exit 0 at once, as ssh
 * expects of a ProxyCommand; conn.c resets our half if stdin was not done.
 * States: CONNECTING -> WAITING (request sent) -> OPEN (200) or REFUSED (any
 * other status: the body is the JSON error) -> FINISHING -> loop exit. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "client/client.h"
#include "client/conn.h"
#include "client/opconn.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/spawn.h"

#define CONNECT_PROTOCOL "jumpgate-tunnel"
/* Read at most this much of stdin ahead of what nghttp2 has taken. */
#define CONNECT_AHEAD (256 * 1024)

enum connect_state { CS_CONNECTING, CS_WAITING, CS_OPEN, CS_REFUSED, CS_FINISHING };

struct jg_connect {
	struct jg_client *c;
	const char *target;
	char v6target[64]; /* TARGET as "[ADDR]" when it was a bare IPv6 address */
	char path[4096];
	enum connect_state state;
	int result;
	struct jg_conn *conn;
	int32_t stream_id;
	int http_status;
	struct evbuffer *inq;	  /* stdin bytes not yet taken by nghttp2 */
	struct evbuffer *errbody; /* the body of a refusal */
	struct event *ev_in;	  /* stdin readable (NULL: read directly, see connect_pump) */
	int in_direct;		  /* stdin is a regular file or /dev/null: epoll cannot watch it */
	int in_eof;
	uint64_t bytes_up, bytes_down;
};

static void connect_fail(struct jg_connect *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr, "jumpgate: TARGET: reason", control characters blanked. */
static void connect_fail(struct jg_connect *op, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jg_op_blank_controls(msg);
	jg_client_fail("%s: %s", op->target, msg);
}

/* The outcome is known: stop reading stdin, say goodbye to the gateway. */
static void connect_finish(struct jg_connect *op, int status)
{
	if (op->state == CS_FINISHING)
		return;
	op->state = CS_FINISHING;
	op->result = status;
	if (op->ev_in != NULL)
		event_del(op->ev_in);
	jg_log_debug("tunnel done: %llu bytes up, %llu down, status %d",
		     (unsigned long long)op->bytes_up, (unsigned long long)op->bytes_down, status);
	if (op->conn != NULL)
		jg_conn_shutdown(op->conn);
}

/* One read of stdin into inq.  1: bytes queued, 0: EOF (or an error, reported), -1: would
 * block. */
static int connect_read_once(struct jg_connect *op)
{
	/* Straight into inq, as much as stdin holds (a 64 KiB bounce buffer made a 1 GiB
	 * tunnel 16,405 reads and a copy of every byte). */
	ssize_t n = jg_fd_read_evbuffer(0, op->inq, CONNECT_AHEAD);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n < 0 && errno != EBADF)
		connect_fail(op, "cannot read stdin: %s (the far end sees end of input)",
			     strerror(errno));
	if (n <= 0) {
		op->in_eof = 1;
		if (op->ev_in != NULL)
			event_del(op->ev_in);
		return 0;
	}
	op->bytes_up += (uint64_t)n;
	return 1;
}

/* Room in inq again (or the request just went out): read on. Never calls into nghttp2. */
static void connect_pump(struct jg_connect *op)
{
	/* From the request on, not only after the 200: ssh speaks first, and the gateway
	 * holds early bytes (within the stream window) until the far end is connected. */
	if (op->in_eof || (op->state != CS_WAITING && op->state != CS_OPEN) ||
	    evbuffer_get_length(op->inq) >= CONNECT_AHEAD)
		return;
	if (!op->in_direct) {
		if (!event_pending(op->ev_in, EV_READ, NULL))
			event_add(op->ev_in, NULL);
		return;
	}
	while (!op->in_eof && evbuffer_get_length(op->inq) < CONNECT_AHEAD)
		if (connect_read_once(op) < 0)
			break;
}

static void connect_on_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct jg_connect *op = arg;

	/* One read per wake-up: stdin may be blocking, and it is not ours to change. */
	if (connect_read_once(op) < 0)
		return;
	if (!op->in_eof && evbuffer_get_length(op->inq) >= CONNECT_AHEAD)
		event_del(op->ev_in);
	if (op->stream_id > 0)
		jg_conn_resume(op->conn, op->stream_id);
}

static int on_header(void *arg, const char *name, const char *value)
{
	struct jg_connect *op = arg;

	if (op->state != CS_WAITING)
		return 0;
	switch (jg_op_status(name, value, &op->http_status)) {
	case -1:
		return 0;
	case 0:
		op->state = CS_REFUSED;
		return 0;
	}
	op->state = CS_OPEN;
	connect_pump(op);
	return 0;
}

static int on_data(void *arg, const uint8_t *data, size_t len)
{
	struct jg_connect *op = arg;

	switch (op->state) {
	case CS_REFUSED:
		jg_op_errbody_add(op->errbody, data, len);
		return 0;
	case CS_OPEN:
		break;
	case CS_CONNECTING:
	case CS_WAITING:
	case CS_FINISHING:
		return 0;
	}
	if (jg_op_write_all(1, data, len) != 0) {
		/* Whoever reads our stdout (ssh) has gone: the tunnel has no use any more. */
		if (errno != EPIPE)
			connect_fail(op, "cannot write to stdout: %s", strerror(errno));
		connect_finish(op, errno == EPIPE ? 0 : JG_EXIT_FAILURE);
		return -1;
	}
	op->bytes_down += len;
	return 0;
}

/* The request body is inq itself: client/conn.c moves its bytes into the TLS stream. */
static struct evbuffer *on_body_queue(void *arg, int *eof)
{
	struct jg_connect *op = arg;

	if (evbuffer_get_length(op->inq) == 0)
		connect_pump(op); /* a regular file is read right here */
	*eof = op->in_eof;
	return op->inq;
}

static void on_body_taken(void *arg)
{
	connect_pump(arg);
}

static void on_close(void *arg, uint32_t h2_error)
{
	struct jg_connect *op = arg;
	char msg[2048];

	jg_log_debug("stream %d closed (%s)", op->stream_id, nghttp2_http2_strerror(h2_error));
	op->stream_id = -1;
	switch (op->state) {
	case CS_FINISHING:
		return;
	case CS_REFUSED:
		jg_op_refusal(op->errbody, op->http_status, msg, sizeof(msg));
		connect_fail(op, "%s", msg);
		break;
	case CS_OPEN:
		/* NO_ERROR: the far end closed and all it sent is written: done. */
		if (h2_error == NGHTTP2_NO_ERROR) {
			connect_finish(op, 0);
			return;
		}
		connect_fail(op,
			     "the tunnel broke (the gateway reset the stream: %s; its log "
			     "says why)",
			     nghttp2_http2_strerror(h2_error));
		break;
	case CS_CONNECTING:
	case CS_WAITING:
		jg_op_early_close(h2_error, msg, sizeof(msg));
		connect_fail(op, "%s", msg);
		break;
	}
	connect_finish(op, JG_EXIT_FAILURE);
}

static const struct jg_h2client_stream_cbs connect_stream_cbs = {
    .header = on_header,
    .data = on_data,
    .body_queue = on_body_queue,
    .body_taken = on_body_taken,
    .close = on_close,
};

static void on_ready(void *arg)
{
	/* Nothing yet: extended CONNECT waits for the gateway's SETTINGS (on_settings). */
}

static void on_settings(void *arg)
{
	struct jg_connect *op = arg;
	const char *headers[][2] = {
	    {"user-agent", "jumpgate/" PACKAGE_VERSION},
	};
	int32_t id;

	if (op->state != CS_CONNECTING)
		return;
	if (jg_conn_can_connect(op->conn) != 1) {
		connect_fail(op,
			     "the gateway %s does not offer tunnels (no extended CONNECT in "
			     "its SETTINGS)",
			     op->c->gateway);
		connect_finish(op, JG_EXIT_FAILURE);
		return;
	}
	id = jg_conn_connect(op->conn, CONNECT_PROTOCOL, op->path, headers, 1, &connect_stream_cbs,
			     op);
	if (id < 0) {
		connect_fail(op, "cannot send the request: %s", jg_strerror(id));
		connect_finish(op, JG_EXIT_FAILURE);
		return;
	}
	op->stream_id = id;
	op->state = CS_WAITING;
	connect_pump(op);
}

static void on_failed(void *arg, const char *msg)
{
	struct jg_connect *op = arg;

	if (op->state != CS_FINISHING) {
		jg_client_fail("%s", msg);
		op->state = CS_FINISHING;
		op->result = JG_EXIT_FAILURE;
	}
	if (op->ev_in != NULL)
		event_del(op->ev_in);
	event_base_loopbreak(op->c->base);
}

static void on_closed(void *arg)
{
	struct jg_connect *op = arg;

	event_base_loopbreak(op->c->base);
}

static const struct jg_conn_cbs connect_conn_cbs = {
    .ready = on_ready,
    .failed = on_failed,
    .closed = on_closed,
    .settings = on_settings,
};

/* Parse `connect [--via-target] [-H HOST] TARGET PORT`. 0, -1 after --help, or an exit
 * status. */
static int connect_parse(struct jg_connect *op, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"via-target", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *host = NULL, *port;
	struct in6_addr in6;
	char rest[400], *end;
	unsigned long n;
	int ch, via_target = 0;

	optind = 0; /* GNU: start afresh on this argv */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:H:Th", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			if (optarg[0] == '\0' || strpbrk(optarg, "&=?#% ") != NULL)
				return jg_client_usage("connect: -H wants a host, not '%s'",
						       optarg);
			host = optarg;
			via_target = 1; /* HOST is as seen from the target */
			break;
		case 'T':
			via_target = 1;
			break;
		case 'h':
			jg_help_connect();
			return -1;
		default:
			return jg_op_getopt_error("connect", ch, argv);
		}
	}
	if (argc - optind != 2 || argv[optind][0] == '\0')
		return jg_client_usage("connect: wants TARGET PORT (as in: connect web1 22)");
	op->target = argv[optind];
	/* ssh's %h spells an IPv6 address bare; targets write it in brackets. */
	if (inet_pton(AF_INET6, op->target, &in6) == 1 &&
	    snprintf(op->v6target, sizeof(op->v6target), "[%s]", op->target) <
		(int)sizeof(op->v6target))
		op->target = op->v6target;
	port = argv[optind + 1];
	errno = 0;
	n = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || n < 1 || n > 65535)
		return jg_client_usage("connect: port '%s' is not a number 1-65535", port);
	snprintf(rest, sizeof(rest), "tunnel?port=%lu%s%s%s", n, host != NULL ? "&host=" : "",
		 host != NULL ? host : "", via_target ? "" : "&from=gateway");
	if (jg_client_target_path(op->path, sizeof(op->path), op->target, rest) != 0)
		return jg_client_usage("connect: TARGET is too long");
	return 0;
}

/* Watch stdin, or read it directly when epoll cannot (regular files, /dev/null). */
static int connect_stdin(struct jg_connect *op)
{
	struct stat st;

	if (fstat(0, &st) != 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && !isatty(0))) {
		op->in_direct = 1;
		return 0;
	}
	op->ev_in = event_new(op->c->base, 0, EV_READ | EV_PERSIST, connect_on_stdin, op);
	return op->ev_in == NULL ? JG_ERR_NOMEM : 0;
}

int jg_cmd_connect(struct jg_client *c, int argc, char **argv)
{
	struct jg_connect op;
	int r;

	memset(&op, 0, sizeof(op));
	op.c = c;
	op.result = JG_EXIT_FAILURE;
	op.stream_id = -1;
	if ((r = connect_parse(&op, argc, argv)) != 0) {
		op.result = r < 0 ? 0 : r; /* -1: help was printed */
		goto out;
	}
	if ((r = jg_client_setup(c)) != 0) {
		op.result = r;
		goto out;
	}
	op.inq = evbuffer_new();
	op.errbody = evbuffer_new();
	if (op.inq == NULL || op.errbody == NULL || connect_stdin(&op) != 0) {
		jg_client_fail("out of memory");
		goto out;
	}
	if ((op.conn = jg_conn_new(c, &connect_conn_cbs, &op)) == NULL)
		goto out;
	event_base_dispatch(c->base);
out:
	if (op.ev_in != NULL)
		event_free(op.ev_in);
	jg_conn_free(op.conn);
	if (op.inq != NULL)
		evbuffer_free(op.inq);
	if (op.errbody != NULL)
		evbuffer_free(op.errbody);
	return op.result;
}
