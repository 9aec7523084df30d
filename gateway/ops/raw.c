/* The raw exec operation: one HTTP/2 stream bridged to one `ssh host 'cmd'`,
 * for targets marked `raw = true` (machines where no agent can run).
 *
 * Same contract as exec (docs/api.md): the request body is OPEN(exec spec),
 * then DATA/EOF/SIGNAL frames; the response is 200 and DATA (stdout,
 * JG_DATA_STDERR), EOF, EXIT.  That HTTP/2 side is gateway/ops/execstream.c,
 * shared with exec.c.  Instead of an agent channel, the gateway
 * spawns one ssh per operation whose remote command is the spec turned into
 * a shell line,
 *     [cd 'CWD' &&] [env -- 'K=V'...] 'ARGV0' 'ARG'...
 * every word quoted with jg_sh_quote, so the remote login shell sees each
 * argument verbatim.  ENV follows the protocol's meaning (docs/protocol.md:
 * added to the account's environment, as the agent does), hence plain `env`.
 *
 * What raw mode cannot do, and says so:
 *  - no pty (ssh -T; a PTY request is refused with 400 "raw mode has no pty");
 *  - no signal forwarding: without a remote tty OpenSSH has no way to deliver
 *    a signal to the remote command, so SIGINT, SIGTERM, SIGHUP and SIGKILL
 *    frames are delivered to the local ssh instead (the session closes; the
 *    remote command loses its stdio) and the EXIT reports that signal; other
 *    signals and RESIZE are ignored;
 *  - ssh's own diagnostics share the stderr pipe with the remote command's
 *    stderr: every stderr byte goes to the client, and also through a
 *    jg_ssh_watch so that an ssh failure (status 255 plus a recognised
 *    reason) ends the stream with DEAD "ssh to ... failed: authentication
 *    failed: ..." instead of a bare EXIT 255.
 *
 * Flow control, memory bounded per operation:
 *  - up: stdin DATA waits in stdin_buf until the (non-blocking) pipe takes
 *    it; only then is its HTTP/2 credit given back (jg_stream_consume), so
 *    stdin_buf never holds more than the stream window;
 *  - down: the stdout/stderr pipes are read only while the response queue
 *    holds less than OUT_HIGH bytes and the gateway-wide buffer budget is not
 *    exceeded (gw->budget_paused); on_sent and on_budget resume them.
 *
 * Lifetime: the op lives until its stream closes (on_close), which kills an
 * ssh still running (SIGTERM; the reaper collects it silently) and frees
 * every fd, event and buffer.  The response ends once ssh has exited and
 * both output pipes reached EOF. */
#include "config.h" /* _GNU_SOURCE: asprintf */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/execstream.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "gateway/onward/sshtty.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/log.h"
#include "relay/reaper.h"
#include "relay/spawn.h"
#include "relay/sh.h"
#include "relay/spec.h"
#include "relay/ssh.h"

#define OUT_HIGH (256u * 1024u) /* read ssh's output only below this many queued bytes */
/* ssh exited but something else (a ControlPersist master, say) still holds its
 * output pipes: stop waiting for their EOF after this long. */
#define DRAIN_GRACE_S 2

struct jg_raw {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream;
	struct jg_admit *adm;	      /* its admission (owned; decided at OPEN by es) */
	const struct jg_chain *chain; /* adm's */
	/* The HTTP/2 side and the state: WAIT_OPEN, then RUNNING once ssh is spawned and
	 * 200 sent (never OPENING), DONE. */
	struct jg_execstream *es;
	char argv0[64];
	struct evbuffer *stdin_buf; /* stdin bytes the pipe has not taken yet */
	/* ssh */
	pid_t pid;
	int exited, wstatus;
	int in_fd, out_fd, err_fd, tty_fd;
	struct event *in_ev, *out_ev, *err_ev, *tty_poll, *drain_timer;
	struct jg_ssh_watch watch;
	int password_sent;
	int stdin_dead; /* the pipe is closed (EOF delivered, or ssh stopped reading) */
	int out_eof, err_eof;
	int signal_sent;       /* a signal we delivered to ssh on the client's behalf, or 0 */
	char dead_reason[256]; /* set: the response ends with DEAD and this */
};

