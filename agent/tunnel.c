/* TUNNEL channels: one TCP connection from the target per channel.
 *
 * The host is a numeric address or "localhost" only.  The agent is linked
 * statically, and glibc's resolver (NSS) cannot work in a static binary on a
 * host whose glibc differs from ours, so names are refused with a clear
 * OPEN_FAIL instead of failing in some obscure way.  "localhost" is tried
 * as 127.0.0.1, then ::1.
 *
 * States: CONNECTING (non-blocking connect, bounded by TUN_CONNECT_SECS; the
 * channel is not accepted yet) -> OPEN (OPEN_OK sent; a pump moves the bytes,
 * agent/pump.h: credit only as the socket takes them, reads bounded by the
 * window and JG_AGENT_OUT_HIGH, the gateway's EOF a shutdown(SHUT_WR), the
 * socket's EOF an EOF frame) -> freed.  Both directions done: EXIT 0.  A
 * socket error: DEAD with the reason.  CLOSE or DEAD from the gateway: the
 * socket is closed at once.  Every path frees the tunnel and closes its fd. */
#include "config.h" /* _GNU_SOURCE */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent/agent.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"

#define TUN_CONNECT_SECS 10
#define TUN_MAX_ADDRS 2

enum tun_state {
	TUN_CONNECTING,
	TUN_OPEN,
};

struct jg_agent_tunnel {
	struct jg_agent_chan chan; /* first: the link's channel user data */
	LIST_ENTRY(jg_agent_tunnel) entry;
	struct jg_agent *a;
	uint32_t ch;
	enum tun_state state;
	int fd;
	struct sockaddr_storage addrs[TUN_MAX_ADDRS];
	socklen_t addrlens[TUN_MAX_ADDRS];
	size_t naddrs, cur;
	char where[80]; /* "127.0.0.1:22" of the address being tried, for messages */
	char first[80]; /* the first address tried and why it failed: the one reported */
	int first_err;
	struct event *ev_wr;   /* connect done */
	struct event *ev_tmo;  /* connect deadline */
	struct jg_apump *pump; /* once OPEN; it owns the socket then */
	int up_done;	       /* SHUT_WR done (or the far end stopped reading) */
	int down_done;	       /* socket EOF seen and our EOF frame sent */
};

/* The tunnels of this agent.  File-scoped because struct jg_agent (agent.h,
 * shared) has no list for them yet; there is one agent per process, so this
 * holds the same as a member would.  TODO(lead): move into struct jg_agent. */
static LIST_HEAD(, jg_agent_tunnel) tunnels = LIST_HEAD_INITIALIZER(tunnels);

static void tun_on_write(evutil_socket_t fd, short what, void *arg);
static void tun_on_timeout(evutil_socket_t fd, short what, void *arg);

static void tun_free(struct jg_agent_tunnel *t)
{
	LIST_REMOVE(t, entry);
	if (t->ev_wr != NULL)
		event_free(t->ev_wr);
	if (t->ev_tmo != NULL)
		event_free(t->ev_tmo);
	jg_apump_free(t->pump);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

/* The channel failed on our side: tell the gateway why (DEAD, or OPEN_FAIL
 * while still connecting) and free T. */
static void tun_fail(struct jg_agent_tunnel *t, const char *reason)
{
	struct jg_link *l = t->a->link;
	int r;

	jg_log_info("channel %u: tunnel %s", t->ch, reason);
	if (t->state == TUN_CONNECTING)
		r = jg_link_reject(l, t->ch, reason);
	else
		r = jg_link_send_dead(l, t->ch, reason);
	if (r != 0)
		jg_log_warn("channel %u: cannot report the failure: %s", t->ch, jg_strerror(r));
	tun_free(t);
}

/* Both directions over: EXIT 0 (the link forgets the channel), free T. Returns 1 when freed. */
static int tun_maybe_finish(struct jg_agent_tunnel *t)
{
	int r;

	if (!t->up_done || !t->down_done)
		return 0;
	jg_log_debug("channel %u: tunnel to %s done", t->ch, t->where);
	if ((r = jg_link_send_exit(t->a->link, t->ch, 0, 0)) != 0)
		jg_log_warn("channel %u: cannot send EXIT: %s", t->ch, jg_strerror(r));
	tun_free(t);
	return 1;
}

static void tun_on_pump(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which,
			int err, void *ud)
{
	struct jg_agent_tunnel *t = ud;
	char why[160];

	switch (ev) {
	case JG_APUMP_OUT_EOF:
		t->down_done = 1;
		tun_maybe_finish(t);
		return;
	case JG_APUMP_READ_FAILED:
		snprintf(why, sizeof(why), "connection to %s failed: %s", t->where, strerror(err));
		tun_fail(t, why);
		return;
	case JG_APUMP_WRITE_FAILED:
		if (err != EPIPE && err != ECONNRESET) {
			snprintf(why, sizeof(why), "writing to %s: %s", t->where, strerror(err));
			tun_fail(t, why);
			return;
		}
		/* The far end closed its reading side: what was queued went nowhere (and
		 * its credit went back). */
		jg_log_debug("channel %u: %s stopped reading", t->ch, t->where);
		t->up_done = 1;
		tun_maybe_finish(t);
		return;
	case JG_APUMP_IN_DONE:
		t->up_done = 1;
		tun_maybe_finish(t);
		return;
	}
}

static void tun_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
static void tun_writable(struct jg_agent *a, struct jg_agent_chan *c);
static void tun_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);

