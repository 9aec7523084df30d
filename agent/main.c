/* jumpgate-agent: main(), the link transport on stdin/stdout, and shutdown.
 *
 * Frames from the gateway arrive on fd 0 and are fed to the link session;
 * whatever the session queues is written to fd 1 whenever it is writable.
 * Shutdown (stdin EOF, stdout failure, SIGTERM, a protocol error): stop
 * reading, hang up every child's process group, SIGKILL after
 * AGENT_KILL_AFTER, exit once all are reaped -- or at AGENT_DEADLINE anyway. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent/agent.h"
#include "agent/trampoline.h"
#include "relay/err.h"
#include "relay/heap.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/reaper.h"
#include "relay/spawn.h"

#define AGENT_KILL_AFTER 2 /* seconds from SIGHUP to SIGKILL */
#define AGENT_DEADLINE 5   /* seconds from shutdown to exit, children or not */
#define AGENT_READ_SIZE (JG_FRAME_LINK_PAYLOAD + JG_FRAME_HEADER_LEN)

static const char agent_usage[] =
    "usage: jumpgate-agent [--log-level LEVEL]\n"
    "       jumpgate-agent [--log-level LEVEL] --setns=KIND:WHAT [--setns-user=USER]\n"
    "                      [--setns-tool-path=PATH] [--setns-lxc-path=DIR]\n"
    "                      [-- COMMAND [ARG...]]\n"
    "       jumpgate-agent [--log-level LEVEL] --askpass-tty [-- COMMAND [ARG...]]\n"
    "       jumpgate-agent --version | --help\n"
    "\n"
    "jumpgate-agent runs on a target host on behalf of jumpgated, the jumpgate\n"
    "gateway.  The gateway starts it over an onward connection (ssh, lxc-attach,\n"
    "kubectl exec, ...) and speaks the jumpgate frame protocol with it on its\n"
    "standard input and output: the agent answers HELLO, then runs the programs\n"
    "the gateway opens channels for, relaying their stdin, stdout, stderr and\n"
    "exit status with per-channel flow control.  It is not for interactive use.\n"
    "\n"
    "When its standard input closes, the agent hangs up every child's process\n"
    "group, kills what remains after 2 seconds and exits.  Diagnostics go to\n"
    "standard error, which the gateway records in its log.\n"
    "\n"
    "options:\n"
    "  --log-level LEVEL  error, warn, info (default) or debug\n"
    "  --version          print the version and exit\n"
    "  --help             print this text and exit\n"
    "\n"
    "trampoline modes (at most one): the agent does one job first, then runs\n"
    "COMMAND in its place or, without \"--\", goes on as the agent itself.  A\n"
    "failure is one line \"jumpgate-stub: error WORD DETAIL\" on standard output\n"
    "and exit status 1 (WORD is setns or password).\n"
    "  --setns=KIND:WHAT  enter, with setns(2), the namespaces (user, cgroup, ipc,\n"
    "                     uts, net, pid, mnt) and the root directory of a process:\n"
    "                     pid:N, or the first process of a container, asked of\n"
    "                     its manager: docker:NAME (docker inspect), lxc:NAME\n"
    "                     (lxc-info) or machinectl:NAME (machinectl show).  Needs\n"
    "                     root.  COMMAND, or the agent, runs in a child forked\n"
    "                     inside; this process waits outside, forwards SIGTERM,\n"
    "                     SIGINT and SIGHUP to it and exits with its status\n"
    "                     (128 + N when killed by signal N).\n"
    "  --setns-user=USER  run as USER, with the groups, HOME and SHELL of the\n"
    "                     container's own /etc/passwd and /etc/group (default\n"
    "                     root); HOME, SHELL, LOGNAME and USER are set, and the\n"
    "                     working directory is HOME (or /).\n"
    "  --setns-tool-path=PATH\n"
    "                     the docker, lxc-info or machinectl program to ask\n"
    "                     (default: found in PATH); it gets 10 seconds.\n"
    "  --setns-lxc-path=DIR\n"
    "                     lxc-info's -P: the lxc path of an lxc:NAME container.\n"
    "  --askpass-tty      read one line, a password, from standard input; run\n"
    "                     COMMAND with a new pseudo-terminal as its controlling\n"
    "                     terminal (its standard input, output and error stay\n"
    "                     what they are) and answer its first password prompt\n"
    "                     there; copy anything else it shows there to standard\n"
    "                     error, and exit with its status.  A second prompt\n"
    "                     means the password was refused.\n";