static struct jg_raw *op_raw(struct jg_op *op)
{
	return (struct jg_raw *)((char *)op - offsetof(struct jg_raw, op));
}

static void free_event(struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void raw_free(struct jg_raw *r)
{
	if (r->pid > 0 && !r->exited) {
		/* Its exit is still collected by the reaper, silently. */
		jg_reaper_forget(r->gw->reaper, r->pid);
		kill(r->pid, SIGTERM);
	}
	free_event(&r->in_ev);
	free_event(&r->out_ev);
	free_event(&r->err_ev);
	free_event(&r->tty_poll);
	free_event(&r->drain_timer);
	close_fd(&r->in_fd);
	close_fd(&r->out_fd);
	close_fd(&r->err_fd);
	close_fd(&r->tty_fd);
	jg_execstream_free(r->es);
	if (r->stdin_buf)
		evbuffer_free(r->stdin_buf);
	jg_admit_close(r->adm, "failed", "the stream closed before the program ended");
	free(r);
}

static const struct jg_ssh_opts *raw_ssh(const struct jg_raw *r)
{
	return &r->chain->hops[0].ssh;
}

static int raw_running(const struct jg_raw *r)
{
	return jg_execstream_state(r->es) == JG_EXECSTREAM_RUNNING;
}

/* Deliver SIG to ssh (never to a reaped pid: `exited` is set by the reaper's callback). */
static void raw_kill(struct jg_raw *r, int sig)
{
	if (r->pid > 0 && !r->exited)
		kill(r->pid, sig);
}

/* ---- output: ssh -> client ---------------------------------------------- */

static int want_output(const struct jg_raw *r)
{
	return raw_running(r) && !r->gw->budget_paused && jg_stream_queued(r->stream) < OUT_HIGH;
}

/* Read events on only while the response queue has room (and the pipe is open). */
static void raw_update_reads(struct jg_raw *r)
{
	int want = want_output(r);
	struct event *evs[2] = {r->out_ev, r->err_ev};

	for (int i = 0; i < 2; i++) {
		if (evs[i] == NULL)
			continue;
		if (want && !event_pending(evs[i], EV_READ, NULL))
			event_add(evs[i], NULL);
		else if (!want && event_pending(evs[i], EV_READ, NULL))
			event_del(evs[i]);
	}
}

static void status_frame(struct jg_raw *r)
{
	int st = r->wstatus;
	char reason[600], why[400];

	if (r->dead_reason[0] != '\0') {
		jg_execstream_fail(r->es, 502, "ssh failed", r->dead_reason);
		return;
	}
	if (r->signal_sent != 0 && (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 255))) {
		/* ssh catches INT/TERM/HUP and exits 255 ("Killed by signal"): for the user
		 * the program ended by the signal they sent. */
		jg_execstream_exit(r->es, JG_EXIT_SIGNALED, (uint32_t)r->signal_sent);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 255 &&
		   r->watch.failure != JG_SSH_FAIL_NONE) {
		jg_ssh_watch_reason(&r->watch, st, why, sizeof(why));
		snprintf(reason, sizeof(reason), "ssh to %s failed: %s", r->chain->display, why);
		jg_execstream_fail(r->es, 502, "ssh failed", reason);
		return;
	} else if (WIFSIGNALED(st)) {
		jg_execstream_exit(r->es, JG_EXIT_SIGNALED, (uint32_t)WTERMSIG(st));
	} else {
		jg_execstream_exit(r->es, 0, (uint32_t)WEXITSTATUS(st));
	}
	jg_log_debug("raw exec %s on %s: wait status %d", r->argv0, r->chain->key, st);
}

