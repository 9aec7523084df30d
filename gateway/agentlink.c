/* Agent links: the transport side of the frame protocol in the gateway.
 *
 * One link per target, shared by every operation on it.  The agent is a
 * child process (jumpgate-agent for the `local` target) whose stdin/stdout
 * carry frames; its stderr goes to ours, so its log lines join the gateway's.
 * The protocol itself lives in relay/link.c; this file only moves bytes
 * between the pipes and the sans-I/O link and keeps the link table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "gateway/gateway.h"
#include "relay/err.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/reaper.h"
#include "relay/spawn.h"

enum al_state {
	AL_STARTING, /* agent spawned, its HELLO not yet received */
	AL_UP,       /* HELLO received */
	AL_DEAD,     /* link failed; freed at the end of the current event */
};

struct jg_agentlink {
	struct jg_gateway *gw;
	char *target;
	pid_t pid;
	int to_fd, from_fd;
	struct event *rev, *wev, *flush_ev, *free_ev;
	struct jg_link *link;
	enum al_state state;
	time_t since;
	uint64_t bytes_in, bytes_out;
	struct jg_agentlink *next, *prev;
};

static const char *state_name(enum al_state s)
{
	switch (s) {
	case AL_STARTING:
		return "starting";
	case AL_UP:
		return "up";
	case AL_DEAD:
		return "dead";
	}
	return "?";
}

static void on_agent_exit(pid_t pid, int wstatus, void *ud)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		jg_log_debug("agent pid %ld exited", (long)pid);
	else if (WIFEXITED(wstatus))
		jg_log_warn("agent pid %ld exited with status %d", (long)pid,
			    WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		jg_log_warn("agent pid %ld killed by signal %d", (long)pid, WTERMSIG(wstatus));
}

static void al_unlink(struct jg_agentlink *al)
{
	struct jg_gateway *gw = al->gw;

	if (al->prev)
		al->prev->next = al->next;
	else if (gw->links == al)
		gw->links = al->next;
	if (al->next)
		al->next->prev = al->prev;
	al->next = al->prev = NULL;
}

static void al_free(struct jg_agentlink *al)
{
	al_unlink(al);
	if (al->rev)
		event_free(al->rev);
	if (al->wev)
		event_free(al->wev);
	if (al->flush_ev)
		event_free(al->flush_ev);
	if (al->free_ev)
		event_free(al->free_ev);
	if (al->to_fd >= 0)
		close(al->to_fd);
	if (al->from_fd >= 0)
		close(al->from_fd);
	if (al->link)
		jg_link_free(al->link);
	free(al->target);
	free(al);
}

static void on_free_ev(evutil_socket_t fd, short what, void *arg)
{
	al_free(arg);
}

/* The link is dead: every channel has been told (on_dead).  Stop the agent;
 * the structure is freed from its own event so that no caller up the stack
 * holds a dangling pointer. */
static void al_die(struct jg_agentlink *al, const char *reason)
{
	if (al->state == AL_DEAD)
		return;
	al->state = AL_DEAD;
	jg_log_warn("agent link to %s (pid %ld) lost: %s", al->target, (long)al->pid, reason);
	if (jg_link_error(al->link) == NULL)
		jg_link_fail(al->link, reason);
	event_del(al->rev);
	event_del(al->wev);
	/* Closing its stdin tells the agent to kill its children and exit; a link that
	 * broke the protocol may not be listening, so it also gets SIGTERM. */
	close(al->to_fd);
	al->to_fd = -1;
	if (al->pid > 0)
		kill(al->pid, SIGTERM);
	al_unlink(al);
	event_active(al->free_ev, EV_TIMEOUT, 0);
}

static void al_write(struct jg_agentlink *al)
{
	struct evbuffer *out = jg_link_output(al->link);
	int n;

	while (evbuffer_get_length(out) > 0) {
		n = evbuffer_write(out, al->to_fd);
		if (n > 0) {
			al->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(al->wev, NULL);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		al_die(al, n < 0 ? strerror(errno) : "agent closed its input");
		return;
	}
	event_del(al->wev);
}

static void on_flush_ev(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agentlink *al = arg;

	if (al->state != AL_DEAD)
		al_write(al);
}

void jg_agentlink_flush(struct jg_agentlink *al)
{
	if (al->state != AL_DEAD && !event_pending(al->flush_ev, EV_TIMEOUT, NULL))
		event_active(al->flush_ev, EV_TIMEOUT, 0);
}

static void on_writable_fd(evutil_socket_t fd, short what, void *arg)
{
	al_write(arg);
}

static void on_readable_fd(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agentlink *al = arg;
	uint8_t buf[65536];
	char reason[160];
	ssize_t n;
	int r;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(reason, sizeof(reason), "jumpgate-agent for %s (pid %ld) %s", al->target,
			 (long)al->pid, n == 0 ? "exited" : strerror(errno));
		al_die(al, reason);
		return;
	}
	al->bytes_in += (uint64_t)n;
	r = jg_link_feed(al->link, buf, (size_t)n);
	if (r < 0) {
		al_die(al, jg_link_error(al->link) ? jg_link_error(al->link) : jg_strerror(r));
		return;
	}
	al_write(al);
}