void jg_agent_check_done(struct jg_agent *a)
{
	if (!a->shutting_down || a->nexecs > 0)
		return;
	if (!a->pumps.dead && evbuffer_get_length(jg_link_output(a->link)) > 0)
		return; /* flush what is queued (a DEAD reason) first, within the deadline */
	event_base_loopexit(a->base, NULL);
}

/* Enter shutdown once: stop reading the gateway, signal every child with SIG. */
static void agent_shutdown(struct jg_agent *a, int code, int sig)
{
	struct timeval kill_after = {AGENT_KILL_AFTER, 0}, deadline = {AGENT_DEADLINE, 0};

	if (a->shutting_down)
		return;
	a->shutting_down = 1;
	a->exit_code = code;
	event_del(a->ev_in);
	jg_agent_tunnel_free_all(a);
	jg_agent_file_free_all(a);
	jg_agent_exec_abandon_all(a, sig);
	if (a->nexecs > 0 && sig != SIGKILL)
		event_add(a->ev_kill, &kill_after);
	event_add(a->ev_deadline, &deadline);
	jg_agent_check_done(a);
}

/* The link broke (a protocol error from the gateway): say why, then go. */
static void agent_link_failed(struct jg_agent *a)
{
	const char *reason = jg_link_error(a->link);

	if (reason == NULL)
		reason = "link failed";
	jg_log_error("link from the gateway failed: %s", reason);
	/* The session has already queued DEAD (channel 0, this reason) for a protocol
	 * error, and killed every channel through on_dead; what is left is to flush it. */
	agent_shutdown(a, 1, SIGKILL);
}

static void agent_on_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent *a = arg;
	ssize_t n;

	n = jg_fd_read_evbuffer(fd, a->in, AGENT_READ_SIZE);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		jg_log_error("reading from the gateway: %s", strerror(errno));
		agent_shutdown(a, 1, SIGHUP);
		return;
	}
	if (n == 0) {
		if (a->nexecs > 0)
			jg_log_info("the gateway closed the link; stopping %zu channel(s)",
				    a->nexecs);
		agent_shutdown(a, 0, SIGHUP);
		return;
	}
	if (jg_link_feed_evbuffer(a->link, a->in) != 0 || jg_link_error(a->link) != NULL)
		agent_link_failed(a);
}

static void agent_on_stdout(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent *a = arg;
	struct evbuffer *out = jg_link_output(a->link);
	int n;

	n = evbuffer_write(out, fd);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		if (errno != EPIPE)
			jg_log_error("writing to the gateway: %s", strerror(errno));
		a->pumps.dead = 1;
		event_del(a->ev_out);
		evbuffer_drain(out, evbuffer_get_length(out));
		agent_shutdown(a, a->shutting_down ? a->exit_code : 0, SIGHUP);
		jg_agent_check_done(a);
		return;
	}
	if (evbuffer_get_length(out) == 0) {
		event_del(a->ev_out);
		jg_agent_check_done(a);
	} else if (!a->out_grown) {
		/* The gateway's pipe is full: each 64 KiB of it would cost us a wake-up. */
		a->out_grown = 1;
		jg_pipe_grow(fd);
	}
	jg_apump_host_resume(&a->pumps);
}

/* Whenever the session queues bytes, make sure fd 1 is being watched.  Hooking the
 * output buffer saves every caller of jg_link_* from remembering to do it. */
static void agent_on_output_queued(struct evbuffer *buf, const struct evbuffer_cb_info *info,
				   void *arg)
{
	struct jg_agent *a = arg;

	if (info->n_added > 0 && !a->pumps.dead && !event_pending(a->ev_out, EV_WRITE, NULL))
		event_add(a->ev_out, NULL);
}

static void agent_on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent *a = arg;

	jg_log_warn("%zu child(ren) still running after SIGHUP: sending SIGKILL", a->nexecs);
	jg_agent_exec_signal_all(a, SIGKILL);
}

static void agent_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent *a = arg;

	if (a->nexecs > 0)
		jg_log_warn("exiting with %zu child(ren) not reaped", a->nexecs);
	event_base_loopexit(a->base, NULL);
}

static void agent_on_sigterm(evutil_socket_t fd, short what, void *arg)
{
	jg_log_info("SIGTERM: shutting down");
	agent_shutdown(arg, 0, SIGHUP);
}

