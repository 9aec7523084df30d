/* One pump between a link channel and its fds (contract in agent/pump.h).
 *
 * The idea is OpenSSH's channels.c: one read side bounded by the peer's window
 * (channel_handle_rfd/efd), one write side whose progress is what returns credit
 * (channel_handle_wfd, channel_check_window), whatever the channel carries.
 *
 * Copies: a read lands in space reserved in RBUF.  A large read is committed and
 * moved into the link's output by reference (jg_link_send_data_buf); a small one (a
 * terminal's keystroke echo) is copied out of the reservation and the space is
 * reused, so a chain of JG_AGENT_READ_MAX never travels holding a few bytes. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent/agent.h"
#include "agent/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/spawn.h"

/* Reads at least this large move by reference; smaller ones are copied. */
#define APUMP_MOVE_MIN (64u * 1024)
/* One read: a link frame's payload, less room for libevent's chain header, which
 * would otherwise round the chain's allocation up to twice that. */
#define APUMP_READ_MAX (JG_AGENT_READ_MAX - 256)
/* A pipe that fills is grown to this once (the kernel's default pipe-max-size). */

struct jg_apump {
	LIST_ENTRY(jg_apump) entry;
	struct jg_apump_host *h;
	uint32_t ch;
	struct jg_apump_opts o;
	int fd[3]; /* -1 once that stream ended */
	struct event *ev[3];
	int is_file[3];	       /* a regular file: never polled */
	int done[3];	       /* that stream ended (or never was) */
	int grown[3];	       /* a pipe growth was tried */
	int in_eof;	       /* the gateway sent EOF */
	int running;	       /* jg_apump_start() was called */
	struct evbuffer *inq;  /* gateway -> IN, not yet written */
	struct evbuffer *rbuf; /* reads land here */
};

void jg_apump_host_init(struct jg_apump_host *h, struct event_base *base, struct jg_link *link,
			size_t high)
{
	memset(h, 0, sizeof(*h));
	h->base = base;
	h->link = link;
	h->high = high;
	LIST_INIT(&h->pumps);
}

int jg_apump_host_full(const struct jg_apump_host *h)
{
	return h->dead || evbuffer_get_length(jg_link_output(h->link)) >= h->high;
}

/* The stream in SLOT is over: its event goes, and its fd unless another slot shares
 * it (a socket read and written) or it is a kept IN. */
static void apump_release(struct jg_apump *p, enum jg_apump_slot slot)
{
	int fd = p->fd[slot], shared = 0;

	p->done[slot] = 1;
	if (p->ev[slot] != NULL) {
		event_free(p->ev[slot]);
		p->ev[slot] = NULL;
	}
	if (fd < 0)
		return;
	p->fd[slot] = -1;
	for (int i = 0; i < 3; i++)
		shared |= p->fd[i] == fd;
	if (!shared && !(slot == JG_APUMP_IN && p->o.in_end == JG_APUMP_IN_KEEP))
		close(fd);
}

static void apump_report(struct jg_apump *p, enum jg_apump_event ev, enum jg_apump_slot which,
			 int err)
{
	p->o.cb(p, ev, which, err, p->o.ud);
}

/* ---- IN: the gateway's DATA written to the fd ---- */

static void apump_end_in(struct jg_apump *p)
{
	if (p->o.in_end == JG_APUMP_IN_SHUTDOWN && shutdown(p->fd[JG_APUMP_IN], SHUT_WR) != 0 &&
	    errno != ENOTCONN)
		jg_log_debug("channel %u: shutdown: %s", p->ch, strerror(errno));
	apump_release(p, JG_APUMP_IN);
}

