/* The pool of onward connections: one agent link per target chain, shared
 * by every operation on that target.
 *
 * A link is a child process whose stdin/stdout carry frames: jumpgate-agent
 * itself for `local`, or `ssh ... sh -c '<bootstrap stub>'` that ends up
 * exec'ing the agent on the target (gateway/onward/onward.c builds the command and
 * watches ssh's stderr and terminal).  The protocol lives in relay/link.c;
 * this file moves bytes between the pipes and the sans-I/O link, keeps the
 * table, and enforces the bounds:
 *   - connect: spawn to the agent's HELLO within connect_timeout;
 *   - keepalive: a PING once the link has been quiet for keepalive_interval;
 *     silence for twice that kills the link;
 *   - idle: a link with no channel for pool idle_timeout is closed;
 *   - death: stdout EOF waits (bounded) for the exit status, so the reason
 *     carries ssh's status and its last stderr line.
 * One 1-second tick per link checks all of them. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/onward/agentlink_impl.h"
#include "gateway/gateway.h"
#include "gateway/onward/agentlink.h"
#include "gateway/metrics.h"
#include "relay/err.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/spawn.h"
#include "relay/reaper.h"

/* After stdout EOF, how long to wait for the exit status before giving up on it. */
#define EXIT_WAIT_MS 2000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *state_name(enum al_state s)
{
	switch (s) {
	case AL_CONNECTING:
		return "connecting";
	case AL_UP:
		return "up";
	case AL_DEAD:
		return "dead";
	}
	return "?";
}

static void al_unlink(struct jg_onward *al)
{
	struct jg_gateway *gw = al->gw;

	if (al->prev)
		al->prev->next = al->next;
	else if (gw->links == al)
		gw->links = al->next;
	if (al->next)
		al->next->prev = al->prev;
	al->next = al->prev = NULL;
	if (al->chain != NULL)
		jg_keymap_del(&gw->link_map, al->chain->key, al);
}