static void agent_on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	jg_log_debug("gateway hello: version %u, max payload %u, window %u", h->version,
		     h->max_payload, h->window);
}

static void agent_on_open(struct jg_link *l, uint32_t ch, const struct jg_frame *f, void *ud)
{
	struct jg_agent *a = ud;
	int r;

	switch (f->aux) {
	case JG_OPEN_EXEC:
		jg_agent_exec_open(a, ch, f);
		return;
	case JG_OPEN_TUNNEL:
		jg_agent_tunnel_open(a, ch, f);
		return;
	case JG_OPEN_PUT:
	case JG_OPEN_GET:
	case JG_OPEN_STAT:
		jg_agent_file_open(a, ch, f);
		return;
	}
	if ((r = jg_link_reject(l, ch, "unsupported operation")) != 0)
		jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
}

static void agent_on_frame(struct jg_link *l, uint32_t ch, void *chan_ud, const struct jg_frame *f,
			   void *ud)
{
	struct jg_agent_chan *c = chan_ud;

	if (c != NULL)
		c->cbs->frame(ud, c, f);
}

static void agent_on_writable(struct jg_link *l, uint32_t ch, void *chan_ud, void *ud)
{
	struct jg_agent_chan *c = chan_ud;

	if (c != NULL)
		c->cbs->writable(ud, c);
}

static void agent_on_dead(struct jg_link *l, uint32_t ch, void *chan_ud, const char *reason,
			  void *ud)
{
	struct jg_agent_chan *c = chan_ud;

	if (c != NULL)
		c->cbs->dead(ud, c, reason);
}

/* The value of option NAME at argv[*i] ("NAME=VALUE" or "NAME VALUE", which
 * moves *i on), else NULL. */
