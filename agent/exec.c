/* Exec channels: one child per channel, its stdio bridged to the link by a pump
 * (agent/pump.h: reads bounded by the window and JG_AGENT_OUT_HIGH, credit only
 * for bytes the child's stdin took, EOF each way).  What is left here is the
 * child: spawning it, signals, the terminal size, and its exit status.
 *
 * Lifetime: a channel ends when the child is reaped and both output streams
 * reached EOF (then EXIT is sent, so no output is lost), or when it is
 * abandoned (CLOSE, DEAD, shutdown): then nothing more is sent, the process
 * group is killed and the channel is freed once the child is reaped.  Every
 * fd is closed when the channel is freed. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent/agent.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/reaper.h"
#include "relay/spawn.h"
#include "relay/spec.h"

extern char **environ;

struct jg_agent_exec {
	struct jg_agent_chan chan; /* first: the link's channel user data */
	LIST_ENTRY(jg_agent_exec) entry;
	struct jg_agent *a;
	uint32_t ch;
	pid_t pid;
	int pty;
	/* The child's stdin, stdout and stderr; with a pty, stdin is the master and
	 * stdout a dup of it.  NULL once abandoned. */
	struct jg_apump *pump;
	int reaped;
	int wstatus;
	int abandoned; /* the link forgot the channel (or we are exiting): send nothing */
};

static void exec_free(struct jg_agent_exec *x)
{
	struct jg_agent *a = x->a;

	LIST_REMOVE(x, entry);
	a->nexecs--;
	if (!x->reaped)
		jg_reaper_forget(a->reaper, x->pid);
	jg_apump_free(x->pump);
	free(x);
	jg_agent_check_done(a);
}

/* Signal the child's process group (it is a session leader, so pgid == pid);
 * fall back to the child alone if the group is already gone. */
static void exec_kill(struct jg_agent_exec *x, int sig)
{
	if (kill(-x->pid, sig) != 0 && !x->reaped)
		kill(x->pid, sig);
}

/* Send EXIT and free the channel once nothing more can come; frees X when it returns 1. */
static int exec_maybe_finish(struct jg_agent_exec *x)
{
	struct jg_agent *a = x->a;
	uint8_t flags = 0;
	uint32_t code;
	int r;

	if (!x->reaped)
		return 0;
	if (x->abandoned) {
		exec_free(x);
		return 1;
	}
	if (x->pump != NULL && jg_apump_reading(x->pump) > 0)
		return 0;
	if (WIFSIGNALED(x->wstatus)) {
		flags = JG_EXIT_SIGNALED;
		if (WCOREDUMP(x->wstatus))
			flags |= JG_EXIT_CORE;
		code = (uint32_t)WTERMSIG(x->wstatus);
	} else {
		code = (uint32_t)WEXITSTATUS(x->wstatus);
	}
	jg_log_debug("channel %u: pid %ld exit flags %u code %u", x->ch, (long)x->pid, flags, code);
	if ((r = jg_link_send_exit(a->link, x->ch, flags, code)) != 0)
		jg_log_warn("channel %u: cannot send EXIT: %s", x->ch, jg_strerror(r));
	exec_free(x);
	return 1;
}

static void exec_on_exit(pid_t pid, int wstatus, void *ud)
{
	struct jg_agent_exec *x = ud;

	x->reaped = 1;
	x->wstatus = wstatus;
	exec_maybe_finish(x);
}

static void exec_on_pump(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which,
			 int err, void *ud)
{
	struct jg_agent_exec *x = ud;

	switch (ev) {
	case JG_APUMP_OUT_EOF:
	case JG_APUMP_READ_FAILED: /* not with JG_APUMP_READ_ERROR_IS_EOF */
		/* EIO on a pty master: every slave fd is closed, the terminal's EOF. */
		if (err != 0 && !(x->pty && err == EIO))
			jg_log_warn("channel %u: reading %s of pid %ld: %s", x->ch,
				    which == JG_APUMP_ERR ? "stderr" : "stdout", (long)x->pid,
				    strerror(err));
		exec_maybe_finish(x);
		return;
	case JG_APUMP_WRITE_FAILED:
		if (err != EPIPE)
			jg_log_warn("channel %u: writing stdin of pid %ld: %s", x->ch, (long)x->pid,
				    strerror(err));
		return;
	case JG_APUMP_IN_DONE:
		/* With a pty, closing our write dup does not hang the terminal up (as with
		 * sshd, EOF on a pty session is not delivered). */
		return;
	}
}

/* Environment for the child: ours (the target account's), with the spec's KEY=VALUE
 * entries added or replacing ours (as ssh's SetEnv does: a caller setting LC_ALL must not
 * lose PATH), and TERM set for a pty.  Only the array is allocated; strings are borrowed. */