static const struct jg_agent_chan_cbs tun_cbs = {
    .frame = tun_frame,
    .writable = tun_writable,
    .dead = tun_dead,
};

/* Connect to the current address.  0 when under way (ev_wr reports the
 * outcome), or the errno of an immediate failure. */
static int tun_connect_cur(struct jg_agent_tunnel *t)
{
	const struct sockaddr *sa = (const struct sockaddr *)&t->addrs[t->cur];
	struct event_base *base = t->a->base;
	char host[INET6_ADDRSTRLEN] = "?";
	int v6 = sa->sa_family == AF_INET6;
	uint16_t port;

	if (v6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
			  sizeof(host));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	port = ntohs(v6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
			: ((const struct sockaddr_in *)sa)->sin_port);
	snprintf(t->where, sizeof(t->where), v6 ? "[%s]:%u" : "%s:%u", host, port);

	/* Events are bound to an fd: drop the previous address's. */
	if (t->ev_wr != NULL)
		event_free(t->ev_wr);
	t->ev_wr = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return errno;
	if (connect(t->fd, sa, t->addrlens[t->cur]) != 0 && errno != EINPROGRESS)
		return errno;
	t->ev_wr = event_new(base, t->fd, EV_WRITE | EV_PERSIST, tun_on_write, t);
	if (t->ev_wr == NULL || event_add(t->ev_wr, NULL) != 0)
		return ENOMEM;
	return 0;
}

/* Remember the first failure: "localhost" refused on 127.0.0.1 and on ::1 is
 * reported as 127.0.0.1, the address people expect. */
static void tun_note_failure(struct jg_agent_tunnel *t, int err)
{
	if (t->first_err != 0)
		return;
	t->first_err = err;
	memcpy(t->first, t->where, sizeof(t->first));
}

/* Try the current address and the ones after it until one is under way.  0, or
 * the errno of the last failure (T->where names that address). */
static int tun_connect_from(struct jg_agent_tunnel *t)
{
	int err = ECONNREFUSED;

	for (; t->cur < t->naddrs; t->cur++) {
		if ((err = tun_connect_cur(t)) == 0)
			return 0;
		tun_note_failure(t, err);
	}
	t->cur = t->naddrs - 1;
	return t->first_err;
}

/* The connect finished (successfully or not). */
static void tun_connected(struct jg_agent_tunnel *t)
{
	struct jg_apump_opts o = {
	    .fd = {-1, -1, -1}, .in_end = JG_APUMP_IN_SHUTDOWN, .cb = tun_on_pump, .ud = t};
	socklen_t len = sizeof(int);
	char why[200];
	int err = 0, one = 1, r;

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		tun_note_failure(t, err);
		if (t->cur + 1 < t->naddrs) {
			jg_log_debug("channel %u: connect to %s: %s; next address", t->ch, t->where,
				     strerror(err));
			t->cur++;
			if (tun_connect_from(t) == 0)
				return;
		}
		snprintf(why, sizeof(why), "connect to %s: %s", t->first, strerror(t->first_err));
		tun_fail(t, why);
		return;
	}
	event_del(t->ev_tmo);
	event_free(t->ev_wr);
	t->ev_wr = NULL;
	/* Interactive protocols (ssh) must not wait for Nagle. */
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	o.fd[JG_APUMP_IN] = o.fd[JG_APUMP_OUT] = t->fd;
	if ((t->pump = jg_apump_new(&t->a->pumps, t->ch, &o)) == NULL) {
		tun_fail(t, "out of memory");
		return;
	}
	t->fd = -1; /* the pump's now */
	if ((r = jg_link_accept(t->a->link, t->ch, t)) != 0) {
		jg_log_error("channel %u: cannot accept: %s", t->ch, jg_strerror(r));
		tun_free(t);
		return;
	}
	t->state = TUN_OPEN;
	jg_log_debug("channel %u: tunnel to %s open", t->ch, t->where);
	jg_apump_start(t->pump);
}

static void tun_on_write(evutil_socket_t fd, short what, void *arg)
{
	tun_connected(arg);
}

static void tun_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent_tunnel *t = arg;
	char why[160];

	snprintf(why, sizeof(why), "connect to %s: timed out after %d s", t->where,
		 TUN_CONNECT_SECS);
	tun_fail(t, why);
}

