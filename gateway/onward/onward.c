/* Onward methods as the pool sees them: how each starts its process, what its
 * stderr and terminal say, and how the agent gets there.
 *
 *  local  jumpgate-agent runs on the bastion; its stderr joins ours.
 *  ssh    `ssh ... sh -c '<stub>'`: the stub execs a cached agent or asks for
 *         one (relay/bootstrap.h).  ssh's stderr is captured for the failure
 *         reason.  With a password, ssh's controlling terminal is a PTY of
 *         its own (its stdio stay pipes, so frames never cross a line
 *         discipline); the terminal is polled while connecting because a
 *         master with no slave open reports POLLHUP forever. */
#include "config.h" /* _GNU_SOURCE: asprintf */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/onward/agentfwd.h"
#include "gateway/onward/agentlink_impl.h"
#include "gateway/gateway.h"
#include "gateway/onward/sshtty.h"
#include "relay/bootstrap.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/ssh.h"

/* The first hop that is not "local": what the connection starts with. */
static const struct jg_hop *first_hop(const struct jg_onward *al)
{
	const struct jg_chain *c = al->chain;

	return c->nhops > 1 && c->hops[0].method == JG_METHOD_LOCAL ? &c->hops[1] : &c->hops[0];
}

/* A password line for the agent or tool that reads it from stdin. */
static void send_password(struct jg_onward *al, int hop)
{
	const struct jg_hop *h = &al->chain->hops[hop];
	const char *pw = h->method == JG_METHOD_SSH ? h->ssh.password : h->o.password;

	if (pw == NULL || evbuffer_add(al->boot_out, pw, strlen(pw)) != 0 ||
	    evbuffer_add(al->boot_out, "\n", 1) != 0) {
		jg_onward_die(al, JG_LOG_ERROR, "out of memory queueing a password");
		return;
	}
	jg_log_debug("%s: answering the password prompt of hop %d", al->chain->display, hop + 1);
	jg_onward_write(al);
}

extern char **environ;

/* A chain forwarding a controller's agent (gateway/onward/agentfwd.h): its private socket, the
 * environment naming it, and ssh told to use it.  The first ssh hop is changed in the
 * link's own copy of the chain. */
static int agent_prepare(struct jg_onward *al, struct jg_spawn_opts *opts, char *err, size_t errlen)
{
	struct jg_chain *c = al->chain;
	struct jg_hop *hop = (struct jg_hop *)first_hop(al);
	size_t n = 0, k = 0;
	char **env;

	if (hop->method != JG_METHOD_SSH) {
		snprintf(err, errlen, "only ssh uses a forwarded agent");
		return JG_ERR_INVAL;
	}
	if (al->agentsock == NULL &&
	    (al->agentsock =
		 jg_agentsock_new(al->gw, c->key, c->agent_owner, c->agent, err, errlen)) == NULL)
		return JG_ERR_IO;
	if (jg_agentfwd_ssh_opts(&hop->ssh, c->agent) != 0)
		goto nomem;
	for (; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SSH_AUTH_SOCK=", 14) != 0 &&
		    (env[k++] = strdup(environ[i])) == NULL)
			goto nomem_env;
	if (asprintf(&env[k], "SSH_AUTH_SOCK=%s", jg_agentsock_path(al->agentsock)) < 0) {
		env[k] = NULL;
		goto nomem_env;
	}
	opts->envp = env;
	return 0;
nomem_env:
	jg_argv_free(env);
nomem:
	snprintf(err, errlen, "out of memory");
	return JG_ERR_NOMEM;
}