static int env_overridden(const struct jg_exec_spec *spec, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < spec->envc; i++)
		if (strncmp(spec->env[i], kv, klen) == 0 && spec->env[i][klen] == '=')
			return 1;
	return 0;
}

static char **exec_build_env(const struct jg_exec_spec *spec, char *term)
{
	size_t n = 0, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + spec->envc + 2, sizeof(*env))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "TERM=", 5) != 0 && !env_overridden(spec, environ[i]))
			env[j++] = environ[i];
	for (size_t i = 0; i < spec->envc; i++)
		if (strncmp(spec->env[i], "TERM=", 5) != 0 || term == NULL)
			env[j++] = spec->env[i];
	if (term != NULL)
		env[j++] = term;
	env[j] = NULL;
	return env;
}

/* The spec's cwd, else $HOME when it is a directory, else stay where we are. */
static const char *exec_cwd(const struct jg_exec_spec *spec)
{
	const char *home = getenv("HOME");
	struct stat st;

	if (spec->cwd != NULL)
		return spec->cwd;
	if (home != NULL && home[0] == '/' && stat(home, &st) == 0 && S_ISDIR(st.st_mode))
		return home;
	return NULL;
}

static int exec_setup(struct jg_agent *a, struct jg_agent_exec *x, const struct jg_child *c)
{
	struct jg_apump_opts o = {
	    .fd = {c->in_fd, c->out_fd, c->err_fd},
	    .in_end = JG_APUMP_IN_CLOSE,
	    .flags = JG_APUMP_READ_ERROR_IS_EOF,
	    .cb = exec_on_pump,
	    .ud = x,
	};

	if ((x->pump = jg_apump_new(&a->pumps, x->ch, &o)) == NULL) {
		close(c->in_fd);
		close(c->out_fd);
		if (c->err_fd >= 0)
			close(c->err_fd);
		return JG_ERR_NOMEM;
	}
	return jg_reaper_watch(a->reaper, x->pid, exec_on_exit, x);
}

static void exec_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
static void exec_writable(struct jg_agent *a, struct jg_agent_chan *c);
static void exec_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);

static const struct jg_agent_chan_cbs exec_cbs = {
    .frame = exec_frame,
    .writable = exec_writable,
    .dead = exec_dead,
};

void jg_agent_exec_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f)
{
	struct jg_exec_spec spec;
	struct jg_spawn_opts opts;
	struct jg_child child;
	struct jg_agent_exec *x = NULL;
	char reason[512], why[400], *term = NULL, **env = NULL;
	int r;

	if ((r = jg_exec_spec_decode(f->payload, f->length, &spec, why, sizeof(why))) != 0) {
		snprintf(reason, sizeof(reason), "bad exec spec: %s", why);
		jg_log_warn("channel %u: %s", ch, reason);
		goto reject;
	}
	memset(&opts, 0, sizeof(opts));
	opts.argv = spec.argv;
	opts.envp = NULL; /* inherit ours unless the spec adds to it or a pty sets TERM */
	opts.cwd = exec_cwd(&spec);
	opts.pty = spec.pty;
	opts.rows = spec.rows;
	opts.cols = spec.cols;
	opts.exec_status = 1; /* "not found" is the program's status 127, as under ssh */
	if (spec.pty && spec.term != NULL && asprintf(&term, "TERM=%s", spec.term) < 0) {
		term = NULL;
		goto nomem;
	}
	if (term != NULL || spec.envc > 0) {
		if ((env = exec_build_env(&spec, term)) == NULL)
			goto nomem;
		opts.envp = env;
	}
	if ((r = jg_spawn(&opts, &child, reason, sizeof(reason))) != 0) {
		jg_log_info("channel %u: %s", ch, reason);
		goto reject;
	}
	jg_log_debug("channel %u: pid %ld runs %s%s", ch, (long)child.pid, spec.argv[0],
		     spec.pty ? " on a pty" : "");

	if ((x = calloc(1, sizeof(*x))) != NULL)
		x->chan.cbs = &exec_cbs;
	if (x == NULL) {
		/* Nobody watches it: the reaper collects it silently once killed. */
		kill(-child.pid, SIGKILL);
		close(child.in_fd);
		close(child.out_fd);
		if (child.err_fd >= 0)
			close(child.err_fd);
		goto nomem;
	}
	x->a = a;
	x->ch = ch;
	x->pid = child.pid;
	x->pty = spec.pty;
	LIST_INSERT_HEAD(&a->execs, x, entry);
	a->nexecs++;
	if (exec_setup(a, x, &child) != 0) {
		/* Take it back down; unwatched, the reaper collects it silently. */
		exec_kill(x, SIGKILL);
		exec_free(x);
		goto nomem;
	}
	if ((r = jg_link_accept(a->link, ch, x)) != 0) {
		jg_log_error("channel %u: cannot accept: %s", ch, jg_strerror(r));
		exec_kill(x, SIGKILL);
		exec_free(x);
		goto out;
	}
	jg_apump_start(x->pump);
	goto out;

nomem:
	snprintf(reason, sizeof(reason), "cannot run %s: out of memory",
		 spec.argv != NULL ? spec.argv[0] : "program");
	jg_log_error("channel %u: %s", ch, reason);
reject:
	if ((r = jg_link_reject(a->link, ch, reason)) != 0)
		jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
out:
	free(env);
	free(term);
	jg_exec_spec_clear(&spec);
}