/* HOST into T->addrs: a numeric IPv4 or IPv6 address (brackets allowed), or
 * localhost.  0, or JG_ERR_INVAL with the reason in WHY. */
static int tun_resolve(struct jg_agent_tunnel *t, const char *host, uint16_t port, char *why,
		       size_t len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t hl = strlen(host);
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;
	int localhost = strcmp(host, "localhost") == 0;

	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, hl - 2);
		buf[hl - 2] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "%s", host);
	}
	s4 = (struct sockaddr_in *)&t->addrs[t->naddrs];
	if (localhost || (hl < sizeof(buf) && inet_pton(AF_INET, buf, &s4->sin_addr) == 1)) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (localhost)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t->addrlens[t->naddrs++] = sizeof(*s4);
	}
	s6 = (struct sockaddr_in6 *)&t->addrs[t->naddrs];
	if (localhost || (t->naddrs == 0 && inet_pton(AF_INET6, buf, &s6->sin6_addr) == 1)) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (localhost)
			s6->sin6_addr = in6addr_loopback;
		t->addrlens[t->naddrs++] = sizeof(*s6);
	}
	if (t->naddrs > 0)
		return 0;
	snprintf(why, len,
		 "cannot connect to \"%.64s\": the agent takes numeric addresses and localhost "
		 "only (it does no DNS)",
		 host);
	return JG_ERR_INVAL;
}

void jg_agent_tunnel_open(struct jg_agent *a, uint32_t ch, const struct jg_frame *f)
{
	struct timeval tmo = {TUN_CONNECT_SECS, 0};
	struct jg_tunnel_spec spec;
	struct jg_agent_tunnel *t = NULL;
	char reason[512], why[400];
	int r, err;

	if (jg_tunnel_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		snprintf(reason, sizeof(reason), "bad tunnel spec: %s", why);
		jg_log_warn("channel %u: %s", ch, reason);
		goto reject;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto nomem;
	t->chan.cbs = &tun_cbs;
	t->a = a;
	t->ch = ch;
	t->fd = -1;
	t->state = TUN_CONNECTING;
	LIST_INSERT_HEAD(&tunnels, t, entry);
	if (tun_resolve(t, spec.host, spec.port, reason, sizeof(reason)) != 0) {
		jg_log_info("channel %u: %s", ch, reason);
		tun_free(t);
		goto reject;
	}
	if ((t->ev_tmo = evtimer_new(a->base, tun_on_timeout, t)) == NULL) {
		tun_free(t);
		goto nomem;
	}
	/* Pending channels get CLOSE and DEAD too: let them reach us while we connect. */
	jg_link_set_channel_ud(a->link, ch, t);
	if ((err = tun_connect_from(t)) != 0) {
		snprintf(reason, sizeof(reason), "connect to %s: %s", t->first, strerror(err));
		tun_fail(t, reason);
		goto out;
	}
	evtimer_add(t->ev_tmo, &tmo);
	jg_log_debug("channel %u: connecting to %s", ch, t->where);
	goto out;

nomem:
	snprintf(reason, sizeof(reason), "cannot open a tunnel: out of memory");
	jg_log_error("channel %u: %s", ch, reason);
reject:
	if ((r = jg_link_reject(a->link, ch, reason)) != 0)
		jg_log_warn("channel %u: cannot reject: %s", ch, jg_strerror(r));
out:
	jg_tunnel_spec_clear(&spec);
}

static void tun_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f)
{
	struct jg_agent_tunnel *t = (struct jg_agent_tunnel *)c;

	if (t->pump != NULL && jg_apump_frame(t->pump, f))
		return; /* DATA and EOF are the pump's */
	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_CLOSE:
		/* The link forgets the channel when we return: nothing more may be sent. */
		jg_log_debug("channel %u: tunnel closed by the gateway", t->ch);
		tun_free(t);
		return;
	case JG_FRAME_DATA:
	case JG_FRAME_EOF:
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
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
	jg_log_debug("channel %u: tunnel ignores %s", t->ch, jg_frame_type_name(f->type));
}

static void tun_writable(struct jg_agent *a, struct jg_agent_chan *c)
{
	struct jg_agent_tunnel *t = (struct jg_agent_tunnel *)c;

	if (t->pump != NULL)
		jg_apump_writable(t->pump);
}

static void tun_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason)
{
	struct jg_agent_tunnel *t = (struct jg_agent_tunnel *)c;

	jg_log_info("channel %u: tunnel to %s dead: %s", t->ch, t->where, reason);
	tun_free(t);
}

void jg_agent_tunnel_free_all(struct jg_agent *a)
{
	struct jg_agent_tunnel *t, *next;

	for (t = LIST_FIRST(&tunnels); t != NULL; t = next) {
		next = LIST_NEXT(t, entry);
		if (t->a != a)
			continue;
		/* The link may still know the channel: it must never hand us T again. */
		jg_link_set_channel_ud(a->link, t->ch, NULL);
		tun_free(t);
	}
}
