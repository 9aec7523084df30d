/* `jumpgate exec`: run a program on a target through the gateway.
 *
 * One HTTP/2 stream (docs/api.md): the request body is OPEN, then stdin as
 * DATA, SIGNAL and RESIZE frames, then EOF; the response body is stdout and
 * stderr DATA, then EXIT (or DEAD).  Every frame is on channel 0.
 *
 * The request stays open after stdin's EOF, so that a ^C or a window resize
 * can still reach the program; it ends (END_STREAM) once EXIT has arrived.
 *
 * States: CONNECTING -> WAITING (request sent) -> RUNNING (200) or REFUSED
 * (any other status: the body is the JSON error) -> FINISHING (the exit
 * status is known; closing the connection) -> DONE. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "client/agentrelay.h"
#include "client/client.h"
#include "client/conn.h"
#include "client/failover.h"
#include "client/input.h"
#include "client/opconn.h"
#include "client/tty.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/log.h"
#include "relay/spec.h"

/* Read ahead at most this much stdin (as queued frames) before waiting for the gateway. */
#define EXEC_STDIN_AHEAD (256 * 1024)
/* A second SIGINT this soon after the first gives up on the remote program. */
#define EXEC_ABORT_WINDOW_MS 2000
/* A signal passed on: the gateway must show it is there within this, or we exit 128+N. */
#define EXEC_SIGNAL_PROBE_S 5
/* JG_CLIENT_EXEC_SOFT_EPIPE: how long the remote program has to exit after SIGPIPE. */
#define EXEC_EPIPE_GRACE_S 10
/* The request body sent before the answer is kept, up to this, so that a refusal before
 * the start (client/failover.h) can send it again to the next gateway; beyond, it fails. */
#define EXEC_REPLAY_MAX (1024 * 1024)

enum exec_state { EXEC_CONNECTING, EXEC_WAITING, EXEC_RUNNING, EXEC_REFUSED, EXEC_FINISHING };

struct jg_exec {
	struct jg_client *c;
	const char *target;
	char path[4096];
	struct jg_exec_spec spec; /* pointers borrowed from argv; env array owned */
	enum exec_state state;
	int result; /* the exit status, once known */
	struct jg_conn *conn;
	int32_t stream_id;
	struct evbuffer *outq; /* frames to send: OPEN, stdin, SIGNAL, RESIZE */
	struct jg_input in;
	int end_request; /* end the request body once outq is empty */
	struct jg_frame_decoder *dec;
	int http_status;
	struct evbuffer *errbody;
	struct jg_tty tty;
	struct event *sig[5];
	struct timespec last_int;
	int passed_signo;	     /* the last SIGINT/SIGTERM/SIGHUP passed on, 0: none */
	int flags;		     /* JG_CLIENT_EXEC_* */
	int stdout_gone;	     /* SOFT_EPIPE: our reader left; its output is dropped */
	struct event *epipe_ev;	     /* SOFT_EPIPE: the grace period after SIGPIPE */
	struct jg_agentrelay *agent; /* -A, or NULL */
	struct evbuffer *sent;	     /* body sent while WAITING, for a retry elsewhere */
	int replay_lost;	     /* more than EXEC_REPLAY_MAX was sent: no retry */
	struct event *retry_ev;	     /* a new connection, from the loop */
};