/* Nothing more goes to the gateway for X; kill its group; free it once reaped. */
static void exec_abandon(struct jg_agent_exec *x, int sig)
{
	if (!x->abandoned) {
		x->abandoned = 1;
		jg_apump_free(x->pump);
		x->pump = NULL;
	}
	exec_kill(x, sig);
	exec_maybe_finish(x);
}

static void exec_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f)
{
	struct jg_agent_exec *x = (struct jg_agent_exec *)c;

	struct winsize ws;
	int fd;

	if (x->abandoned || jg_apump_frame(x->pump, f))
		return; /* DATA and EOF are the pump's */
	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_SIGNAL:
		if (f->aux < 1 || f->aux > 64) {
			jg_log_warn("channel %u: ignoring SIGNAL %u (not 1..64)", x->ch, f->aux);
			return;
		}
		if (!x->reaped && kill(x->pid, (int)f->aux) != 0)
			jg_log_warn("channel %u: kill(%ld, %u): %s", x->ch, (long)x->pid, f->aux,
				    strerror(errno));
		return;
	case JG_FRAME_RESIZE:
		if ((fd = jg_apump_fd(x->pump, JG_APUMP_OUT)) < 0)
			fd = jg_apump_fd(x->pump, JG_APUMP_IN);
		if (!x->pty || fd < 0)
			return;
		memset(&ws, 0, sizeof(ws));
		ws.ws_row = (unsigned short)(f->aux >> 16);
		ws.ws_col = (unsigned short)(f->aux & 0xffff);
		if (ioctl(fd, TIOCSWINSZ, &ws) != 0)
			jg_log_warn("channel %u: resize: %s", x->ch, strerror(errno));
		return;
	case JG_FRAME_CLOSE:
		/* The link forgets the channel when we return: nothing more may be sent. */
		jg_log_debug("channel %u: closed by the gateway", x->ch);
		exec_abandon(x, SIGKILL);
		return;
	case JG_FRAME_DATA:
	case JG_FRAME_EOF:
	case JG_FRAME_HELLO:
	case JG_FRAME_OPEN:
	case JG_FRAME_OPEN_OK:
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_WINDOW:
	case JG_FRAME_EXIT:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
	case JG_FRAME_DEAD:
		break;
	}
	jg_log_debug("channel %u: ignoring %s", x->ch, jg_frame_type_name(f->type));
}

static void exec_writable(struct jg_agent *a, struct jg_agent_chan *c)
{
	struct jg_agent_exec *x = (struct jg_agent_exec *)c;

	if (x->pump != NULL)
		jg_apump_writable(x->pump);
}

static void exec_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason)
{
	struct jg_agent_exec *x = (struct jg_agent_exec *)c;

	jg_log_info("channel %u: dead: %s", x->ch, reason);
	exec_abandon(x, SIGKILL);
}

void jg_agent_exec_abandon_all(struct jg_agent *a, int sig)
{
	struct jg_agent_exec *x, *next;

	for (x = LIST_FIRST(&a->execs); x != NULL; x = next) {
		next = LIST_NEXT(x, entry);
		/* The link still knows the channel; make sure it can never hand us X again. */
		if (!x->abandoned)
			jg_link_set_channel_ud(a->link, x->ch, NULL);
		exec_abandon(x, sig);
	}
}

void jg_agent_exec_signal_all(struct jg_agent *a, int sig)
{
	struct jg_agent_exec *x;

	for (x = LIST_FIRST(&a->execs); x != NULL; x = LIST_NEXT(x, entry))
		if (!x->reaped)
			exec_kill(x, sig);
}

void jg_agent_exec_free_all(struct jg_agent *a)
{
	while (!LIST_EMPTY(&a->execs))
		exec_free(LIST_FIRST(&a->execs));
}