/* The response ends once ssh has exited and both output pipes are at EOF. */
static void raw_maybe_finish(struct jg_raw *r)
{
	if (!raw_running(r) || !r->exited || !r->out_eof || !r->err_eof)
		return;
	free_event(&r->drain_timer);
	status_frame(r);
}

/* One output pipe ended (EOF, error, or given up on): EOF frame, close it. */
static void raw_output_eof(struct jg_raw *r, int is_err)
{
	if (is_err) {
		r->err_eof = 1;
		free_event(&r->err_ev);
		close_fd(&r->err_fd);
	} else {
		r->out_eof = 1;
		free_event(&r->out_ev);
		close_fd(&r->out_fd);
	}
	if (raw_running(r))
		jg_execstream_put(r->es, JG_FRAME_EOF, is_err ? JG_DATA_STDERR : 0, 0, NULL, 0);
	raw_maybe_finish(r);
}

static void raw_on_output(evutil_socket_t fd, short what, void *arg)
{
	struct jg_raw *r = arg;
	int is_err = fd == r->err_fd;
	char buf[JG_FRAME_MAX_PAYLOAD];
	ssize_t n;

	(void)what;
	while (want_output(r)) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			raw_output_eof(r, is_err);
			return;
		}
		if (is_err) {
			jg_ssh_watch_stderr(&r->watch, buf, (size_t)n);
		} else if (r->tty_poll != NULL) {
			/* Output from the remote command: authentication is over. The
			 * terminal itself stays open (closing it would hang ssh up). */
			free_event(&r->tty_poll);
		}
		jg_execstream_put(r->es, JG_FRAME_DATA, is_err ? JG_DATA_STDERR : 0, 0, buf,
				  (uint32_t)n);
	}
	raw_update_reads(r);
}

/* ssh's controlling terminal (password logins): gateway/onward/sshtty.h answers the prompts. */
static void raw_on_tty_poll(evutil_socket_t fd, short what, void *arg)
{
	struct jg_raw *r = arg;

	(void)fd;
	(void)what;
	if (r->tty_fd >= 0 &&
	    jg_sshtty_answer(r->tty_fd, &r->watch, raw_ssh(r)->password, &r->password_sent,
			     r->chain->display, r->dead_reason, sizeof(r->dead_reason))) {
		free_event(&r->tty_poll);
		raw_kill(r, SIGTERM);
	}
}

static void raw_on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
	struct jg_raw *r = arg;
	struct timeval tv = {DRAIN_GRACE_S, 0};

	(void)fd;
	(void)what;
	if (!raw_running(r))
		return;
	if (!want_output(r)) {
		/* The client is slow, not the pipes: keep waiting. */
		evtimer_add(r->drain_timer, &tv);
		return;
	}
	jg_log_info("raw exec %s on %s: ssh exited but its output stayed open for %d s; "
		    "ending the stream",
		    r->argv0, r->chain->key, DRAIN_GRACE_S);
	if (!r->out_eof)
		raw_output_eof(r, 0);
	if (raw_running(r) && !r->err_eof)
		raw_output_eof(r, 1);
}

static void raw_on_exit(pid_t pid, int wstatus, void *ud)
{
	struct jg_raw *r = ud;
	struct timeval tv = {DRAIN_GRACE_S, 0};

	(void)pid;
	r->exited = 1;
	r->wstatus = wstatus;
	free_event(&r->tty_poll);
	if (raw_running(r) && !(r->out_eof && r->err_eof)) {
		r->drain_timer = evtimer_new(r->gw->base, raw_on_drain_timer, r);
		if (r->drain_timer != NULL)
			evtimer_add(r->drain_timer, &tv);
	}
	raw_maybe_finish(r);
}

/* ---- input: client -> ssh ------------------------------------------------ */