/* One error line on stderr, "jumpgate: ..." or "jumpgate rsh: ..." (c->prog). */
static void exec_fail(const struct jg_exec *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void exec_fail(const struct jg_exec *op, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", op->c->prog != NULL ? op->c->prog : "jumpgate", line);
	fflush(stderr);
}

/* Report an error about the target: the terminal is put back first so the line is readable. */
static void exec_report(struct jg_exec *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void exec_report(struct jg_exec *op, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jg_tty_restore(&op->tty);
	/* Text from the far side goes to a terminal: no escape sequences through. */
	jg_op_blank_controls(msg);
	exec_fail(op, "%s: %s", op->target, msg);
}

/* The outcome is known: stop reading, put the terminal back, say goodbye to the gateway. */
static void exec_finish(struct jg_exec *op, int status)
{
	if (op->state == EXEC_FINISHING)
		return;
	op->state = EXEC_FINISHING;
	op->result = status;
	jg_tty_restore(&op->tty);
	jg_input_stop(&op->in);
	if (op->conn != NULL)
		jg_conn_shutdown(op->conn);
}

/* Queue a control frame (SIGNAL, RESIZE) behind whatever stdin is queued, and send it. */
static void exec_control(struct jg_exec *op, uint8_t type, uint32_t aux)
{
	if (op->stream_id <= 0 || op->end_request)
		return;
	if (jg_frame_put(op->outq, type, 0, 0, aux, NULL, 0) != 0)
		return;
	jg_conn_resume(op->conn, op->stream_id);
}

/* SOFT_EPIPE: the remote program did not exit after SIGPIPE; end it as exec would. */
static void on_epipe_grace(evutil_socket_t fd, short what, void *arg)
{
	struct jg_exec *op = arg;
	int32_t id = op->stream_id;

	jg_log_info("the remote program outlived SIGPIPE by %d s: abandoning it",
		    EXEC_EPIPE_GRACE_S);
	exec_finish(op, 128 + SIGPIPE);
	if (id > 0)
		jg_conn_cancel(op->conn, id);
}

/* Our stdout's reader has gone.  0 to go on (SOFT_EPIPE: SIGPIPE sent, output dropped
 * from now on), or -1 when the stream must be cancelled. */
static int exec_stdout_gone(struct jg_exec *op)
{
	struct timeval grace = {EXEC_EPIPE_GRACE_S, 0};

	if (!(op->flags & JG_CLIENT_EXEC_SOFT_EPIPE)) {
		exec_finish(op, 128 + SIGPIPE);
		return -1;
	}
	op->stdout_gone = 1;
	op->result = 128 + SIGPIPE;
	jg_log_debug("stdout closed: SIGPIPE to the remote program");
	exec_control(op, JG_FRAME_SIGNAL, SIGPIPE);
	if ((op->epipe_ev = evtimer_new(op->c->base, on_epipe_grace, op)) == NULL ||
	    evtimer_add(op->epipe_ev, &grace) != 0) {
		exec_finish(op, 128 + SIGPIPE);
		return -1;
	}
	return 0;
}

/* One frame of the response.  0, or -1 when the stream must be cancelled. */
static int exec_frame(struct jg_exec *op, const struct jg_frame *f)
{
	int fd = (f->flags & JG_DATA_STDERR) ? 2 : 1;

	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_DATA:
		if (fd == 1 && op->stdout_gone)
			return 0;
		if (jg_op_write_all(fd, f->payload, f->length) == 0)
			return 0;
		if (errno == EPIPE && fd == 1)
			/* Whoever read our stdout has gone (`| head`): end as a local program
			 * would, by SIGPIPE; the gateway stops the remote one. */
			return exec_stdout_gone(op);
		if (errno == EPIPE)
			return 0; /* nobody reads stderr: drop it, keep the program's stdout */
		exec_report(op, "cannot write to %s: %s", fd == 1 ? "stdout" : "stderr",
			    strerror(errno));
		exec_finish(op, JG_EXIT_FAILURE);
		return -1;
	case JG_FRAME_EXIT:
		if (f->flags & JG_EXIT_SIGNALED)
			op->result = 128 + (int)(f->aux & 0x7f);
		else
			op->result = f->aux > 255 ? JG_EXIT_FAILURE : (int)f->aux;
		jg_log_debug("remote program ended: %s %u",
			     (f->flags & JG_EXIT_SIGNALED) ? "signal" : "status", f->aux);
		/* Our half of the stream ends now that nothing more can be delivered. */
		op->end_request = 1;
		jg_conn_resume(op->conn, op->stream_id);
		exec_finish(op, op->result);
		return 0;
	case JG_FRAME_DEAD:
		exec_report(op, "%.*s", (int)f->length, (const char *)f->payload);
		exec_finish(op, JG_EXIT_FAILURE);
		return -1;
	case JG_FRAME_EOF:
	case JG_FRAME_HELLO:
	case JG_FRAME_OPEN:
	case JG_FRAME_OPEN_OK:
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_WINDOW:
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
	case JG_FRAME_CLOSE:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
		/* Nothing to do here: output EOFs need no action, the rest is not for us. */
		jg_log_debug("ignoring %s frame", jg_frame_type_name(f->type));
		return 0;
	}
	return 0;
}

static int on_header(void *arg, const char *name, const char *value)
{
	struct jg_exec *op = arg;

	if (op->state != EXEC_WAITING)
		return 0;
	switch (jg_op_status(name, value, &op->http_status)) {
	case -1:
		return 0;
	case 0:
		op->state = EXEC_REFUSED;
		return 0;
	}
	op->state = EXEC_RUNNING;
	/* It runs: it will never be sent again. */
	evbuffer_drain(op->sent, evbuffer_get_length(op->sent));
	/* Raw only now that the program runs: until then ^C is ours, to give up waiting.  A
	 * pty forced on a pipe (rsh -tt) leaves our stdin as it is. */
	if (op->spec.pty && isatty(0) && jg_tty_raw(&op->tty, 0) != 0)
		jg_log_warn("cannot put the terminal in raw mode: %s", strerror(errno));
	return 0;
}

static int on_data(void *arg, const uint8_t *data, size_t len)
{
	struct jg_exec *op = arg;
	struct jg_frame f;
	int r, failed = 0, settled;

	switch (op->state) {
	case EXEC_REFUSED:
		jg_op_errbody_add(op->errbody, data, len);
		return 0;
	case EXEC_RUNNING:
		break;
	case EXEC_CONNECTING:
	case EXEC_WAITING:
	case EXEC_FINISHING:
		return 0;
	}
	/* Lent, not copied: whole frames are read in place (DATA is nghttp2's, valid
	 * during this call); settle() keeps the rest, on every way out. */
	if (jg_frame_decoder_lend(op->dec, data, len) != 0) {
		exec_report(op, "out of memory decoding the response");
		exec_finish(op, JG_EXIT_FAILURE);
		return -1;
	}
	r = 0;
	while (op->state == EXEC_RUNNING && (r = jg_frame_decoder_next(op->dec, &f)) > 0)
		if (exec_frame(op, &f) != 0) {
			failed = 1;
			break;
		}
	settled = jg_frame_decoder_settle(op->dec);
	if (failed)
		return -1;
	if (r < 0) {
		exec_report(op, "bad response from the gateway: %s",
			    jg_frame_decoder_error(op->dec));
		exec_finish(op, JG_EXIT_FAILURE);
		return -1;
	}
	if (settled != 0) {
		exec_report(op, "out of memory decoding the response");
		exec_finish(op, JG_EXIT_FAILURE);
		return -1;
	}
	return 0;
}

static const struct jg_conn_cbs exec_conn_cbs;

/* From the loop (not inside the old connection's callbacks): drop it, dial the next. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct jg_exec *op = arg;

	jg_conn_free(op->conn);
	if ((op->conn = jg_conn_new(op->c, &exec_conn_cbs, op)) == NULL) {
		op->state = EXEC_FINISHING;
		op->result = JG_EXIT_FAILURE;
		event_base_loopbreak(op->c->base);
	}
}

/* The gateway refused the operation before it started (WHY): send it again, as it was,
 * to the next gateway.  0, or -1 when it cannot be (none left, body not kept). */
static int exec_retry(struct jg_exec *op, const char *why)
{
	if (op->replay_lost || op->passed_signo != 0 || jg_failover_next(op->c, why, 2) != 0)
		return -1;
	op->state = EXEC_CONNECTING;
	op->stream_id = -1;
	op->http_status = 0;
	evbuffer_drain(op->errbody, evbuffer_get_length(op->errbody));
	if (evbuffer_prepend_buffer(op->outq, op->sent) != 0)
		return -1;
	if (op->retry_ev == NULL &&
	    (op->retry_ev = event_new(op->c->base, -1, 0, on_retry, op)) == NULL)
		return -1;
	event_active(op->retry_ev, 0, 0);
	return 0;
}

static void on_close(void *arg, uint32_t h2_error)
{
	struct jg_exec *op = arg;
	char msg[2048];

	jg_log_debug("stream %d closed (%s)", op->stream_id, nghttp2_http2_strerror(h2_error));
	op->stream_id = -1;
	switch (op->state) {
	case EXEC_FINISHING:
		return;
	case EXEC_REFUSED:
		jg_op_refusal(op->errbody, op->http_status, msg, sizeof(msg));
		if (jg_failover_refused_before_start(op->http_status, op->errbody) &&
		    exec_retry(op, msg) == 0)
			return;
		exec_report(op, "%s", msg);
		break;
	case EXEC_RUNNING:
		if (jg_frame_decoder_pending(op->dec) > 0)
			exec_report(op, "the gateway's response ended in the middle of a frame");
		else if (h2_error != NGHTTP2_NO_ERROR)
			exec_report(op, "the gateway reset the stream without an exit status (%s)",
				    nghttp2_http2_strerror(h2_error));
		else
			exec_report(op, "the gateway ended the stream without an exit status");
		break;
	case EXEC_CONNECTING:
	case EXEC_WAITING:
		jg_op_early_close(h2_error, msg, sizeof(msg));
		/* REFUSED_STREAM: the gateway's GOAWAY said it never looked at this stream. */
		if (h2_error == NGHTTP2_REFUSED_STREAM && exec_retry(op, msg) == 0)
			return;
		exec_report(op, "%s", msg);
		break;
	}
	exec_finish(op, JG_EXIT_FAILURE);
}

static ssize_t on_body(void *arg, uint8_t *buf, size_t len, int *eof)
{
	struct jg_exec *op = arg;
	int n;

	if (evbuffer_get_length(op->outq) == 0)
		jg_input_pump(&op->in); /* a regular file is read right here */
	if (evbuffer_get_length(op->outq) == 0) {
		if (!op->end_request)
			return JG_ERR_AGAIN;
		*eof = 1;
		return 0;
	}
	n = evbuffer_remove(op->outq, buf, len);
	jg_input_pump(&op->in);
	if (n > 0 && op->state == EXEC_WAITING && !op->replay_lost) {
		if (evbuffer_get_length(op->sent) + (size_t)n > EXEC_REPLAY_MAX ||
		    evbuffer_add(op->sent, buf, (size_t)n) != 0) {
			op->replay_lost = 1;
			evbuffer_drain(op->sent, evbuffer_get_length(op->sent));
		}
	}
	return n < 0 ? JG_ERR_NOMEM : n;
}

/* Past the point where a retry could replay stdin (the gateway answered, or more than
 * EXEC_REPLAY_MAX went), outq's chains go to the TLS stream without a copy. */
static struct evbuffer *on_body_queue(void *arg, int *eof)
{
	struct jg_exec *op = arg;

	if (op->state == EXEC_WAITING && !op->replay_lost)
		return NULL; /* on_body: a copy kept in op->sent */
	if (evbuffer_get_length(op->outq) == 0)
		jg_input_pump(&op->in); /* a regular file is read right here */
	*eof = op->end_request;
	return op->outq;
}

static void on_body_taken(void *arg)
{
	struct jg_exec *op = arg;

	jg_input_pump(&op->in);
}

static const struct jg_h2client_stream_cbs exec_stream_cbs = {
    .header = on_header,
    .data = on_data,
    .body = on_body,
    .body_queue = on_body_queue,
    .body_taken = on_body_taken,
    .close = on_close,
};

static void on_ready(void *arg)
{
	struct jg_exec *op = arg;
	char agent[32];
	const char *headers[][2] = {
	    {"content-type", "application/x-jumpgate-frames"},
	    {"user-agent", "jumpgate/" PACKAGE_VERSION},
	    {"x-jumpgate-agent", agent},
	};
	int32_t id;

	/* The agent stream first: the gateway knows it when the request names it. */
	if (op->agent != NULL &&
	    (id = jg_agentrelay_open(op->agent, op->conn, agent, sizeof(agent))) < 0) {
		exec_report(op, "cannot open the agent stream: %s", jg_strerror(id));
		exec_finish(op, JG_EXIT_FAILURE);
		return;
	}
	id = jg_conn_request(op->conn, "POST", op->path, headers, op->agent != NULL ? 3 : 2,
			     &exec_stream_cbs, op);
	if (id < 0) {
		exec_report(op, "cannot send the request: %s", jg_strerror(id));
		exec_finish(op, JG_EXIT_FAILURE);
		return;
	}
	op->stream_id = id;
	op->state = EXEC_WAITING;
	jg_input_pump(&op->in);
}

static void on_failed(void *arg, const char *msg)
{
	struct jg_exec *op = arg;

	/* Lost before the gateway said a word: our request was never sent (conn.h). */
	if (op->state == EXEC_CONNECTING && !jg_conn_heard_settings(op->conn) &&
	    exec_retry(op, msg) == 0)
		return;
	jg_tty_restore(&op->tty);
	if (op->state != EXEC_FINISHING) {
		exec_fail(op, "%s", msg);
		op->state = EXEC_FINISHING;
		/* A signal we could not pass on ends us as it would have ended the program. */
		op->result = op->passed_signo != 0 ? 128 + op->passed_signo : JG_EXIT_FAILURE;
	}
	jg_input_stop(&op->in);
	event_base_loopbreak(op->c->base);
}

static void on_closed(void *arg)
{
	struct jg_exec *op = arg;

	event_base_loopbreak(op->c->base);
}

static const struct jg_conn_cbs exec_conn_cbs = {
    .ready = on_ready,
    .failed = on_failed,
    .closed = on_closed,
};

static void on_stdin(void *arg)
{
	struct jg_exec *op = arg;

	if (op->stream_id > 0)
		jg_conn_resume(op->conn, op->stream_id);
}

static void on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct jg_exec *op = arg;
	struct timespec now;
	char why[96];
	long ms;
	uint16_t rows, cols;

	if (op->state == EXEC_FINISHING)
		return;
	if (signo == SIGUSR1) {
		/* SOFT_EPIPE only.  rsync sends it to its ssh when it gives up (kill_all in
		 * _exit_cleanup) and exits; ssh dies of it, sshd closes the pipes and the
		 * remote rsync, seeing EOF, keeps its --partial file.  We do the same without
		 * dying at once: stdout is dropped, the program gets SIGPIPE, stdin's EOF
		 * follows when rsync is gone, and the grace timer bounds the wait. */
		if (!op->stdout_gone && exec_stdout_gone(op) != 0 && op->stream_id > 0)
			jg_conn_cancel(op->conn, op->stream_id);
		return;
	}
	if (signo == SIGWINCH) {
		if (jg_tty_size(0, &rows, &cols) == 0) {
			jg_log_debug("window is now %ux%u", rows, cols);
			exec_control(op, JG_FRAME_RESIZE, (uint32_t)rows << 16 | cols);
		}
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - op->last_int.tv_sec) * 1000 +
	     (now.tv_nsec - op->last_int.tv_nsec) / 1000000;
	/* Nothing to pass the signal to yet, or the user insists (a second signal, but for
	 * SIGINTs spaced more than the window apart: those keep going to the program): give
	 * up locally. */
	if (op->stream_id <= 0 || op->state == EXEC_REFUSED ||
	    (op->passed_signo != 0 &&
	     !(signo == SIGINT && op->passed_signo == SIGINT && ms >= EXEC_ABORT_WINDOW_MS))) {
		int32_t id = op->stream_id;

		jg_log_info("interrupted: abandoning the remote program");
		exec_finish(op, 128 + (int)signo); /* first: the reset must not read as a failure */
		if (id > 0)
			jg_conn_cancel(op->conn, id);
		return;
	}
	if (signo == SIGINT)
		op->last_int = now;
	op->passed_signo = (int)signo;
	jg_log_info("passing signal %d to the remote program", (int)signo);
	exec_control(op, JG_FRAME_SIGNAL, (uint32_t)signo);
	/* A stalled gateway would keep the signal and us waiting: it must answer soon. */
	snprintf(why, sizeof(why), "signal %d could not be passed to the remote program",
		 (int)signo);
	jg_conn_probe(op->conn, EXEC_SIGNAL_PROBE_S, why);
}

