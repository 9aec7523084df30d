/* TUNNEL channels: one TCP connection from the target per channel.
 *
 * The host is a numeric address or "localhost" only.  The agent is linked
 * statically, and glibc's resolver (NSS) cannot work in a static binary on a
 * host whose glibc differs from ours, so names are refused with a clear
 * OPEN_FAIL instead of failing in some obscure way.  "localhost" is tried
 * as 127.0.0.1, then ::1.
 *
 * States: CONNECTING (non-blocking connect, bounded by TUN_CONNECT_SECS; the
 * channel is not accepted yet) -> OPEN (OPEN_OK sent; bytes flow) -> freed.
 * Up (gateway -> socket): DATA waits in `out` and its credit goes back with
 * jg_link_consumed() only as the socket takes it, so a far end that stops
 * reading stops the gateway after one window.  EOF from the gateway becomes
 * shutdown(SHUT_WR) once `out` is written.  Down (socket -> gateway): the
 * socket is read only while the channel's send window is open and the link
 * output is below JG_AGENT_OUT_HIGH.  Socket EOF becomes an EOF frame.  Both
 * directions done: EXIT 0.  A socket error: DEAD with the reason.  CLOSE or
 * DEAD from the gateway: the socket is closed at once.  Every path frees the
 * tunnel and closes its fd. */
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
	struct event *ev_rd;  /* socket readable; pending only while we want to read */
	struct event *ev_wr;  /* connect done, or room to write `out` */
	struct event *ev_tmo; /* connect deadline */
	struct evbuffer *out; /* gateway -> socket, not yet written */
	int up_eof;	      /* the gateway sent EOF */
	int up_done;	      /* SHUT_WR done (or the far end stopped reading) */
	int down_done;	      /* socket EOF seen and our EOF frame sent */
};

/* The tunnels of this agent.  File-scoped because struct jg_agent (agent.h,
 * shared) has no list for them yet; there is one agent per process, so this
 * holds the same as a member would.  TODO(lead): move into struct jg_agent. */
static LIST_HEAD(, jg_agent_tunnel) tunnels = LIST_HEAD_INITIALIZER(tunnels);

static void tun_on_read(evutil_socket_t fd, short what, void *arg);
static void tun_on_write(evutil_socket_t fd, short what, void *arg);
static void tun_on_timeout(evutil_socket_t fd, short what, void *arg);

static void tun_free(struct jg_agent_tunnel *t)
{
	LIST_REMOVE(t, entry);
	if (t->ev_rd != NULL)
		event_free(t->ev_rd);
	if (t->ev_wr != NULL)
		event_free(t->ev_wr);
	if (t->ev_tmo != NULL)
		event_free(t->ev_tmo);
	if (t->out != NULL)
		evbuffer_free(t->out);
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

/* Read the socket only while the window and the link output both have room. */
static void tun_update_reads(struct jg_agent_tunnel *t)
{
	struct jg_agent *a = t->a;
	int open = t->state == TUN_OPEN && !t->down_done && jg_link_window(a->link, t->ch) > 0;
	int want = open && !jg_agent_output_full(a);

	/* Stopped by our own output buffer: the stdout writer must resume us. */
	if (open && !want)
		a->pumps.throttled = 1;
	if (want && !event_pending(t->ev_rd, EV_READ, NULL))
		event_add(t->ev_rd, NULL);
	else if (!want)
		event_del(t->ev_rd);
}

/* Nothing more goes to the far end: SHUT_WR so it sees EOF. */
static void tun_shut_write(struct jg_agent_tunnel *t)
{
	t->up_done = 1;
	event_del(t->ev_wr);
	if (shutdown(t->fd, SHUT_WR) != 0 && errno != ENOTCONN)
		jg_log_debug("channel %u: shutdown(%s): %s", t->ch, t->where, strerror(errno));
}

/* Write `out` to the socket, crediting the gateway for what it took.
 * Returns 1 when T was freed. */
static int tun_write(struct jg_agent_tunnel *t)
{
	struct jg_link *l = t->a->link;
	size_t len;
	int n;

	while ((len = evbuffer_get_length(t->out)) > 0) {
		n = evbuffer_write(t->out, t->fd);
		if (n > 0) {
			jg_link_consumed(l, t->ch, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (!event_pending(t->ev_wr, EV_WRITE, NULL))
				event_add(t->ev_wr, NULL);
			return 0;
		}
		if (n < 0 && errno != EPIPE && errno != ECONNRESET) {
			char why[160];

			snprintf(why, sizeof(why), "writing to %s: %s", t->where, strerror(errno));
			tun_fail(t, why);
			return 1;
		}
		/* The far end closed its reading side: what is queued can go nowhere.  Its
		 * credit still goes back, or the gateway's window would stay consumed. */
		jg_log_debug("channel %u: %s stopped reading; dropping %zu bytes", t->ch, t->where,
			     len);
		evbuffer_drain(t->out, len);
		jg_link_consumed(l, t->ch, len);
		tun_shut_write(t);
		return tun_maybe_finish(t);
	}
	event_del(t->ev_wr);
	if (t->up_eof && !t->up_done) {
		tun_shut_write(t);
		return tun_maybe_finish(t);
	}
	return 0;
}

static void tun_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent_tunnel *t = arg;
	struct jg_agent *a = t->a;
	char buf[JG_AGENT_READ_MAX], why[160];
	size_t room;
	ssize_t n;
	int64_t sent;
	int r;

	room = jg_link_window(a->link, t->ch);
	if (room == 0 || jg_agent_output_full(a)) {
		tun_update_reads(t);
		return;
	}
	if (room > sizeof(buf))
		room = sizeof(buf);
	n = recv(fd, buf, room, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		snprintf(why, sizeof(why), "connection to %s failed: %s", t->where,
			 strerror(errno));
		tun_fail(t, why);
		return;
	}
	if (n == 0) {
		t->down_done = 1;
		event_del(t->ev_rd);
		if ((r = jg_link_send_eof(a->link, t->ch, 0)) != 0)
			jg_log_warn("channel %u: cannot send EOF: %s", t->ch, jg_strerror(r));
		tun_maybe_finish(t);
		return;
	}
	sent = jg_link_send_data(a->link, t->ch, 0, buf, (size_t)n);
	if (sent != n)
		/* Cannot happen: we read no more than the window. */
		jg_log_error("channel %u: link took %lld of %zd bytes", t->ch, (long long)sent, n);
	tun_update_reads(t);
}

static void tun_frame(struct jg_agent *a, struct jg_agent_chan *c, const struct jg_frame *f);
static void tun_writable(struct jg_agent *a, struct jg_agent_chan *c);
static void tun_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason);