/* Write the queue; credit goes back for what the fd took.  1 when it reported. */
static int apump_write(struct jg_apump *p)
{
	struct jg_link *l = p->h->link;
	size_t len;
	int n, err;

	while ((len = evbuffer_get_length(p->inq)) > 0) {
		n = evbuffer_write(p->inq, p->fd[JG_APUMP_IN]);
		if (n > 0) {
			jg_link_consumed(l, p->ch, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
			/* A pipe that fills on a busy channel costs a wake-up per 64 KiB. */
			if (!p->grown[JG_APUMP_IN]) {
				p->grown[JG_APUMP_IN] = 1;
				if (jg_pipe_grow(p->fd[JG_APUMP_IN]))
					continue;
			}
			if (p->ev[JG_APUMP_IN] != NULL &&
			    !event_pending(p->ev[JG_APUMP_IN], EV_WRITE, NULL))
				event_add(p->ev[JG_APUMP_IN], NULL);
			return 0;
		}
		/* The reader is gone (EPIPE) or the fd failed: what is queued goes nowhere,
		 * but its credit comes back or the gateway's window stays consumed. */
		err = errno;
		evbuffer_drain(p->inq, len);
		jg_link_consumed(l, p->ch, len);
		apump_end_in(p);
		apump_report(p, JG_APUMP_WRITE_FAILED, JG_APUMP_IN, err);
		return 1;
	}
	if (p->ev[JG_APUMP_IN] != NULL)
		event_del(p->ev[JG_APUMP_IN]);
	if (p->in_eof && !p->done[JG_APUMP_IN]) {
		apump_end_in(p);
		apump_report(p, JG_APUMP_IN_DONE, JG_APUMP_IN, 0);
		return 1;
	}
	return 0;
}

static void apump_on_in(evutil_socket_t fd, short what, void *arg)
{
	apump_write(arg);
}

int jg_apump_frame(struct jg_apump *p, const struct jg_frame *f)
{
	struct jg_link *l = p->h->link;

	if (f->type == JG_FRAME_DATA) {
		if (f->flags != 0 || p->done[JG_APUMP_IN] || p->in_eof) {
			/* Nowhere to go, but the credit must come back. */
			jg_link_consumed(l, p->ch, f->length);
			return 1;
		}
		const uint8_t *data = f->payload;
		size_t len = f->length;
		ssize_t n = 0;

		if (p->o.tap != NULL)
			p->o.tap(data, len, p->o.ud);
		/* Nothing queued: straight from the frame to the fd, no copy (a file, or a
		 * pipe with room, takes it all); only what it did not take is queued.  An
		 * error is left for apump_write to meet again and report. */
		if (evbuffer_get_length(p->inq) == 0) {
			do
				n = write(p->fd[JG_APUMP_IN], data, len);
			while (n < 0 && errno == EINTR);
			if (n > 0) {
				jg_link_consumed(l, p->ch, (size_t)n);
				data += n;
				len -= (size_t)n;
			}
		}
		if (len == 0)
			return 1;
		if (evbuffer_add(p->inq, data, len) != 0) {
			jg_log_error("channel %u: out of memory queueing %zu bytes", p->ch, len);
			jg_link_consumed(l, p->ch, len);
			return 1;
		}
		apump_write(p);
		return 1;
	}
	if (f->type == JG_FRAME_EOF) {
		if (f->flags != 0 || p->in_eof)
			return 1;
		p->in_eof = 1;
		if (!p->done[JG_APUMP_IN] && evbuffer_get_length(p->inq) == 0) {
			apump_end_in(p);
			apump_report(p, JG_APUMP_IN_DONE, JG_APUMP_IN, 0);
		}
		return 1;
	}
	return 0;
}

/* ---- OUT and ERR: the fds read into DATA ---- */

/* One read of SLOT into DATA.  -1: stopped (window, output or fd empty); 0: read
 * something, go on; 1: reported (the pump may be gone). */
static int apump_read(struct jg_apump *p, enum jg_apump_slot slot)
{
	struct jg_link *l = p->h->link;
	uint8_t flags = slot == JG_APUMP_ERR ? JG_DATA_STDERR : 0;
	size_t room = jg_link_window(l, p->ch);
	struct evbuffer_iovec v;
	ssize_t n;
	int64_t sent;
	int err = 0, r;

	if (room == 0)
		return -1;
	if (jg_apump_host_full(p->h)) {
		p->h->throttled |= !p->h->dead; /* host_resume restarts us */
		return -1;
	}
	if (room > APUMP_READ_MAX)
		room = APUMP_READ_MAX;
	if (evbuffer_reserve_space(p->rbuf, (ev_ssize_t)room, &v, 1) != 1) {
		n = -1;
		errno = ENOMEM;
	} else {
		n = read(p->fd[slot], v.iov_base, room);
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		if (errno == EINTR)
			return 0;
		err = errno;
		if (!(p->o.flags & JG_APUMP_READ_ERROR_IS_EOF)) {
			apump_release(p, slot);
			apump_report(p, JG_APUMP_READ_FAILED, slot, err);
			return 1;
		}
	}
	if (n <= 0) {
		apump_release(p, slot);
		if ((r = jg_link_send_eof(l, p->ch, flags)) != 0)
			jg_log_warn("channel %u: cannot send EOF: %s", p->ch, jg_strerror(r));
		apump_report(p, JG_APUMP_OUT_EOF, slot, err);
		return 1;
	}
	/* A full pipe (its writer waits): let it hold more before the next wake-up. */
	if ((size_t)n >= APUMP_MOVE_MIN && !p->grown[slot] && !p->is_file[slot]) {
		p->grown[slot] = 1;
		jg_pipe_grow(p->fd[slot]);
	}
	if ((size_t)n >= APUMP_MOVE_MIN) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(p->rbuf, &v, 1);
		sent = jg_link_send_data_buf(l, p->ch, flags, p->rbuf, (size_t)n);
		evbuffer_drain(p->rbuf, evbuffer_get_length(p->rbuf));
	} else {
		sent = jg_link_send_data(l, p->ch, flags, v.iov_base, (size_t)n);
	}
	if (sent != n)
		/* Cannot happen: we read no more than the window. */
		jg_log_error("channel %u: link took %lld of %zd bytes", p->ch, (long long)sent, n);
	return 0;
}