/* What `jumpgate exec` was asked to run (pointers borrowed from argv; env owned). */
struct exec_args {
	const char *target;
	char **argv;
	char **env; /* NULL-terminated, or NULL when no -e was given */
	size_t envc;
	const char *cwd;
	int want_tty;
	int agent; /* -A given this many times */
	int retry; /* --retry */
};

/* Parse `exec [-t] [-e KEY=VALUE]... [-C DIR] TARGET [--] ARGV...`.  0, -1 when the help
 * was printed, or an exit status. */
static int exec_parse(struct exec_args *op, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"tty", no_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, 'C'},
	    {"forward-agent", no_argument, NULL, 'A'},
	    {"retry", no_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	if ((op->env = calloc((size_t)argc + 1, sizeof(char *))) == NULL) {
		jg_client_fail("out of memory");
		return JG_EXIT_FAILURE;
	}
	optind = 0; /* GNU: start afresh on this argv */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:te:C:Ah", longopts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			op->agent++;
			break;
		case 't':
			op->want_tty = JG_CLIENT_TTY_IF_TERMINAL;
			break;
		case 'e':
			if (optarg[0] == '=' || strchr(optarg, '=') == NULL)
				return jg_client_usage("exec: -e wants KEY=VALUE, not '%s'",
						       optarg);
			op->env[op->envc++] = optarg;
			break;
		case 'C':
			if (optarg[0] == '\0')
				return jg_client_usage("exec: -C wants a directory");
			op->cwd = optarg;
			break;
		case 'R': /* long only: may run twice through another gateway (failover.h) */
			op->retry = 1;
			break;
		case 'h':
			jg_help_exec();
			return -1;
		default:
			return jg_op_getopt_error("exec", ch, argv);
		}
	}
	if (optind >= argc || argv[optind][0] == '\0')
		return jg_client_usage("exec: no TARGET given");
	op->target = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc)
		return jg_client_usage("exec: no command given after TARGET --");
	op->argv = argv + optind;
	if (op->envc == 0) {
		free(op->env);
		op->env = NULL;
	}
	return 0;
}