/* Give up on ssh's stdin (it exited or closed it): what is buffered is dropped and
 * credited, so the client is never stalled by a window nobody will open. */
static void raw_stdin_dead(struct jg_raw *r)
{
	size_t left = evbuffer_get_length(r->stdin_buf);

	r->stdin_dead = 1;
	free_event(&r->in_ev);
	close_fd(&r->in_fd);
	if (left > 0) {
		evbuffer_drain(r->stdin_buf, left);
		jg_stream_consume(r->stream, left);
	}
}

/* Move stdin into the pipe as far as it takes it; close it after EOF once drained. */
static void raw_pump_stdin(struct jg_raw *r)
{
	int n;

	if (!raw_running(r) || r->stdin_dead)
		return;
	while (evbuffer_get_length(r->stdin_buf) > 0) {
		n = evbuffer_write(r->stdin_buf, r->in_fd);
		if (n > 0) {
			jg_stream_consume(r->stream, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			event_add(r->in_ev, NULL);
			return;
		}
		/* EPIPE: ssh no longer reads (it is exiting). */
		jg_log_debug("raw exec %s on %s: ssh's stdin closed (%s)", r->argv0, r->chain->key,
			     n < 0 ? strerror(errno) : "no progress");
		raw_stdin_dead(r);
		return;
	}
	if (jg_execstream_stdin_eof(r->es)) {
		/* Closing the pipe is how ssh learns of the EOF (it sends the channel EOF). */
		free_event(&r->in_ev);
		close_fd(&r->in_fd);
		r->stdin_dead = 1;
	}
}

static void raw_on_stdin_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	raw_pump_stdin(arg);
}

/* The remote command line for SPEC into *OUT (malloc'd). 0, or an HTTP status with WHY. */
static int raw_cmdline(const struct jg_exec_spec *spec, char **out, char *why, size_t whylen)
{
	struct evbuffer *b = evbuffer_new();
	char *q = NULL, *cwd = NULL;
	int status = 500;
	size_t len;

	*out = NULL;
	snprintf(why, whylen, "out of memory");
	if (b == NULL)
		return 500;
	if (spec->cwd != NULL) {
		/* "./-x", not "-x": cd must not take the directory for an option. */
		if (asprintf(&cwd, "%s%s", spec->cwd[0] == '-' ? "./" : "", spec->cwd) < 0) {
			cwd = NULL;
			goto out;
		}
		if ((q = jg_sh_quote(cwd)) == NULL || evbuffer_add_printf(b, "cd %s && ", q) < 0)
			goto out;
		free(q);
		q = NULL;
	}
	if (spec->env != NULL) {
		/* env would take a program name with '=' for one more assignment. */
		if (strchr(spec->argv[0], '=') != NULL) {
			snprintf(why, whylen,
				 "raw mode cannot run a program whose name contains '=' (\"%s\") "
				 "with an environment",
				 spec->argv[0]);
			status = 400;
			goto out;
		}
		if (evbuffer_add_printf(b, "env --") < 0)
			goto out;
		for (size_t i = 0; i < spec->envc; i++) {
			if ((q = jg_sh_quote(spec->env[i])) == NULL ||
			    evbuffer_add_printf(b, " %s", q) < 0)
				goto out;
			free(q);
			q = NULL;
		}
		if (evbuffer_add(b, " ", 1) != 0)
			goto out;
	}
	for (size_t i = 0; i < spec->argc; i++) {
		if ((q = jg_sh_quote(spec->argv[i])) == NULL ||
		    evbuffer_add_printf(b, "%s%s", i > 0 ? " " : "", q) < 0)
			goto out;
		free(q);
		q = NULL;
	}
	len = evbuffer_get_length(b);
	if ((*out = malloc(len + 1)) == NULL)
		goto out;
	evbuffer_remove(b, *out, len);
	(*out)[len] = '\0';
	status = 0;
out:
	free(q);
	free(cwd);
	evbuffer_free(b);
	return status;
}

