/* The agent-link session (see link.h and docs/protocol.md).
 *
 * Channels live in the link's channel table (relay/chantab.h).  Entries move
 * when the table grows or an entry is deleted, and callbacks may open, close or
 * fail channels, so no code here keeps a pointer to an entry across a callback:
 * it keeps the id and looks the entry up again.
 *
 * On failure the whole table is taken out of the link before the on_dead
 * callbacks run: a callback then sees a dead link (every call returns
 * JG_ERR_CLOSED) and cannot change the set being iterated. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "relay/chantab.h"
#include "relay/err.h"
#include "relay/flow.h"
#include "relay/frame.h"
#include "relay/link.h"

/* A peer cannot make us hold more channels than this; further OPENs are refused. */
#define MAX_CHANNELS 65536u
#define REASON_MAX 512

enum chan_state {
	CHAN_OPENING = 1, /* OPENER: OPEN sent, waiting for OPEN_OK / OPEN_FAIL */
	CHAN_PENDING = 2, /* ACCEPTOR: OPEN received, owner has not accepted yet */
	CHAN_OPEN = 3,	  /* both sides may send DATA, EOF, WINDOW ... */
};

/* Half-close bits, one per output stream of a channel. */
#define EOF_BIT(flags) ((flags)&JG_DATA_STDERR ? 2u : 1u)

struct jg_link {
	enum jg_link_role role;
	struct jg_link_cbs cb;
	void *ud;
	struct jg_frame_decoder *dec;
	struct evbuffer *out;
	struct jg_chantab chans;
	uint32_t highest; /* highest channel id ever opened (OPENER) or seen in OPEN (ACCEPTOR) */
	int hello_sent;
	int hello_received;
	uint32_t send_max; /* largest payload we send: min(ours, the peer's) */
	uint32_t peer_window;
	int in_feed;
	int err; /* 0 while healthy */
	char reason[REASON_MAX];
};

/* ---- failure ---- */

/* Printable copy of peer-supplied text, for reasons shown to people. */
static void sanitize(char *dst, size_t size, const uint8_t *p, size_t n, const char *dflt)
{
	size_t i;

	if (n == 0) {
		snprintf(dst, size, "%s", dflt);
		return;
	}
	for (i = 0; i < n && i + 1 < size; i++)
		dst[i] = p[i] >= 0x20 && p[i] != 0x7f ? (char)p[i] : '?';
	dst[i] = '\0';
}

/* Fail the link once: remember why, tell the peer if asked, and give every
 * channel its on_dead. */
static void link_die(struct jg_link *l, int err, const char *reason, int tell_peer)
{
	struct jg_chantab dead = l->chans;

	if (l->err != 0)
		return;
	l->err = err;
	snprintf(l->reason, sizeof(l->reason), "%s", reason);
	if (tell_peer && l->hello_sent) {
		size_t len = strlen(l->reason);

		/* Best effort: the transport is about to be closed anyway. */
		(void)jg_frame_put(l->out, JG_FRAME_DEAD, 0, 0, 0, l->reason,
				   (uint32_t)(len < l->send_max ? len : l->send_max));
	}
	l->chans = (struct jg_chantab){0};
	for (size_t i = 0; i < dead.cap; i++)
		if (dead.slots[i].id != 0 && l->cb.on_dead != NULL)
			l->cb.on_dead(l, dead.slots[i].id, dead.slots[i].ud, l->reason, l->ud);
	jg_chantab_free(&dead);
}