/* OPEN with the exec spec goes first in the request body. */
static int exec_open_frame(struct jg_exec *op, int want_tty /* JG_CLIENT_TTY_* */)
{
	struct evbuffer *spec = evbuffer_new();
	int r = JG_ERR_NOMEM;

	if (want_tty == JG_CLIENT_TTY_FORCE || (want_tty != JG_CLIENT_TTY_NO && isatty(0))) {
		op->spec.pty = 1;
		if (jg_tty_size(0, &op->spec.rows, &op->spec.cols) != 0) {
			op->spec.rows = 24;
			op->spec.cols = 80;
		}
		op->spec.term = getenv("TERM");
	} else if (want_tty != JG_CLIENT_TTY_NO) {
		exec_fail(op, "stdin is not a terminal: not asking for a pseudo-terminal");
	}
	if (spec == NULL)
		goto out;
	if ((r = jg_exec_spec_encode(&op->spec, spec)) != 0)
		goto out;
	r = jg_frame_put(op->outq, JG_FRAME_OPEN, 0, 0, JG_OPEN_EXEC, evbuffer_pullup(spec, -1),
			 (uint32_t)evbuffer_get_length(spec));
out:
	if (r == JG_ERR_TOOBIG)
		exec_fail(op,
			  "%s: the command, its environment and directory are too long "
			  "(more than %u bytes)",
			  op->target, JG_FRAME_MAX_PAYLOAD);
	else if (r != 0)
		exec_fail(op, "%s: cannot encode the command: %s", op->target, jg_strerror(r));
	if (spec != NULL)
		evbuffer_free(spec);
	return r;
}