/* Spawn ssh for the command line; fds and events set up. 0, or an HTTP status with WHY. */
static int raw_spawn(struct jg_raw *r, const char *cmdline, char *why, size_t whylen)
{
	const struct jg_ssh_opts *o = raw_ssh(r);
	struct jg_spawn_opts opts = {.nofile = (int)r->gw->cfg->child_nofile};
	struct event_base *base = r->gw->base;
	struct jg_child child;
	char **argv = NULL, err[400];
	int rc;

	if ((rc = jg_ssh_argv(o, cmdline, &argv, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "cannot build the ssh command for %s: %s", r->chain->display,
			 err);
		return rc == JG_ERR_NOMEM ? 500 : 400;
	}
	opts.argv = argv;
	opts.ctty = o->password != NULL;
	jg_ssh_watch_init(&r->watch);
	rc = jg_spawn(&opts, &child, err, sizeof(err));
	jg_argv_free(argv);
	if (rc != 0) {
		snprintf(why, whylen, "cannot start ssh to %s: %s", r->chain->display, err);
		return 502;
	}
	r->pid = child.pid;
	r->in_fd = child.in_fd;
	r->out_fd = child.out_fd;
	r->err_fd = child.err_fd;
	r->tty_fd = child.tty_fd;
	snprintf(why, whylen, "out of memory");
	/* Registered in the same callback that spawned: the exit cannot be missed. */
	if (jg_reaper_watch(r->gw->reaper, r->pid, raw_on_exit, r) != 0)
		return 500;
	r->in_ev = event_new(base, r->in_fd, EV_WRITE, raw_on_stdin_writable, r);
	r->out_ev = event_new(base, r->out_fd, EV_READ | EV_PERSIST, raw_on_output, r);
	if (r->in_ev == NULL || r->out_ev == NULL)
		return 500;
	if (r->err_fd >= 0 && (r->err_ev = event_new(base, r->err_fd, EV_READ | EV_PERSIST,
						     raw_on_output, r)) == NULL)
		return 500;
	if (r->err_fd < 0)
		r->err_eof = 1;
	if (r->tty_fd >= 0) {
		/* A master with no slave open reports POLLHUP forever: poll it instead. */
		if ((r->tty_poll = jg_sshtty_poll_new(base, raw_on_tty_poll, r)) == NULL)
			return 500;
	}
	return 0;
}

/* The client's OPEN: spawn ssh for SPEC and answer 200. */
static void raw_open(void *ud, const struct jg_exec_spec *spec, const struct jg_frame *f)
{
	struct jg_raw *r = ud;
	char why[400], reason[480], *cmdline = NULL;
	int status;

	(void)f;
	snprintf(r->argv0, sizeof(r->argv0), "%s", spec->argv[0]);
	if (spec->pty) {
		snprintf(reason, sizeof(reason), "%s: raw mode has no pty", r->chain->display);
		jg_execstream_fail(r->es, 400, "raw mode has no pty", reason);
		return;
	}
	status = raw_cmdline(spec, &cmdline, why, sizeof(why));
	if (status == 0)
		status = raw_spawn(r, cmdline, why, sizeof(why));
	free(cmdline);
	if (status != 0) {
		jg_execstream_fail(r->es, status,
				   status == 400 ? "bad request" : "target unavailable", why);
		return;
	}
	if (jg_execstream_reply_ok(r->es) != 0) {
		raw_kill(r, SIGTERM);
		return;
	}
	jg_log_debug("raw exec %s on %s: ssh pid %ld", r->argv0, r->chain->key, (long)r->pid);
	raw_update_reads(r);
	raw_pump_stdin(r);
}

/* A SIGNAL frame: see the top of the file. */
static void raw_signal(void *ud, uint32_t sig)
{
	struct jg_raw *r = ud;

	switch (sig) {
	case SIGINT:
	case SIGTERM:
	case SIGHUP:
	case SIGKILL:
		if (r->pid > 0 && !r->exited) {
			jg_log_debug("raw exec %s on %s: signal %u kills the local ssh", r->argv0,
				     r->chain->key, sig);
			r->signal_sent = (int)sig;
			raw_kill(r, (int)sig);
		}
		return;
	default:
		jg_log_debug("raw exec %s on %s: signal %u cannot be forwarded without a tty",
			     r->argv0, r->chain->key, sig);
		return;
	}
}

static void raw_stdin(void *ud, const uint8_t *data, size_t len)
{
	struct jg_raw *r = ud;

	if (r->stdin_dead) {
		jg_stream_consume(r->stream, len);
		return;
	}
	evbuffer_add(r->stdin_buf, data, len);
	raw_pump_stdin(r);
}

static void raw_stdin_eof(void *ud)
{
	raw_pump_stdin(ud);
}

/* The request body failed the operation. */
static void raw_abort(void *ud)
{
	raw_kill(ud, SIGTERM);
}

static const struct jg_execstream_cbs raw_stream_cbs = {
    .on_open = raw_open,
    .on_stdin = raw_stdin,
    .on_stdin_eof = raw_stdin_eof,
    .on_signal = raw_signal,
    .on_resize = NULL, /* no pty: RESIZE is ignored */
    .on_abort = raw_abort,
};

/* ---- the operation's hooks ----------------------------------------------- */

static void raw_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	jg_execstream_body(op_raw(op)->es, data, len);
}