static const char *agent_opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Options into T (trampoline.h); -1 to go on, else the status to exit with. */
static int agent_parse_args(int argc, char **argv, struct jg_tramp *t)
{
	const char *v;
	int level;

	for (int i = 1; i < argc; i++) {
		const int at = i;
		const char **slot = NULL;

		if (strcmp(argv[i], "--version") == 0) {
			printf("jumpgate-agent %s (protocol %u)\n", PACKAGE_VERSION,
			       JG_PROTOCOL_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(agent_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc &&
		    (level = jg_log_level_parse(argv[i + 1])) >= 0) {
			jg_log_set_level((enum jg_log_level)level);
			i++;
			continue;
		}
		if (strcmp(argv[i], "--askpass-tty") == 0 && t->mode == JG_TRAMP_NONE) {
			t->mode = JG_TRAMP_ASKPASS;
			continue;
		}
		if (strcmp(argv[i], "--") == 0 && t->mode != JG_TRAMP_NONE && i + 1 < argc) {
			t->argv = argv + i + 1; /* the rest is the command's */
			break;
		}
		if ((v = agent_opt_value(argc, argv, &i, "--setns")) != NULL)
			slot = t->mode == JG_TRAMP_NONE ? &t->setns_target : NULL;
		else if ((v = agent_opt_value(argc, argv, &i, "--setns-user")) != NULL)
			slot = &t->setns_user;
		else if ((v = agent_opt_value(argc, argv, &i, "--setns-tool-path")) != NULL)
			slot = &t->setns_tool_path;
		else if ((v = agent_opt_value(argc, argv, &i, "--setns-lxc-path")) != NULL)
			slot = &t->setns_lxc_path;
		if (slot != NULL && *slot == NULL && *v != '\0') {
			*slot = v;
			if (slot == &t->setns_target)
				t->mode = JG_TRAMP_SETNS;
			continue;
		}
		/* Unknown, repeated, empty, or a second trampoline mode. */
		fprintf(stderr, "jumpgate-agent: bad argument '%s'\n%s", argv[at], agent_usage);
		return 2;
	}
	if (t->mode != JG_TRAMP_SETNS && (t->setns_user != NULL || t->setns_tool_path != NULL)) {
		fprintf(stderr,
			"jumpgate-agent: --setns-user and --setns-tool-path go with --setns\n%s",
			agent_usage);
		return 2;
	}
	return -1;
}

static int agent_setup(struct jg_agent *a)
{
	static const struct jg_link_cbs cb = {
	    .on_hello = agent_on_hello,
	    .on_open = agent_on_open,
	    .on_frame = agent_on_frame,
	    .on_writable = agent_on_writable,
	    .on_dead = agent_on_dead,
	};
	struct utsname u;
	int r;

	LIST_INIT(&a->execs);
	/* Our stdio is the link: never inherited by children, never blocking the loop. */
	if (jg_fd_prepare(STDIN_FILENO) != 0 || jg_fd_prepare(STDOUT_FILENO) != 0) {
		jg_log_error("cannot set up stdin/stdout: %s", strerror(errno));
		return JG_ERR_IO;
	}
	if ((a->base = event_base_new()) == NULL || (a->reaper = jg_reaper_new(a->base)) == NULL ||
	    (a->link = jg_link_new(JG_LINK_ACCEPTOR, &cb, a)) == NULL ||
	    (a->in = evbuffer_new()) == NULL)
		goto nomem;
	jg_apump_host_init(&a->pumps, a->base, a->link, JG_AGENT_OUT_HIGH);
	a->ev_in = event_new(a->base, STDIN_FILENO, EV_READ | EV_PERSIST, agent_on_stdin, a);
	a->ev_out = event_new(a->base, STDOUT_FILENO, EV_WRITE | EV_PERSIST, agent_on_stdout, a);
	a->ev_kill = evtimer_new(a->base, agent_on_kill_timer, a);
	a->ev_deadline = evtimer_new(a->base, agent_on_deadline, a);
	a->ev_term = evsignal_new(a->base, SIGTERM, agent_on_sigterm, a);
	if (a->ev_in == NULL || a->ev_out == NULL || a->ev_kill == NULL || a->ev_deadline == NULL ||
	    a->ev_term == NULL)
		goto nomem;
	if (evbuffer_add_cb(jg_link_output(a->link), agent_on_output_queued, a) == NULL)
		goto nomem;
	if (event_add(a->ev_in, NULL) != 0 || evsignal_add(a->ev_term, NULL) != 0)
		goto nomem;
	if (uname(&u) != 0)
		snprintf(u.machine, sizeof(u.machine), "unknown");
	if ((r = jg_link_send_hello(a->link, u.machine)) != 0) {
		jg_log_error("cannot queue HELLO: %s", jg_strerror(r));
		return r;
	}
	return 0;
nomem:
	jg_log_error("cannot start: out of memory");
	return JG_ERR_NOMEM;
}

static void agent_cleanup(struct jg_agent *a)
{
	struct event *evs[] = {a->ev_in, a->ev_out, a->ev_kill, a->ev_deadline, a->ev_term};

	if (a->link != NULL) {
		jg_agent_tunnel_free_all(a);
		jg_agent_file_free_all(a);
		jg_agent_exec_free_all(a);
	}
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (a->link != NULL)
		jg_link_free(a->link);
	if (a->in != NULL)
		evbuffer_free(a->in);
	jg_reaper_free(a->reaper);
	if (a->base != NULL)
		event_base_free(a->base);
}

int main(int argc, char **argv)
{
	struct jg_tramp t = {.mode = JG_TRAMP_NONE};
	struct jg_agent a;
	int r;

	jg_log_init("jumpgate-agent", JG_LOG_INFO);
	if ((r = agent_parse_args(argc, argv, &t)) >= 0)
		return r;
	/* A trampoline mode first: it may exec a command, or exit with the status of
	 * the child that went on as the agent; only that child gets past here. */
	if ((r = jg_tramp_run(&t)) != JG_TRAMP_CONTINUE)
		return r;
	/* Bulk channels allocate and free frame-sized buffers all the time (relay/heap.h; a
	 * 256 MiB upload made 1,286 brk calls): keep up to 8 MiB free. */
	jg_heap_tune(8 << 20, 1 << 20);
	/* A gateway that goes away must show up as EPIPE on a write, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		jg_log_warn("stdin is a terminal: this program speaks the jumpgate frame protocol "
			    "and is started by jumpgated (see --help)");

	memset(&a, 0, sizeof(a));
	a.journal_fd = -1;
	if ((r = agent_setup(&a)) != 0) {
		a.exit_code = 1;
		goto out;
	}
	jg_agent_file_sweep_dead();
	if (event_base_dispatch(a.base) < 0) {
		jg_log_error("event loop failed");
		a.exit_code = 1;
	}
out:
	agent_cleanup(&a);
	return a.exit_code;
}