static const struct jg_agent_chan_ops tun_ops = {
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
	if (t->ev_rd != NULL)
		event_free(t->ev_rd);
	if (t->ev_wr != NULL)
		event_free(t->ev_wr);
	t->ev_rd = t->ev_wr = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return errno;
	if (connect(t->fd, sa, t->addrlens[t->cur]) != 0 && errno != EINPROGRESS)
		return errno;
	t->ev_rd = event_new(base, t->fd, EV_READ | EV_PERSIST, tun_on_read, t);
	t->ev_wr = event_new(base, t->fd, EV_WRITE | EV_PERSIST, tun_on_write, t);
	if (t->ev_rd == NULL || t->ev_wr == NULL || event_add(t->ev_wr, NULL) != 0)
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
	event_del(t->ev_wr);
	/* Interactive protocols (ssh) must not wait for Nagle. */
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((r = jg_link_accept(t->a->link, t->ch, t)) != 0) {
		jg_log_error("channel %u: cannot accept: %s", t->ch, jg_strerror(r));
		tun_free(t);
		return;
	}
	t->state = TUN_OPEN;
	jg_log_debug("channel %u: tunnel to %s open", t->ch, t->where);
	tun_update_reads(t);
}

static void tun_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct jg_agent_tunnel *t = arg;

	if (t->state == TUN_CONNECTING)
		tun_connected(t);
	else
		tun_write(t);
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
	t->chan.ops = &tun_ops;
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
	if ((t->out = evbuffer_new()) == NULL ||
	    (t->ev_tmo = evtimer_new(a->base, tun_on_timeout, t)) == NULL) {
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

	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_DATA:
		if (t->up_eof || t->up_done) {
			/* Nowhere to go, but the credit must come back. */
			jg_link_consumed(a->link, t->ch, f->length);
			return;
		}
		if (evbuffer_add(t->out, f->payload, f->length) != 0) {
			tun_fail(t, "out of memory queueing tunnel bytes");
			return;
		}
		tun_write(t);
		return;
	case JG_FRAME_EOF:
		if (t->up_eof)
			return;
		t->up_eof = 1;
		if (!t->up_done && evbuffer_get_length(t->out) == 0) {
			tun_shut_write(t);
			tun_maybe_finish(t);
		}
		return;
	case JG_FRAME_CLOSE:
		/* The link forgets the channel when we return: nothing more may be sent. */
		jg_log_debug("channel %u: tunnel closed by the gateway", t->ch);
		tun_free(t);
		return;
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
	tun_update_reads((struct jg_agent_tunnel *)c);
}

static void tun_dead(struct jg_agent *a, struct jg_agent_chan *c, const char *reason)
{
	struct jg_agent_tunnel *t = (struct jg_agent_tunnel *)c;

	jg_log_info("channel %u: tunnel to %s dead: %s", t->ch, t->where, reason);
	tun_free(t);
}

void jg_agent_tunnel_resume_all(struct jg_agent *a)
{
	struct jg_agent_tunnel *t;

	LIST_FOREACH(t, &tunnels, entry)
	if (t->a == a)
		tun_update_reads(t);
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