static void raw_on_body_end(struct jg_op *op)
{
	jg_execstream_body_end(op_raw(op)->es);
}

static void raw_on_sent(struct jg_op *op, size_t n)
{
	(void)n;
	raw_update_reads(op_raw(op));
}

/* The buffer budget is no longer exceeded: read the pipes again (if the queue has room). */
static void raw_on_budget(struct jg_op *op)
{
	raw_update_reads(op_raw(op));
}

static void raw_on_close(struct jg_op *op, const char *why)
{
	struct jg_raw *r = op_raw(op);

	if (jg_execstream_state(r->es) != JG_EXECSTREAM_DONE)
		jg_log_info("raw exec %s on %s: stream ended before the program (%s)", r->argv0,
			    r->chain->key, why);
	raw_free(r); /* the exec stream counts it as no longer current */
}

static const struct jg_op_cbs raw_op_cbs = {
    .on_body = raw_on_body,
    .on_body_end = raw_on_body_end,
    .on_sent = raw_on_sent,
    .on_budget = raw_on_budget,
    .on_close = raw_on_close,
};

struct jg_op *jg_raw_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm)
{
	struct jg_raw *r = calloc(1, sizeof(*r));
	const struct jg_chain *chain = adm->chain;

	if (r == NULL) {
		jg_admit_close(adm, "failed", "");
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	r->adm = adm;
	r->chain = chain;
	r->in_fd = r->out_fd = r->err_fd = r->tty_fd = -1;
	if (chain->nhops != 1) {
		jg_log_info("raw exec on %s by %s refused: several hops", chain->key,
			    jg_stream_identity(s));
		jg_stream_reply_error(s, 400, "bad target",
				      "raw mode runs over one ssh hop only; chains of several "
				      "hops are not supported");
		raw_free(r);
		return NULL;
	}
	/* The exec stream last: it counts the exec in the stats. */
	if ((r->stdin_buf = evbuffer_new()) == NULL ||
	    (r->es = jg_execstream_new(gw, s, "raw exec", chain->key, &raw_stream_cbs, r)) ==
		NULL) {
		raw_free(r);
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	jg_execstream_admit(r->es, r->adm);
	r->op.cbs = &raw_op_cbs;
	r->gw = gw;
	r->stream = s;
	return &r->op;
}