int jg_onward_spawn(struct jg_onward *al, struct jg_child *child, char *err, size_t errlen)
{
	const struct jg_gateway *gw = al->gw;
	const struct jg_chain *c = al->chain;
	const struct jg_hop *hop = first_hop(al);
	struct jg_spawn_opts opts = {.nofile = (int)gw->cfg->child_nofile};
	struct jg_chain_cmd cmd;
	int r;

	if (hop->method == JG_METHOD_TUNNEL) {
		/* No agent behind it: only gateway/ops/tunnel.c uses such a target. */
		snprintf(err, errlen, "%s is a tunnel target: it carries tunnels only", c->display);
		return JG_ERR_INVAL;
	}
	if (gw->boot_stub == NULL && hop->method != JG_METHOD_LOCAL) {
		snprintf(err, errlen, "the gateway has no agent binary to send (see agent_path)");
		return JG_ERR_NOTFOUND;
	}
	if (c->agent != 0 && (r = agent_prepare(al, &opts, err, errlen)) != 0)
		return r;
	if ((r = jg_chain_argv(c->hops, c->nhops, gw->agent_path,
			       gw->boot_stub != NULL ? gw->boot_stub : "", &cmd, err, errlen)) !=
	    0) {
		jg_argv_free((char **)opts.envp);
		return r;
	}
	al->plain_local = cmd.direct_agent && cmd.argv[1] == NULL;
	al->direct_agent = cmd.direct_agent;
	memcpy(al->askpass, cmd.askpass, sizeof(al->askpass));
	opts.argv = cmd.argv;
	/* The agent's own log joins ours; anything else's stderr is read for reasons. */
	opts.keep_stderr = al->plain_local;
	opts.ctty = hop->method == JG_METHOD_SSH && hop->ssh.password != NULL;
	jg_ssh_watch_init(&al->watch);
	jg_hop_watch_init(&al->hwatch, c->hops, c->nhops);
	if (!al->plain_local) {
		al->boot = jg_boot_new();
		al->boot_out = evbuffer_new();
		if (al->boot == NULL || al->boot_out == NULL) {
			snprintf(err, errlen, "out of memory");
			jg_argv_free(cmd.argv);
			jg_argv_free((char **)opts.envp);
			return JG_ERR_NOMEM;
		}
		jg_boot_set_stages(al->boot, cmd.nstubs);
	}
	r = jg_spawn(&opts, child, err, errlen);
	jg_argv_free(cmd.argv);
	jg_argv_free((char **)opts.envp);
	if (r == 0 && al->agentsock != NULL)
		jg_agentsock_set_pid(al->agentsock, child->pid);
	if (r == 0 && cmd.direct_agent && al->askpass[0] >= 0)
		send_password(al, al->askpass[0]);
	return r;
}

/* One read of the process's stderr into the watcher. 1 when bytes came, 0 when none are
 * waiting, -1 at EOF or error (the event is then removed). */
static int read_stderr(struct jg_onward *al)
{
	char buf[4096];
	ssize_t n = read(al->err_fd, buf, sizeof(buf));
	int hop;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		if (al->errev != NULL)
			event_del(al->errev);
		return -1;
	}
	jg_ssh_watch_stderr(&al->watch, buf, (size_t)n);
	jg_log_debug("%s: stderr: %.*s", al->chain->display,
		     (int)strcspn(buf, "\n") < n ? (int)strcspn(buf, "\n") : (int)n, buf);
	if (al->state != AL_CONNECTING || al->booted || al->boot_out == NULL)
		return 1;
	hop = jg_hop_watch_stderr(&al->hwatch, buf, (size_t)n);
	if (hop >= 0) {
		jg_hop_watch_answered(&al->hwatch, hop);
		send_password(al, hop);
	} else if (al->hwatch.refused_hop >= 0 || al->hwatch.unanswerable_hop >= 0) {
		char reason[600];

		jg_onward_reason(al, reason, sizeof(reason));
		jg_onward_die(al, JG_LOG_WARN, reason);
		return -1;
	}
	return 1;
}

static void on_stderr(evutil_socket_t fd, short what, void *arg)
{
	read_stderr(arg);
}

void jg_onward_drain_stderr(struct jg_onward *al)
{
	/* The process has exited: whatever it wrote is already in the pipe, so a bounded
	 * number of non-blocking reads collects it (64 x 4 KiB: a pipe holds 64 KiB). */
	for (int i = 0; al->err_fd >= 0 && i < 64 && read_stderr(al) > 0; i++)
		;
}

static void on_tty_poll(evutil_socket_t fd, short what, void *arg)
{
	struct jg_onward *al = arg;
	char reason[512];

	(void)fd;
	(void)what;
	if (al->state != AL_CONNECTING) {
		event_del(al->tty_poll);
		return;
	}
	if (jg_sshtty_answer(al->tty_fd, &al->watch, first_hop(al)->ssh.password,
			     &al->password_sent, al->chain->display, reason, sizeof(reason)))
		jg_onward_die(al, JG_LOG_WARN, reason);
}

int jg_onward_watch(struct jg_onward *al)
{
	if (al->err_fd >= 0) {
		al->errev =
		    event_new(al->gw->base, al->err_fd, EV_READ | EV_PERSIST, on_stderr, al);
		if (al->errev == NULL || event_add(al->errev, NULL) != 0)
			return JG_ERR_NOMEM;
	}
	if (al->tty_fd >= 0) {
		if ((al->tty_poll = jg_sshtty_poll_new(al->gw->base, on_tty_poll, al)) == NULL)
			return JG_ERR_NOMEM;
	}
	return 0;
}