__attribute__((format(printf, 3, 4))) static int failf(struct jg_link *l, int err, const char *fmt,
						       ...)
{
	char buf[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	link_die(l, err, buf, 1);
	return err;
}

/* ---- life cycle ---- */

struct jg_link *jg_link_new(enum jg_link_role role, const struct jg_link_cbs *cb, void *link_ud)
{
	struct jg_link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->role = role;
	if (cb != NULL)
		l->cb = *cb;
	l->ud = link_ud;
	l->send_max = JG_FRAME_LINK_PAYLOAD;
	l->dec = jg_frame_decoder_new(JG_FRAME_LINK_PAYLOAD);
	l->out = evbuffer_new();
	if (l->dec == NULL || l->out == NULL) {
		jg_link_free(l);
		return NULL;
	}
	return l;
}

void jg_link_free(struct jg_link *l)
{
	if (l == NULL)
		return;
	jg_frame_decoder_free(l->dec);
	if (l->out != NULL)
		evbuffer_free(l->out);
	jg_chantab_free(&l->chans);
	free(l);
}

int jg_link_send_hello(struct jg_link *l, const char *arch)
{
	struct jg_hello h = {
	    .version = JG_PROTOCOL_VERSION,
	    .max_payload = JG_FRAME_LINK_PAYLOAD,
	    .window = JG_FRAME_DEFAULT_WINDOW,
	};
	int r;

	if (l->err != 0)
		return JG_ERR_CLOSED;
	if (l->hello_sent)
		return JG_ERR_STATE;
	if (arch != NULL && strlen(arch) > 64)
		return JG_ERR_INVAL;
	snprintf(h.arch, sizeof(h.arch), "%s", arch != NULL ? arch : "");
	if ((r = jg_frame_put_hello(l->out, &h)) == 0)
		l->hello_sent = 1;
	return r;
}

void jg_link_fail(struct jg_link *l, const char *reason)
{
	link_die(l, JG_ERR_CLOSED, reason != NULL ? reason : "link closed", 0);
}

const char *jg_link_error(const struct jg_link *l)
{
	return l->err != 0 ? l->reason : NULL;
}

struct evbuffer *jg_link_output(struct jg_link *l)
{
	return l->out;
}

size_t jg_link_channel_count(const struct jg_link *l)
{
	return l->chans.count;
}

/* ---- receiving ---- */

static int on_hello(struct jg_link *l, const struct jg_frame *f)
{
	struct jg_hello h;

	if (f->type != JG_FRAME_HELLO)
		return failf(l, JG_ERR_PROTO, "expected HELLO as the first frame, got %s",
			     jg_frame_type_name(f->type));
	if (f->channel != 0)
		return failf(l, JG_ERR_PROTO, "HELLO on channel %u (must be 0)", f->channel);
	if (jg_frame_parse_hello(f, &h) != 0)
		return failf(l, JG_ERR_PROTO, "malformed HELLO payload (%u bytes)", f->length);
	if (h.version != JG_PROTOCOL_VERSION)
		return failf(l, JG_ERR_PROTO, "peer speaks protocol version %u, this side %u",
			     h.version, JG_PROTOCOL_VERSION);
	if (h.max_payload == 0)
		return failf(l, JG_ERR_PROTO, "peer announced a max payload of 0");
	if (h.window > JG_FRAME_MAX_WINDOW)
		return failf(l, JG_ERR_PROTO, "peer announced a window of %u (over 2^31-1)",
			     h.window);
	l->hello_received = 1;
	if (h.max_payload < l->send_max)
		l->send_max = h.max_payload;
	l->peer_window = h.window;
	if (l->cb.on_hello != NULL)
		l->cb.on_hello(l, &h, l->ud);
	return 0;
}

static int refuse(struct jg_link *l, uint32_t ch, const char *why)
{
	return jg_frame_put(l->out, JG_FRAME_OPEN_FAIL, 0, ch, 0, why, (uint32_t)strlen(why));
}

static int on_open(struct jg_link *l, const struct jg_frame *f)
{
	uint32_t ch = f->channel;
	struct jg_chan *c;

	if (l->role != JG_LINK_ACCEPTOR)
		return failf(l, JG_ERR_PROTO, "OPEN for channel %u from the accepting side", ch);
	if (ch == 0)
		return failf(l, JG_ERR_PROTO, "OPEN on channel 0");
	if (ch <= l->highest)
		return failf(l, JG_ERR_PROTO,
			     "OPEN for channel %u, not above channel %u already used", ch,
			     l->highest);
	l->highest = ch;
	/* Refuse the channel but keep the link: the other channels are innocent. */
	if (l->cb.on_open == NULL)
		return refuse(l, ch, "this side accepts no channels");
	if (l->chans.count >= MAX_CHANNELS)
		return refuse(l, ch, "too many channels on this link");
	if ((c = jg_chantab_insert(&l->chans, ch)) == NULL)
		return failf(l, JG_ERR_NOMEM, "out of memory opening channel %u", ch);
	c->state = CHAN_PENDING;
	l->cb.on_open(l, ch, f, l->ud);
	return 0;
}

/* Which frames a channel may receive, by our role and its state. */
static int frame_allowed(const struct jg_link *l, const struct jg_chan *c, uint8_t type)
{
	if (type == JG_FRAME_CLOSE || type == JG_FRAME_DEAD)
		return 1;
	switch ((enum chan_state)c->state) {
	case CHAN_OPENING:
		return type == JG_FRAME_OPEN_OK || type == JG_FRAME_OPEN_FAIL;
	case CHAN_PENDING:
		return 0;
	case CHAN_OPEN:
		break;
	}
	switch (type) {
	case JG_FRAME_DATA:
	case JG_FRAME_EOF:
	case JG_FRAME_WINDOW:
		return 1;
	case JG_FRAME_EXIT:
		return l->role == JG_LINK_OPENER;
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
		return l->role == JG_LINK_ACCEPTOR;
	}
	return 0;
}

static const char *state_name(uint8_t state)
{
	switch ((enum chan_state)state) {
	case CHAN_OPENING:
		return "waiting for OPEN_OK";
	case CHAN_PENDING:
		return "not accepted yet";
	case CHAN_OPEN:
		return "open";
	}
	return "?";
}

/* Hand F to the owner; forget the channel after when F ends it. */
static void deliver(struct jg_link *l, struct jg_chan *c, const struct jg_frame *f, int last)
{
	uint32_t ch = c->id;

	if (l->cb.on_frame != NULL)
		l->cb.on_frame(l, ch, c->ud, f, l->ud);
	/* C may have moved or gone during the callback: look it up again. */
	if (last && l->err == 0)
		jg_chantab_forget(&l->chans, ch);
}

static int on_data(struct jg_link *l, struct jg_chan *c, const struct jg_frame *f)
{
	struct jg_flow *fl = &c->flow;

	if (c->peer_eof & EOF_BIT(f->flags))
		return failf(l, JG_ERR_PROTO, "channel %u: DATA%s after EOF", c->id,
			     f->flags & JG_DATA_STDERR ? " (stderr)" : "");
	if (jg_flow_on_data(fl, f->length) != 0)
		return failf(l, JG_ERR_FLOW,
			     "channel %u: peer sent %llu bytes of DATA with a window of %u", c->id,
			     (unsigned long long)(fl->recv_max - fl->recv_window) + f->length,
			     fl->recv_max);
	deliver(l, c, f, 0);
	return 0;
}

static int on_channel_frame(struct jg_link *l, const struct jg_frame *f)
{
	uint32_t ch = f->channel;
	struct jg_chan *c;
	char why[REASON_MAX];
	void *ud;

	if (ch == 0)
		return failf(l, JG_ERR_PROTO, "%s on channel 0", jg_frame_type_name(f->type));
	if ((c = jg_chantab_find(&l->chans, ch)) == NULL) {
		if (ch <= l->highest)
			return 0; /* crossed our CLOSE (or EXIT) on the wire */
		return failf(l, JG_ERR_PROTO, "%s for channel %u, which was never opened",
			     jg_frame_type_name(f->type), ch);
	}
	if (!frame_allowed(l, c, f->type))
		return failf(l, JG_ERR_PROTO, "channel %u: unexpected %s (channel %s)", ch,
			     jg_frame_type_name(f->type), state_name(c->state));
	switch ((enum jg_frame_type)f->type) {
	case JG_FRAME_OPEN_OK:
		c->state = CHAN_OPEN;
		if (!c->early)
			jg_flow_init(&c->flow, l->peer_window, JG_FRAME_DEFAULT_WINDOW);
		deliver(l, c, f, 0);
		return 0;
	case JG_FRAME_DATA:
		return on_data(l, c, f);
	case JG_FRAME_EOF:
		if (c->peer_eof & EOF_BIT(f->flags))
			return failf(l, JG_ERR_PROTO, "channel %u: EOF twice", ch);
		c->peer_eof |= EOF_BIT(f->flags);
		deliver(l, c, f, 0);
		return 0;
	case JG_FRAME_WINDOW:
		if (jg_flow_on_window(&c->flow, f->aux) != 0)
			return failf(l, JG_ERR_PROTO,
				     "channel %u: WINDOW of %u overflows the send window of %u", ch,
				     f->aux, c->flow.send_window);
		if (l->cb.on_writable != NULL)
			l->cb.on_writable(l, ch, c->ud, l->ud);
		return 0;
	case JG_FRAME_SIGNAL:
	case JG_FRAME_RESIZE:
		deliver(l, c, f, 0);
		return 0;
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_EXIT:
	case JG_FRAME_CLOSE:
		deliver(l, c, f, 1);
		return 0;
	case JG_FRAME_DEAD:
		ud = c->ud;
		jg_chantab_forget(&l->chans, ch);
		sanitize(why, sizeof(why), f->payload, f->length,
			 "channel declared dead by the peer");
		if (l->cb.on_dead != NULL)
			l->cb.on_dead(l, ch, ud, why, l->ud);
		return 0;
	case JG_FRAME_HELLO:
	case JG_FRAME_OPEN:
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
		break;
	}
	return failf(l, JG_ERR_PROTO, "channel %u: unexpected %s", ch, jg_frame_type_name(f->type));
}

static int dispatch(struct jg_link *l, const struct jg_frame *f)
{
	char why[REASON_MAX];

	if (!l->hello_received)
		return on_hello(l, f);
	switch (f->type) {
	case JG_FRAME_HELLO:
		return failf(l, JG_ERR_PROTO, "second HELLO from the peer");
	case JG_FRAME_PING:
	case JG_FRAME_PONG:
		if (f->channel != 0)
			return failf(l, JG_ERR_PROTO, "%s on channel %u (must be 0)",
				     jg_frame_type_name(f->type), f->channel);
		if (f->type == JG_FRAME_PONG) {
			if (l->cb.on_pong != NULL)
				l->cb.on_pong(l, f->aux, l->ud);
			return 0;
		}
		/* No PONG before our HELLO: the peer would refuse it as our first frame. */
		if (!l->hello_sent)
			return 0;
		return jg_frame_put(l->out, JG_FRAME_PONG, 0, 0, f->aux, NULL, 0);
	case JG_FRAME_OPEN:
		return on_open(l, f);
	case JG_FRAME_DEAD:
		if (f->channel != 0)
			break;
		sanitize(why, sizeof(why), f->payload, f->length, "link declared dead by the peer");
		link_die(l, JG_ERR_CLOSED, why, 0);
		return JG_ERR_CLOSED;
	}
	return on_channel_frame(l, f);
}

/* Dispatch every whole frame the decoder holds. */
static int link_process(struct jg_link *l)
{
	struct jg_frame f;
	int r;

	/* Fed from a callback: the loop below is already running and will get to it. */
	if (l->in_feed)
		return 0;
	l->in_feed = 1;
	while ((r = jg_frame_decoder_next(l->dec, &f)) == 1) {
		if ((r = dispatch(l, &f)) != 0)
			break;
		if (l->err != 0) {
			r = JG_ERR_CLOSED; /* a callback failed the link */
			break;
		}
	}
	if (r < 0 && l->err == 0 && jg_frame_decoder_error(l->dec) != NULL)
		link_die(l, r, jg_frame_decoder_error(l->dec), 1);
	l->in_feed = 0;
	return r < 0 ? r : 0;
}

int jg_link_feed(struct jg_link *l, const void *data, size_t len)
{
	int r;

	if (l->err != 0)
		return JG_ERR_CLOSED;
	if ((r = jg_frame_decoder_feed(l->dec, data, len)) != 0)
		return r;
	return link_process(l);
}

int jg_link_feed_evbuffer(struct jg_link *l, struct evbuffer *src)
{
	int r;

	if (l->err != 0) {
		evbuffer_drain(src, evbuffer_get_length(src));
		return JG_ERR_CLOSED;
	}
	if ((r = jg_frame_decoder_feed_evbuffer(l->dec, src)) != 0)
		return r;
	return link_process(l);
}

/* ---- sending ---- */

/* The live channel CH for a send: JG_ERR_CLOSED on a failed link, JG_ERR_STATE before our
 * HELLO, JG_ERR_NOCHAN when CH is not in the table. */
static int sendable_chan(const struct jg_link *l, uint32_t ch, struct jg_chan **c)
{
	if (l->err != 0)
		return JG_ERR_CLOSED;
	if (!l->hello_sent)
		return JG_ERR_STATE;
	if ((*c = jg_chantab_find(&l->chans, ch)) == NULL)
		return JG_ERR_NOCHAN;
	return 0;
}

/* As sendable_chan(), and the channel must be open and used by ROLE (0: either). */
static int open_chan(const struct jg_link *l, uint32_t ch, int role, struct jg_chan **c)
{
	int r;

	if ((r = sendable_chan(l, ch, c)) != 0)
		return r;
	if (role != 0 && (int)l->role != role)
		return JG_ERR_STATE;
	/* An OPENER may send DATA and EOF before OPEN_OK (see jg_link_open). */
	if ((*c)->state != CHAN_OPEN && !((*c)->state == CHAN_OPENING && (*c)->early))
		return JG_ERR_STATE;
	return 0;
}

/* Clip peer-bound text (OPEN_FAIL and DEAD reasons) to what the peer accepts. */
static uint32_t text_len(const struct jg_link *l, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	return (uint32_t)(len < l->send_max ? len : l->send_max);
}

int64_t jg_link_open(struct jg_link *l, uint32_t kind, const void *payload, size_t len,
		     void *chan_ud)
{
	uint32_t ch;
	struct jg_chan *c;
	int r;

	if (l->err != 0)
		return JG_ERR_CLOSED;
	if (l->role != JG_LINK_OPENER || !l->hello_sent || l->highest == UINT32_MAX)
		return JG_ERR_STATE;
	if (len > l->send_max)
		return JG_ERR_TOOBIG;
	ch = l->highest + 1;
	if ((c = jg_chantab_insert(&l->chans, ch)) == NULL)
		return JG_ERR_NOMEM;
	c->state = CHAN_OPENING;
	c->ud = chan_ud;
	/* Once the peer's window is known, DATA may follow the OPEN at once: for kinds the
	 * acceptor answers synchronously (PUT) that saves a round trip. */
	if (l->hello_received) {
		jg_flow_init(&c->flow, l->peer_window, JG_FRAME_DEFAULT_WINDOW);
		c->early = 1;
	}
	if ((r = jg_frame_put(l->out, JG_FRAME_OPEN, 0, ch, kind, payload, (uint32_t)len)) != 0) {
		jg_chantab_forget(&l->chans, ch);
		return r;
	}
	l->highest = ch;
	return ch;
}

int jg_link_accept_with(struct jg_link *l, uint32_t ch, void *chan_ud, const void *payload,
			size_t len)
{
	struct jg_chan *c;
	int r;

	if ((r = sendable_chan(l, ch, &c)) != 0)
		return r;
	if (c->state != CHAN_PENDING)
		return JG_ERR_STATE;
	if (len > l->send_max)
		return JG_ERR_TOOBIG;
	if ((r = jg_frame_put(l->out, JG_FRAME_OPEN_OK, 0, ch, 0, payload, (uint32_t)len)) != 0)
		return r;
	c->state = CHAN_OPEN;
	c->ud = chan_ud;
	jg_flow_init(&c->flow, l->peer_window, JG_FRAME_DEFAULT_WINDOW);
	return 0;
}

int jg_link_accept(struct jg_link *l, uint32_t ch, void *chan_ud)
{
	return jg_link_accept_with(l, ch, chan_ud, NULL, 0);
}

int jg_link_reject(struct jg_link *l, uint32_t ch, const char *reason)
{
	struct jg_chan *c;
	int r;

	if ((r = sendable_chan(l, ch, &c)) != 0)
		return r;
	if (c->state != CHAN_PENDING)
		return JG_ERR_STATE;
	if ((r = jg_frame_put(l->out, JG_FRAME_OPEN_FAIL, 0, ch, 0, reason, text_len(l, reason))) !=
	    0)
		return r;
	jg_chantab_forget(&l->chans, ch);
	return 0;
}

int64_t jg_link_send_data(struct jg_link *l, uint32_t ch, uint8_t flags, const void *data,
			  size_t len)
{
	const uint8_t *p = data;
	struct jg_chan *c;
	size_t n, off = 0;
	int r;

	if ((r = open_chan(l, ch, 0, &c)) != 0)
		return r;
	if ((flags & ~JG_DATA_STDERR) != 0)
		return JG_ERR_INVAL;
	if (c->our_eof & EOF_BIT(flags))
		return JG_ERR_STATE;
	n = jg_flow_sendable(&c->flow, len);
	while (off < n) {
		uint32_t chunk = (uint32_t)(n - off < l->send_max ? n - off : l->send_max);

		if ((r = jg_frame_put(l->out, JG_FRAME_DATA, flags, ch, 0, p + off, chunk)) != 0)
			break;
		off += chunk;
	}
	(void)jg_flow_sent(&c->flow, off);
	return off > 0 || r == 0 ? (int64_t)off : r;
}

int64_t jg_link_send_data_buf(struct jg_link *l, uint32_t ch, uint8_t flags, struct evbuffer *src,
			      size_t len)
{
	struct jg_chan *c;
	size_t n, off = 0;
	int r = 0;

	if ((r = open_chan(l, ch, 0, &c)) != 0)
		return r;
	if ((flags & ~JG_DATA_STDERR) != 0)
		return JG_ERR_INVAL;
	if (c->our_eof & EOF_BIT(flags))
		return JG_ERR_STATE;
	if (len > evbuffer_get_length(src))
		len = evbuffer_get_length(src);
	n = jg_flow_sendable(&c->flow, len);
	while (off < n) {
		uint32_t chunk = (uint32_t)(n - off < l->send_max ? n - off : l->send_max);

		/* The header, then the payload's chains moved behind it (whole chains
		 * change hands; only a partial one is copied). */
		if ((r = jg_frame_put_header(l->out, JG_FRAME_DATA, flags, ch, 0, chunk)) != 0)
			break;
		if (evbuffer_remove_buffer(src, l->out, chunk) != (int)chunk) {
			r = JG_ERR_NOMEM; /* cannot happen: LEN was clamped to SRC */
			break;
		}
		off += chunk;
	}
	(void)jg_flow_sent(&c->flow, off);
	return off > 0 || r == 0 ? (int64_t)off : r;
}

size_t jg_link_window(const struct jg_link *l, uint32_t ch)
{
	struct jg_chan *c;

	if (open_chan(l, ch, 0, &c) != 0)
		return 0;
	return c->flow.send_window;
}

int jg_link_consumed(struct jg_link *l, uint32_t ch, size_t n)
{
	struct jg_chan *c;
	uint32_t inc;
	int r;

	if ((r = sendable_chan(l, ch, &c)) == JG_ERR_NOCHAN && ch != 0 && ch <= l->highest)
		return 0; /* the channel ended while its consumer still drained it */
	if (r != 0)
		return r;
	if (c->state != CHAN_OPEN)
		return JG_ERR_STATE;
	if ((inc = jg_flow_consumed(&c->flow, n)) == 0)
		return 0;
	return jg_frame_put(l->out, JG_FRAME_WINDOW, 0, ch, inc, NULL, 0);
}

int jg_link_send_eof(struct jg_link *l, uint32_t ch, uint8_t flags)
{
	struct jg_chan *c;
	int r;

	if ((r = open_chan(l, ch, 0, &c)) != 0)
		return r;
	if ((flags & ~JG_DATA_STDERR) != 0)
		return JG_ERR_INVAL;
	if (c->our_eof & EOF_BIT(flags))
		return JG_ERR_STATE;
	if ((r = jg_frame_put(l->out, JG_FRAME_EOF, flags, ch, 0, NULL, 0)) != 0)
		return r;
	c->our_eof |= EOF_BIT(flags);
	return 0;
}

int jg_link_send_exit(struct jg_link *l, uint32_t ch, uint8_t flags, uint32_t code)
{
	struct jg_chan *c;
	int r;

	if ((r = open_chan(l, ch, JG_LINK_ACCEPTOR, &c)) != 0)
		return r;
	if ((flags & ~(JG_EXIT_SIGNALED | JG_EXIT_CORE)) != 0)
		return JG_ERR_INVAL;
	if ((r = jg_frame_put(l->out, JG_FRAME_EXIT, flags, ch, code, NULL, 0)) != 0)
		return r;
	jg_chantab_forget(&l->chans, ch);
	return 0;
}

int jg_link_send_signal(struct jg_link *l, uint32_t ch, uint32_t signo)
{
	struct jg_chan *c;
	int r;

	if ((r = open_chan(l, ch, JG_LINK_OPENER, &c)) != 0)
		return r;
	return jg_frame_put(l->out, JG_FRAME_SIGNAL, 0, ch, signo, NULL, 0);
}

int jg_link_send_resize(struct jg_link *l, uint32_t ch, uint16_t rows, uint16_t cols)
{
	struct jg_chan *c;
	int r;

	if ((r = open_chan(l, ch, JG_LINK_OPENER, &c)) != 0)
		return r;
	return jg_frame_put(l->out, JG_FRAME_RESIZE, 0, ch, (uint32_t)rows << 16 | cols, NULL, 0);
}

int jg_link_close(struct jg_link *l, uint32_t ch)
{
	struct jg_chan *c;
	int r;

	if ((r = sendable_chan(l, ch, &c)) != 0)
		return r;
	if ((r = jg_frame_put(l->out, JG_FRAME_CLOSE, 0, ch, 0, NULL, 0)) != 0)
		return r;
	jg_chantab_forget(&l->chans, ch);
	return 0;
}

int jg_link_send_dead(struct jg_link *l, uint32_t ch, const char *reason)
{
	struct jg_chan *c;
	int r;

	if (ch == 0) {
		/* The whole link: tell the peer, then end every channel here too. */
		if (l->err != 0)
			return JG_ERR_CLOSED;
		link_die(l, JG_ERR_CLOSED, reason != NULL ? reason : "link closed", 1);
		return 0;
	}
	if ((r = sendable_chan(l, ch, &c)) != 0)
		return r;
	if ((r = jg_frame_put(l->out, JG_FRAME_DEAD, 0, ch, 0, reason, text_len(l, reason))) != 0)
		return r;
	jg_chantab_forget(&l->chans, ch);
	return 0;
}

int jg_link_ping(struct jg_link *l, uint32_t aux)
{
	if (l->err != 0)
		return JG_ERR_CLOSED;
	if (!l->hello_sent)
		return JG_ERR_STATE;
	return jg_frame_put(l->out, JG_FRAME_PING, 0, 0, aux, NULL, 0);
}

int jg_link_set_channel_ud(struct jg_link *l, uint32_t ch, void *chan_ud)
{
	struct jg_chan *c;

	if (l->err != 0)
		return JG_ERR_CLOSED;
	if ((c = jg_chantab_find(&l->chans, ch)) == NULL)
		return JG_ERR_NOCHAN;
	c->ud = chan_ud;
	return 0;
}