/* Read SLOT (a regular file) until the window or the output is full.  1 when it reported. */
static int apump_read_file(struct jg_apump *p, enum jg_apump_slot slot)
{
	int r;

	while ((r = apump_read(p, slot)) == 0)
		;
	return r == 1;
}

/* Watch OUT and ERR only while the window and the link output have room; a regular
 * file is read now.  1 when it reported. */
static int apump_update(struct jg_apump *p)
{
	int open = p->running && jg_link_window(p->h->link, p->ch) > 0;
	int want = open && !jg_apump_host_full(p->h);

	/* Stopped by our own output, not by the gateway: host_resume must restart us. */
	if (open && !want && !p->h->dead)
		p->h->throttled = 1;
	for (int i = JG_APUMP_OUT; i <= JG_APUMP_ERR; i++) {
		if (p->done[i])
			continue;
		if (p->is_file[i]) {
			if (want && apump_read_file(p, (enum jg_apump_slot)i))
				return 1;
			continue;
		}
		if (want && !event_pending(p->ev[i], EV_READ, NULL))
			event_add(p->ev[i], NULL);
		else if (!want)
			event_del(p->ev[i]);
	}
	return 0;
}

static void apump_on_readable(struct jg_apump *p, enum jg_apump_slot slot)
{
	if (apump_read(p, slot) != 1)
		apump_update(p);
}

static void apump_on_out(evutil_socket_t fd, short what, void *arg)
{
	apump_on_readable(arg, JG_APUMP_OUT);
}

static void apump_on_err(evutil_socket_t fd, short what, void *arg)
{
	apump_on_readable(arg, JG_APUMP_ERR);
}

/* ---- life ---- */

struct jg_apump *jg_apump_new(struct jg_apump_host *h, uint32_t ch, const struct jg_apump_opts *o)
{
	static const short what[3] = {EV_WRITE | EV_PERSIST, EV_READ | EV_PERSIST,
				      EV_READ | EV_PERSIST};
	static void (*const fns[3])(evutil_socket_t, short, void *) = {apump_on_in, apump_on_out,
								       apump_on_err};
	struct jg_apump *p;
	struct stat st;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->h = h;
	p->ch = ch;
	p->o = *o;
	for (int i = 0; i < 3; i++) {
		p->fd[i] = -1;
		p->done[i] = o->fd[i] < 0;
	}
	if ((p->inq = evbuffer_new()) == NULL || (p->rbuf = evbuffer_new()) == NULL)
		goto fail;
	for (int i = 0; i < 3; i++) {
		if (o->fd[i] < 0)
			continue;
		p->is_file[i] = fstat(o->fd[i], &st) == 0 && S_ISREG(st.st_mode);
		/* epoll refuses regular files; they never block anyway. */
		if (!p->is_file[i] &&
		    (p->ev[i] = event_new(h->base, o->fd[i], what[i], fns[i], p)) == NULL)
			goto fail;
	}
	memcpy(p->fd, o->fd, sizeof(p->fd)); /* taken from here on */
	LIST_INSERT_HEAD(&h->pumps, p, entry);
	return p;
fail:
	for (int i = 0; i < 3; i++)
		if (p->ev[i] != NULL)
			event_free(p->ev[i]);
	if (p->inq != NULL)
		evbuffer_free(p->inq);
	if (p->rbuf != NULL)
		evbuffer_free(p->rbuf);
	free(p);
	return NULL;
}

void jg_apump_start(struct jg_apump *p)
{
	p->running = 1;
	apump_update(p);
}

void jg_apump_writable(struct jg_apump *p)
{
	apump_update(p);
}

void jg_apump_host_resume(struct jg_apump_host *h)
{
	struct jg_apump *p, *next;

	if (!h->throttled || jg_apump_host_full(h))
		return;
	h->throttled = 0;
	/* A pump's callback may free that pump, never another: NEXT stays valid. */
	for (p = LIST_FIRST(&h->pumps); p != NULL; p = next) {
		next = LIST_NEXT(p, entry);
		apump_update(p);
	}
}

int jg_apump_fd(const struct jg_apump *p, enum jg_apump_slot slot)
{
	return p->fd[slot];
}

int jg_apump_reading(const struct jg_apump *p)
{
	return !p->done[JG_APUMP_OUT] + !p->done[JG_APUMP_ERR];
}

size_t jg_apump_queued(const struct jg_apump *p)
{
	return evbuffer_get_length(p->inq);
}

void jg_apump_free(struct jg_apump *p)
{
	if (p == NULL)
		return;
	LIST_REMOVE(p, entry);
	for (int i = 0; i < 3; i++)
		apump_release(p, (enum jg_apump_slot)i);
	evbuffer_free(p->inq);
	evbuffer_free(p->rbuf);
	free(p);
}