static void free_event(struct event **ev)
{
	if (*ev != NULL) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void del_event(struct event *ev)
{
	if (ev != NULL)
		event_del(ev);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void on_link_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

static void al_free(struct jg_onward *al)
{
	jg_setupq_leave(al->gw, &al->sq);
	al_unlink(al);
	if (al->link)
		evbuffer_remove_cb(jg_link_output(al->link), on_link_output, al);
	if (al->pid > 0 && !al->exited) {
		/* Its exit is still collected by the reaper, silently. */
		jg_reaper_forget(al->gw->reaper, al->pid);
		kill(al->pid, SIGTERM);
	}
	free_event(&al->rev);
	free_event(&al->wev);
	free_event(&al->errev);
	free_event(&al->flush_ev);
	free_event(&al->free_ev);
	free_event(&al->tick);
	free_event(&al->deadline);
	close_fd(&al->to_fd);
	close_fd(&al->from_fd);
	close_fd(&al->err_fd);
	close_fd(&al->tty_fd);
	if (al->link)
		jg_link_free(al->link);
	if (al->rbuf)
		evbuffer_free(al->rbuf);
	jg_onward_clear(al);
	jg_chain_free(al->chain);
	free(al);
}

static void on_free_ev(evutil_socket_t fd, short what, void *arg)
{
	al_free(arg);
}

void jg_onward_die(struct jg_onward *al, enum jg_log_level level, const char *reason)
{
	if (al->state == AL_DEAD)
		return;
	if (al->state == AL_CONNECTING)
		jg_metrics_onward_failed(al->gw->metrics);
	al->state = AL_DEAD;
	jg_setupq_leave(al->gw, &al->sq);
	jg_log(level, "onward connection to %s (pid %ld) closed: %s", al->chain->display,
	       (long)al->pid, reason);
	/* Every channel learns the reason before anything is torn down. */
	if (jg_link_error(al->link) == NULL)
		jg_link_fail(al->link, reason);
	del_event(al->rev);
	del_event(al->wev);
	del_event(al->errev);
	del_event(al->tick);
	del_event(al->deadline);
	del_event(al->tty_poll);
	/* Closing its stdin tells the agent (and ssh) to finish; SIGTERM covers a peer that
	 * broke the protocol and may not be reading. */
	close_fd(&al->to_fd);
	if (al->pid > 0 && !al->exited)
		kill(al->pid, SIGTERM);
	al_unlink(al);
	event_active(al->free_ev, EV_TIMEOUT, 0);
}

/* The source of bytes for the target: the agent binary while bootstrapping, frames after. */
static struct evbuffer *al_outbuf(struct jg_onward *al)
{
	if (al->boot != NULL && !al->booted)
		return al->boot_out;
	return jg_link_output(al->link);
}

void jg_onward_write(struct jg_onward *al)
{
	struct evbuffer *out;
	int n;

	if (al->state == AL_DEAD || al->to_fd < 0)
		return;
	out = al_outbuf(al);
	while (evbuffer_get_length(out) > 0) {
		n = evbuffer_write(out, al->to_fd);
		if (n > 0) {
			al->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A full pipe to a busy target: make it larger, and try again. */
			if (jg_pipe_grow(al->to_fd) > 0)
				continue;
			event_add(al->wev, NULL);
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* The process stopped reading: its exit status tells why. */
		jg_onward_lost(al, "it stopped reading its input");
		return;
	}
	event_del(al->wev);
}

static void on_flush_ev(evutil_socket_t fd, short what, void *arg)
{
	jg_onward_write(arg);
}

/* Write whatever the link queued, once per event-loop turn. */
static void al_flush(struct jg_onward *al)
{
	if (al->state != AL_DEAD && !event_pending(al->flush_ev, EV_TIMEOUT, NULL))
		event_active(al->flush_ev, EV_TIMEOUT, 0);
}

/* Flushing is driven by the link's output buffer: whatever any op (or the link
 * itself: WINDOW, PONG) queues is written once per event-loop turn, so no caller
 * flushes by hand. */
static void on_link_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	if (info->n_added > 0)
		al_flush(arg);
}

static void on_writable_fd(evutil_socket_t fd, short what, void *arg)
{
	jg_onward_write(arg);
}

/* The connection's stdout ended or failed.  The reason is better with the exit
 * status, which the reaper delivers soon: wait for it, bounded by the tick. */
void jg_onward_lost(struct jg_onward *al, const char *what)
{
	char reason[512];

	if (al->state == AL_DEAD)
		return;
	if (!al->exited) {
		if (al->lost_at_ms == 0) {
			al->lost_at_ms = now_ms();
			snprintf(al->lost_what, sizeof(al->lost_what), "%s", what);
			del_event(al->rev);
		}
		return;
	}
	jg_onward_drain_stderr(al);
	jg_onward_reason(al, reason, sizeof(reason));
	jg_onward_die(al, JG_LOG_WARN, reason);
}

static void on_exit_status(pid_t pid, int wstatus, void *ud)
{
	struct jg_onward *al = ud;

	al->exited = 1;
	al->wstatus = wstatus;
	jg_onward_lost(al, "it exited");
}

/* The bytes of SRC (left empty) to the link. */
static void al_feed_link(struct jg_onward *al, struct evbuffer *src)
{
	int r = jg_link_feed_evbuffer(al->link, src);

	if (r < 0) {
		char reason[512];

		snprintf(reason, sizeof(reason), "protocol error from the agent on %s: %s",
			 al->chain->display,
			 jg_link_error(al->link) ? jg_link_error(al->link) : jg_strerror(r));
		jg_onward_die(al, JG_LOG_WARN, reason);
		return;
	}
	jg_onward_write(al);
}

static void on_readable_fd(evutil_socket_t fd, short what, void *arg)
{
	struct jg_onward *al = arg;
	const size_t most = JG_FRAME_LINK_PAYLOAD + JG_FRAME_HEADER_LEN;
	ssize_t n;

	/* Over the gateway-wide buffer budget (h2stream.c): stop reading until clients
	 * catch up and jg_onward_resume_all() re-arms us; the agent then stops on its
	 * channel windows instead of the gateway growing. */
	if (al->gw->budget_paused) {
		event_del(al->rev);
		return;
	}
	/* Straight into memory the link's decoder then takes over (no bounce buffer). */
	n = jg_fd_read_evbuffer(fd, al->rbuf, most);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		jg_onward_lost(al, n == 0 ? "end of output" : strerror(errno));
		return;
	}
	if ((size_t)n == most)
		(void)jg_pipe_grow(fd); /* the target writes faster than one read takes */
	al->bytes_in += (uint64_t)n;
	al->last_rx_ms = now_ms();
	al->ping_sent = 0;
	if (al->boot != NULL && !al->booted) {
		/* Small and rare (the stub's lines): al outlives the call (freed from free_ev). */
		jg_onward_boot_input(al, evbuffer_pullup(al->rbuf, -1), (size_t)n);
		evbuffer_drain(al->rbuf, (size_t)n);
		return;
	}
	al_feed_link(al, al->rbuf);
}

void jg_onward_booted(struct jg_onward *al, struct evbuffer *rest)
{
	size_t len = evbuffer_get_length(rest);

	al->booted = 1;
	if (len > 0)
		al_feed_link(al, rest);
	if (al->state != AL_DEAD)
		jg_onward_write(al);
}

/* Our own event loop was late (the process stopped, the host suspended, a long
 * blocking call): the silence was ours, not the agent's.  When the tick comes more
 * than a keepalive interval (and at least two ticks) late, the deadlines restart
 * from now instead of killing links whose agents did nothing wrong.  1 when so. */
static int loop_stalled(struct jg_onward *al, uint64_t now)
{
	uint64_t ka = al->gw->cfg->keepalive_interval_ms, late;

	if (al->tick_ms == 0 || now - al->tick_ms <= 1000)
		return 0;
	late = now - al->tick_ms - 1000;
	if (late < 1000 || late < ka)
		return 0;
	jg_log_info("onward connection to %s: the gateway's own event loop was %llu ms late; "
		    "keepalive and connect deadlines restart",
		    al->chain->display, (unsigned long long)late);
	al->last_rx_ms = al->started_ms = al->idle_since_ms = now;
	al->ping_sent = 0;
	al->tick_ms = now;
	return 1;
}

/* Silence for twice the keepalive interval kills the link. True when it did. */
static int keepalive_expired(struct jg_onward *al, uint64_t now, char *reason, size_t len)
{
	uint64_t ka = al->gw->cfg->keepalive_interval_ms;

	if (loop_stalled(al, now))
		return 0;

	/* A link paused by the buffer budget reads nothing, PONGs included. */
	if (al->state != AL_UP || ka == 0 || al->gw->budget_paused || now - al->last_rx_ms < 2 * ka)
		return 0;
	snprintf(reason, len, "no answer from the agent on %s for %llu s (keepalive)",
		 al->chain->display, (unsigned long long)(now - al->last_rx_ms) / 1000);
	jg_onward_die(al, JG_LOG_WARN, reason);
	return 1;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	char reason[600];

	keepalive_expired(arg, now_ms(), reason, sizeof(reason));
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct jg_onward *al = arg;
	const struct jg_config *cfg = al->gw->cfg;
	uint64_t now = now_ms(), ka = cfg->keepalive_interval_ms;
	char reason[600];

	loop_stalled(al, now);
	al->tick_ms = now;
	if (al->lost_at_ms != 0) {
		if (now - al->lost_at_ms >= EXIT_WAIT_MS) {
			jg_onward_reason(al, reason, sizeof(reason));
			jg_onward_die(al, JG_LOG_WARN, reason);
		}
		return;
	}
	if (al->state == AL_CONNECTING) {
		if (now - al->started_ms >= cfg->connect_timeout_ms) {
			char last[300];

			jg_onward_last_words(al, last, sizeof(last));
			snprintf(reason, sizeof(reason), "cannot reach %s within %u s%s%s",
				 al->chain->display, cfg->connect_timeout_ms / 1000,
				 last[0] ? ": " : "", last);
			jg_onward_die(al, JG_LOG_WARN, reason);
		}
		return;
	}
	if (keepalive_expired(al, now, reason, sizeof(reason)))
		return;
	/* The tick is a second apart: when the keepalive deadline falls before the next one,
	 * a one-shot timer takes it, so silence never outlasts twice the interval. */
	if (ka > 0 && 2 * ka - (now - al->last_rx_ms) < 1000 &&
	    !event_pending(al->deadline, EV_TIMEOUT, NULL)) {
		uint64_t left = 2 * ka - (now - al->last_rx_ms);
		struct timeval tv = {.tv_sec = 0, .tv_usec = (suseconds_t)(left * 1000)};

		event_add(al->deadline, &tv);
	}
	if (ka > 0 && now - al->last_rx_ms >= ka && !al->ping_sent) {
		jg_link_ping(al->link, (uint32_t)now);
		al->ping_sent = 1;
		jg_onward_write(al);
	}
	if (jg_link_channel_count(al->link) > 0) {
		al->idle_since_ms = now;
	} else if (now - al->idle_since_ms >= cfg->pool_idle_timeout_ms) {
		snprintf(reason, sizeof(reason), "idle for %u s", cfg->pool_idle_timeout_ms / 1000);
		jg_onward_die(al, JG_LOG_INFO, reason);
	}
}

static void link_on_hello(struct jg_link *l, const struct jg_hello *h, void *ud)
{
	struct jg_onward *al = ud;

	al->state = AL_UP;
	jg_setupq_leave(al->gw, &al->sq);
	jg_metrics_onward_up(al->gw->metrics, now_ms() - al->started_ms);
	al->idle_since_ms = now_ms();
	jg_log_info("onward connection to %s up in %llu ms: agent arch %s (pid %ld)",
		    al->chain->display, (unsigned long long)(now_ms() - al->started_ms), h->arch,
		    (long)al->pid);
}

static void link_on_frame(struct jg_link *l, uint32_t ch, void *chan_ud, const struct jg_frame *f,
			  void *ud)
{
	struct jg_chan_user *u = chan_ud;

	if (u != NULL)
		u->cbs->on_frame(u, f);
}

static void link_on_writable(struct jg_link *l, uint32_t ch, void *chan_ud, void *ud)
{
	struct jg_chan_user *u = chan_ud;

	if (u != NULL)
		u->cbs->on_writable(u);
}

static void link_on_dead(struct jg_link *l, uint32_t ch, void *chan_ud, const char *reason,
			 void *ud)
{
	struct jg_chan_user *u = chan_ud;

	if (u != NULL)
		u->cbs->on_dead(u, reason);
}

static const struct jg_link_cbs link_cbs = {
    .on_hello = link_on_hello,
    .on_frame = link_on_frame,
    .on_writable = link_on_writable,
    .on_dead = link_on_dead,
};

static void al_setup_start(struct jg_setupq_entry *e);
static int al_spawn(struct jg_onward *al, char *err, size_t errlen);

/* A link for CHAIN, in gw->links at once; its process starts now or when the setup
 * queue (setupq.h) lets it. */
static struct jg_onward *al_start(struct jg_gateway *gw, const struct jg_chain *chain, char *err,
				  size_t errlen)
{
	struct jg_onward *al;

	al = calloc(1, sizeof(*al));
	if (al == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	al->gw = gw;
	al->to_fd = al->from_fd = al->err_fd = al->tty_fd = -1;
	al->state = AL_CONNECTING;
	if (jg_chain_copy(&al->chain, chain) != 0)
		goto nomem;
	al->link = jg_link_new(JG_LINK_OPENER, &link_cbs, al);
	al->rbuf = evbuffer_new();
	al->flush_ev = event_new(gw->base, -1, 0, on_flush_ev, al);
	al->free_ev = event_new(gw->base, -1, 0, on_free_ev, al);
	al->tick = event_new(gw->base, -1, EV_PERSIST, on_tick, al);
	al->deadline = evtimer_new(gw->base, on_deadline, al);
	if (al->link == NULL || al->rbuf == NULL || al->flush_ev == NULL || al->free_ev == NULL ||
	    al->tick == NULL || al->deadline == NULL ||
	    evbuffer_add_cb(jg_link_output(al->link), on_link_output, al) == NULL)
		goto nomem;
	/* HELLO is queued now; with a bootstrap it waits in the link until the agent runs. */
	if (jg_link_send_hello(al->link, "gateway") != 0)
		goto nomem;
	al->started_ms = al->last_rx_ms = al->idle_since_ms = now_ms();
	al->since = time(NULL);
	/* Links with a controller's agent are found by a walk (jg_onward_get). */
	if (al->chain->agent == 0 && jg_keymap_put(&gw->link_map, al->chain->key, al) != 0)
		goto nomem;
	al->next = gw->links;
	if (gw->links)
		gw->links->prev = al;
	gw->links = al;
	/* Channels opened meanwhile wait in the link (nothing is written before to_fd). */
	switch (jg_setupq_enter(gw, &al->sq, al_setup_start)) {
	case 1:
		if (al_spawn(al, err, errlen) != 0)
			goto fail;
		return al;
	case 0:
		jg_log_info("onward connection to %s: waiting for a setup slot",
			    al->chain->display);
		return al;
	default:
		goto nomem;
	}
nomem:
	snprintf(err, errlen, "out of memory starting the connection");
fail:
	al_free(al);
	return NULL;
}

/* Its turn in the setup queue came: start the process; on failure the link dies with
 * the reason, which every channel opened meanwhile gets. */
static void al_setup_start(struct jg_setupq_entry *e)
{
	struct jg_onward *al =
	    (struct jg_onward *)(void *)((char *)e - offsetof(struct jg_onward, sq));
	char err[512], reason[700];

	if (al->state == AL_DEAD)
		return;
	if (jg_link_channel_count(al->link) == 0) {
		/* Every operation that asked for it is gone (a client that gave up). */
		jg_onward_die(al, JG_LOG_INFO, "no operation waits for it any more");
		return;
	}
	al->started_ms = al->last_rx_ms = al->idle_since_ms = now_ms();
	if (al_spawn(al, err, sizeof(err)) != 0) {
		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 al->chain->display, err);
		jg_onward_die(al, JG_LOG_WARN, reason);
	}
}

/* Start al's process and watch it.  0, or -1 with the reason in ERR. */
static int al_spawn(struct jg_onward *al, char *err, size_t errlen)
{
	struct jg_gateway *gw = al->gw;
	struct timeval second = {1, 0};
	struct jg_child child;

	if (jg_onward_spawn(al, &child, err, errlen) != 0)
		return -1;
	al->pid = child.pid;
	al->to_fd = child.in_fd;
	al->from_fd = child.out_fd;
	al->err_fd = child.err_fd;
	al->tty_fd = child.tty_fd;
	if (jg_reaper_watch(gw->reaper, child.pid, on_exit_status, al) != 0)
		goto nomem;
	al->rev = event_new(gw->base, al->from_fd, EV_READ | EV_PERSIST, on_readable_fd, al);
	al->wev = event_new(gw->base, al->to_fd, EV_WRITE, on_writable_fd, al);
	if (al->rev == NULL || al->wev == NULL || event_add(al->rev, NULL) != 0 ||
	    event_add(al->tick, &second) != 0 || jg_onward_watch(al) != 0)
		goto nomem;
	jg_log_info("onward connection to %s: starting (pid %ld)", al->chain->display,
		    (long)al->pid);
	al_flush(al); /* the HELLO, queued before the process was there to take it */
	return 0;
nomem:
	snprintf(err, errlen, "out of memory starting the connection");
	return -1;
}

struct jg_onward *jg_onward_get(struct jg_gateway *gw, const struct jg_chain *chain, char *err,
				size_t errlen)
{
	struct jg_onward *al;

	if (chain->agent != 0) {
		/* With a controller's agent: that identity's alone, and not in the map
		 * (few, and several may share the chain key). */
		for (al = gw->links; al != NULL; al = al->next)
			if (al->state != AL_DEAD && strcmp(al->chain->key, chain->key) == 0 &&
			    al->chain->agent == chain->agent &&
			    strcmp(al->chain->agent_owner, chain->agent_owner) == 0)
				return al;
		return al_start(gw, chain, err, errlen);
	}
	/* Dead links leave the map as they leave the list (al_unlink). */
	al = jg_keymap_get(&gw->link_map, chain->key);
	if (al != NULL && al->state != AL_DEAD)
		return al;
	return al_start(gw, chain, err, errlen);
}

int jg_onward_reset(struct jg_gateway *gw, const char *key, const char *reason)
{
	struct jg_onward *next;
	int found = 0;

	/* Every connection with the key: identities forwarding their agents have their own. */
	for (struct jg_onward *al = gw->links; al != NULL; al = next) {
		next = al->next; /* dying unlinks it */
		if (al->state != AL_DEAD && strcmp(al->chain->key, key) == 0) {
			jg_onward_die(al, JG_LOG_INFO, reason);
			found = 1;
		}
	}
	return found;
}

int64_t jg_onward_open(struct jg_onward *al, uint32_t kind, const void *payload, size_t len,
		       struct jg_chan_user *u)
{
	if (al->state == AL_DEAD)
		return JG_ERR_CLOSED;
	/* The OPEN is written by on_link_output's flush. */
	return jg_link_open(al->link, kind, payload, len, u);
}

struct jg_link *jg_onward_link(struct jg_onward *al)
{
	return al->link;
}

void jg_onward_shutdown_all(struct jg_gateway *gw, const char *reason)
{
	while (gw->links != NULL) {
		struct jg_onward *al = gw->links;

		jg_onward_die(al, JG_LOG_INFO, reason);
		/* jg_onward_die unlinked it; free now, the loop is over. */
		event_del(al->free_ev);
		al_free(al);
	}
}

void jg_onward_stats(const struct jg_gateway *gw, void *json_array)
{
	uint64_t now = now_ms();

	for (const struct jg_onward *al = gw->links; al != NULL; al = al->next) {
		json_t *o = json_pack(
		    "{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "target", al->chain->key,
		    "display", al->chain->display, "method",
		    jg_method_name(al->chain
				       ->hops[al->chain->nhops > 1 &&
					      al->chain->hops[0].method == JG_METHOD_LOCAL]
				       .method),
		    "pid", (json_int_t)al->pid, "state", state_name(al->state), "age_s",
		    (json_int_t)((now - al->started_ms) / 1000), "channels",
		    (json_int_t)jg_link_channel_count(al->link), "bytes_in",
		    (json_int_t)al->bytes_in, "bytes_out", (json_int_t)al->bytes_out, "since",
		    (json_int_t)al->since);

		/* Logged in with a controller's agent: whose (the connection is theirs alone). */
		if (o != NULL && al->chain->agent != 0)
			json_object_set_new(o, "agent_of", json_string(al->chain->agent_owner));
		if (o != NULL)
			json_array_append_new(json_array, o);
	}
}

void jg_onward_resume_all(struct jg_gateway *gw)
{
	uint64_t now = now_ms();

	/* Dead links are off the list already. The pause is not the agent's silence. */
	for (struct jg_onward *al = gw->links; al != NULL; al = al->next) {
		al->last_rx_ms = now;
		al->ping_sent = 0;
		if (al->rev != NULL)
			event_add(al->rev, NULL);
	}
}

void jg_onward_count(const struct jg_gateway *gw, uint64_t *connecting, uint64_t *up)
{
	*connecting = *up = 0;
	for (const struct jg_onward *al = gw->links; al != NULL; al = al->next) {
		switch (al->state) {
		case AL_CONNECTING:
			(*connecting)++;
			break;
		case AL_UP:
			(*up)++;
			break;
		case AL_DEAD:
			break;
		}
	}
}