static void send_agent(struct jg_onward *al)
{
	const char *sha = jg_boot_need_sha256(al->boot);
	const struct jg_agent_build *b = NULL;
	char reason[512];
	int fd;

	for (size_t i = 0; i < al->gw->nbuilds; i++)
		if (strcmp(al->gw->builds[i].sha256, sha) == 0)
			b = &al->gw->builds[i];
	if (b == NULL) {
		snprintf(reason, sizeof(reason),
			 "agent bootstrap on %s failed: the stub asked for agent %s, which this "
			 "gateway does not have",
			 al->chain->display, sha);
		jg_onward_die(al, JG_LOG_WARN, reason);
		return;
	}
	fd = open(b->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || evbuffer_add_file(al->boot_out, fd, 0, (ev_off_t)b->size) != 0) {
		snprintf(reason, sizeof(reason), "cannot read the agent %s: %s", b->path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		jg_onward_die(al, JG_LOG_ERROR, reason);
		return;
	}
	jg_log_info("%s: sending the agent (%s, %llu bytes)", al->chain->display, b->arch,
		    (unsigned long long)b->size);
	jg_onward_write(al);
}

void jg_onward_boot_input(struct jg_onward *al, const uint8_t *data, size_t len)
{
	char reason[600];

	enum jg_boot_event ev = jg_boot_feed(al->boot, data, len);

	/* A stub exec'd its agent: one that reads a password gets it now. */
	while (ev != JG_BOOT_FAILED && al->stages_seen < jg_boot_stages_done(al->boot)) {
		al->stages_seen++;
		if (al->stages_seen < sizeof(al->askpass) / sizeof(al->askpass[0]) &&
		    al->askpass[al->stages_seen] >= 0)
			send_password(al, al->askpass[al->stages_seen]);
		if (al->state == AL_DEAD)
			return;
	}
	switch (ev) {
	case JG_BOOT_MORE:
		return;
	case JG_BOOT_NEED:
		send_agent(al);
		return;
	case JG_BOOT_AGENT:
		if (jg_boot_discarded(al->boot) > 0)
			jg_log_debug("%s: %zu bytes of login noise before the stub",
				     al->chain->display, jg_boot_discarded(al->boot));
		jg_onward_booted(al, jg_boot_rest(al->boot));
		return;
	case JG_BOOT_FAILED:
		/* With no stub the agent itself failed (a trampoline on the gateway). */
		snprintf(reason, sizeof(reason), "%s on %s failed: %s",
			 al->direct_agent ? "jumpgate-agent" : "agent bootstrap",
			 al->chain->display, jg_boot_reason(al->boot));
		jg_onward_die(al, JG_LOG_WARN, reason);
		return;
	}
}

static void status_text(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(wstatus));
	else
		snprintf(buf, len, "ended (wait status %d)", wstatus);
}

void jg_onward_reason(const struct jg_onward *al, char *buf, size_t len)
{
	const char *verb = al->state == AL_CONNECTING ? "failed" : "lost";
	const struct jg_hop *hop = first_hop(al);
	char why[400], st[64];

	/* A hop's tool said what went wrong: that is the reason, whatever ssh adds. */
	if (jg_hop_watch_reason(&al->hwatch, why, sizeof(why))) {
		snprintf(buf, len, "%s %s at %s", al->chain->display, verb, why);
		return;
	}
	if (hop->method == JG_METHOD_SSH &&
	    (al->chain->nhops == 1 || al->watch.failure != JG_SSH_FAIL_NONE)) {
		jg_ssh_watch_reason(&al->watch, al->exited ? al->wstatus : -1, why, sizeof(why));
		snprintf(buf, len, "ssh to %s %s: %s%s", al->chain->display, verb, why,
			 al->state == AL_CONNECTING && al->exited && WIFEXITED(al->wstatus) &&
				 WEXITSTATUS(al->wstatus) == 127
			     ? " (is there a POSIX sh on the target?)"
			     : "");
		return;
	}
	if (al->exited)
		status_text(al->wstatus, st, sizeof(st));
	else
		snprintf(st, sizeof(st), "stopped (%s)", al->lost_what);
	if (al->plain_local) {
		snprintf(buf, len, "jumpgate-agent for %s %s", al->chain->display, st);
		return;
	}
	snprintf(buf, len, "connection to %s %s: %s %s%s%s%s", al->chain->display, verb,
		 jg_method_name(hop->method), st, al->watch.last_line[0] ? ": " : "",
		 al->watch.last_line,
		 al->exited && WIFEXITED(al->wstatus) && WEXITSTATUS(al->wstatus) == 127
		     ? " (a tool of the chain is not installed?)"
		     : "");
}

void jg_onward_last_words(const struct jg_onward *al, char *buf, size_t len)
{
	snprintf(buf, len, "%s", al->plain_local ? "" : al->watch.last_line);
}

void jg_onward_clear(struct jg_onward *al)
{
	jg_agentsock_free(al->agentsock);
	al->agentsock = NULL;
	if (al->tty_poll != NULL) {
		event_free(al->tty_poll);
		al->tty_poll = NULL;
	}
	if (al->boot != NULL) {
		jg_boot_free(al->boot);
		al->boot = NULL;
	}
	if (al->boot_out != NULL) {
		evbuffer_free(al->boot_out);
		al->boot_out = NULL;
	}
}