static int exec_signals(struct jg_exec *op)
{
	const int signos[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGUSR1};

	for (size_t i = 0; i < 5; i++) {
		if (signos[i] == SIGWINCH && !op->spec.pty)
			continue;
		if (signos[i] == SIGUSR1 && !(op->flags & JG_CLIENT_EXEC_SOFT_EPIPE))
			continue;
		op->sig[i] = evsignal_new(op->c->base, signos[i], on_signal, op);
		if (op->sig[i] == NULL || evsignal_add(op->sig[i], NULL) != 0)
			return JG_ERR_NOMEM;
	}
	return 0;
}

int jg_client_run_exec(struct jg_client *c, const char *target, char **argv, char **env,
		       const char *cwd, int flags)
{
	struct jg_exec op;

	memset(&op, 0, sizeof(op));
	op.c = c;
	op.target = target;
	op.result = JG_EXIT_FAILURE;
	op.stream_id = -1;
	op.flags = flags;
	op.spec.argv = argv;
	while (argv[op.spec.argc] != NULL)
		op.spec.argc++;
	op.spec.env = env;
	while (env != NULL && env[op.spec.envc] != NULL)
		op.spec.envc++;
	op.spec.cwd = (char *)cwd;
	if (jg_client_target_path(op.path, sizeof(op.path), target, "exec") != 0) {
		exec_fail(&op, "%s: TARGET is too long", target);
		goto out;
	}
	op.outq = evbuffer_new();
	op.errbody = evbuffer_new();
	op.sent = evbuffer_new();
	op.dec = jg_frame_decoder_new(0);
	if (op.outq == NULL || op.errbody == NULL || op.sent == NULL || op.dec == NULL ||
	    jg_input_init(&op.in, c->base, 0, op.outq, EXEC_STDIN_AHEAD, on_stdin, &op) != 0) {
		exec_fail(&op, "out of memory");
		goto out;
	}
	if (exec_open_frame(&op, flags & JG_CLIENT_TTY_MASK) != 0)
		goto out;
	/* After the OPEN frame: whether SIGWINCH matters depends on the pty decision. */
	if (exec_signals(&op) != 0) {
		exec_fail(&op, "cannot watch signals: %s", strerror(errno));
		goto out;
	}
	if ((flags & (JG_CLIENT_EXEC_AGENT | JG_CLIENT_EXEC_AGENT_TARGET)) &&
	    (op.agent =
		 jg_agentrelay_new(c, target, flags & JG_CLIENT_EXEC_AGENT_TARGET ? 2 : 1)) == NULL)
		goto out;
	if ((op.conn = jg_conn_new(c, &exec_conn_cbs, &op)) == NULL)
		goto out;
	event_base_dispatch(c->base);
out:
	/* Gone with the first run: a run again (--retry) would not get it (failover.h). */
	if (op.in.nread > 0)
		c->stdin_read = 1;
	jg_tty_restore(&op.tty);
	for (size_t i = 0; i < 5; i++)
		if (op.sig[i] != NULL)
			event_free(op.sig[i]);
	if (op.epipe_ev != NULL)
		event_free(op.epipe_ev);
	if (op.retry_ev != NULL)
		event_free(op.retry_ev);
	jg_conn_free(op.conn);
	jg_agentrelay_free(op.agent);
	jg_input_clear(&op.in);
	if (op.dec != NULL)
		jg_frame_decoder_free(op.dec);
	if (op.outq != NULL)
		evbuffer_free(op.outq);
	if (op.errbody != NULL)
		evbuffer_free(op.errbody);
	if (op.sent != NULL)
		evbuffer_free(op.sent);
	return op.result;
}

int jg_cmd_exec(struct jg_client *c, int argc, char **argv)
{
	struct exec_args a;
	char path[sizeof(((struct jg_exec *)NULL)->path)];
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = exec_parse(&a, argc, argv)) != 0) {
		r = r < 0 ? 0 : r; /* -1: help was printed */
		goto out;
	}
	/* Checked before the setup, as a usage error; jg_client_run_exec builds it again. */
	if (jg_client_target_path(path, sizeof(path), a.target, "exec") != 0) {
		r = jg_client_usage("exec: TARGET is too long");
		goto out;
	}
	if ((r = jg_client_setup(c)) != 0)
		goto out;
	c->retry |= a.retry;
	r = jg_client_run_exec(c, a.target, a.argv, a.env, a.cwd,
			       a.want_tty | jg_client_agent_flags(a.agent));
out:
	free(a.env);
	return r;
}

int jg_client_agent_flags(int n)
{
	return n <= 0 ? 0 : n == 1 ? JG_CLIENT_EXEC_AGENT : JG_CLIENT_EXEC_AGENT_TARGET;
}