static void link_on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	struct jg_agentlink *al = ud;

	al->state = AL_UP;
	jg_log_debug("agent for %s (pid %ld) up: arch %s, window %u", al->target, (long)al->pid,
		     h->arch, h->window);
}

static void link_on_frame(struct jg_link *l, uint32_t ch, void *chan_ud, const struct jg_frame *f,
			  void *ud)
{
	struct jg_chan_user *u = chan_ud;

	if (u != NULL)
		u->hooks->on_frame(u, f);
}

static void link_on_writable(struct jg_link *l, uint32_t ch, void *chan_ud, void *ud)
{
	struct jg_chan_user *u = chan_ud;

	if (u != NULL)
		u->hooks->on_writable(u);
}

static void link_on_dead(struct jg_link *l, uint32_t ch, void *chan_ud, const char *reason,
			 void *ud)
{
	struct jg_chan_user *u = chan_ud;

	if (u != NULL)
		u->hooks->on_dead(u, reason);
}

static const struct jg_link_callbacks link_cbs = {
	.on_hello = link_on_hello,
	.on_frame = link_on_frame,
	.on_writable = link_on_writable,
	.on_dead = link_on_dead,
};

static struct jg_agentlink *al_spawn(struct jg_gateway *gw, const char *target, char *err,
				     size_t errlen)
{
	char *argv[] = {gw->agent_path, NULL};
	struct jg_spawn_opts opts = {.argv = argv, .keep_stderr = 1};
	struct jg_child child;
	struct jg_agentlink *al;
	struct utsname un;
	int r;

	al = calloc(1, sizeof(*al));
	if (al == NULL || (al->target = strdup(target)) == NULL) {
		free(al);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	al->gw = gw;
	al->to_fd = al->from_fd = -1;
	r = jg_spawn(&opts, &child, err, errlen);
	if (r != 0)
		goto fail;
	al->pid = child.pid;
	al->to_fd = child.in_fd;
	al->from_fd = child.out_fd;
	if (child.err_fd >= 0)
		close(child.err_fd);
	if (jg_reaper_watch(gw->reaper, child.pid, on_agent_exit, NULL) != 0)
		goto nomem;
	al->link = jg_link_new(JG_LINK_OPENER, &link_cbs, al);
	al->rev = event_new(gw->base, al->from_fd, EV_READ | EV_PERSIST, on_readable_fd, al);
	al->wev = event_new(gw->base, al->to_fd, EV_WRITE, on_writable_fd, al);
	al->flush_ev = event_new(gw->base, -1, 0, on_flush_ev, al);
	al->free_ev = event_new(gw->base, -1, 0, on_free_ev, al);
	if (al->link == NULL || al->rev == NULL || al->wev == NULL || al->flush_ev == NULL ||
	    al->free_ev == NULL)
		goto nomem;
	uname(&un);
	if (jg_link_send_hello(al->link, un.machine) != 0 || event_add(al->rev, NULL) != 0)
		goto nomem;
	al->state = AL_STARTING;
	al->since = time(NULL);
	al->next = gw->links;
	if (gw->links)
		gw->links->prev = al;
	gw->links = al;
	jg_log_info("agent for %s started: %s (pid %ld)", target, gw->agent_path, (long)al->pid);
	jg_agentlink_flush(al);
	return al;
nomem:
	snprintf(err, errlen, "out of memory starting the agent");
fail:
	if (al->pid > 0)
		kill(al->pid, SIGKILL);
	al_free(al);
	return NULL;
}

struct jg_agentlink *jg_agentlink_get(struct jg_gateway *gw, const char *target, char *err,
				      size_t errlen)
{
	for (struct jg_agentlink *al = gw->links; al != NULL; al = al->next)
		if (al->state != AL_DEAD && strcmp(al->target, target) == 0)
			return al;
	return al_spawn(gw, target, err, errlen);
}

int64_t jg_agentlink_open(struct jg_agentlink *al, uint32_t kind, const void *payload, size_t len,
			  struct jg_chan_user *u)
{
	int64_t ch;

	if (al->state == AL_DEAD)
		return JG_ERR_CLOSED;
	ch = jg_link_open(al->link, kind, payload, len, u);
	if (ch > 0)
		jg_agentlink_flush(al);
	return ch;
}

struct jg_link *jg_agentlink_link(struct jg_agentlink *al)
{
	return al->link;
}

void jg_agentlink_shutdown_all(struct jg_gateway *gw, const char *reason)
{
	while (gw->links != NULL) {
		struct jg_agentlink *al = gw->links;

		al_die(al, reason);
		/* al_die unlinked it; free now, the loop is over. */
		event_del(al->free_ev);
		al_free(al);
	}
}

void jg_agentlink_stats(const struct jg_gateway *gw, void *json_array)
{
	for (const struct jg_agentlink *al = gw->links; al != NULL; al = al->next) {
		json_t *o = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I}", "target", al->target,
				      "pid", (json_int_t)al->pid, "state", state_name(al->state),
				      "channels", (json_int_t)jg_link_channel_count(al->link),
				      "bytes_in", (json_int_t)al->bytes_in, "bytes_out",
				      (json_int_t)al->bytes_out, "since", (json_int_t)al->since);

		if (o != NULL)
			json_array_append_new(json_array, o);
	}
}
