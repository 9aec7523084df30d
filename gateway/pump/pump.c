/* The pump: one agent channel <-> one HTTP/2 stream (contract in pump.h).
 *
 * Bytes move without copies where libevent allows: request bytes go straight
 * from the HTTP/2 callback's buffer into the link's output when nothing waits
 * (one copy, the one nghttp2's borrowed buffer forces); what waits is moved
 * chain by chain behind each frame header (jg_link_send_data_buf). */
#include <stdlib.h>

#include <event2/buffer.h>

#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/link.h"

static void pump_chan_frame(struct jg_chan_user *u, const struct jg_frame *f);
static void pump_chan_writable(struct jg_chan_user *u);
static void pump_chan_dead(struct jg_chan_user *u, const char *reason);

static const struct jg_chan_cbs pump_chan_cbs = {
    .on_frame = pump_chan_frame,
    .on_writable = pump_chan_writable,
    .on_dead = pump_chan_dead,
};

int jg_pump_init(struct jg_pump *p, const struct jg_pump_cbs *cbs, void *ud,
		 const struct jg_pump_stream_cbs *sops, void *s)
{
	*p = (struct jg_pump){
	    .chan.cbs = &pump_chan_cbs, .cbs = cbs, .ud = ud, .sops = sops, .stream = s};
	p->up = evbuffer_new();
	p->down = evbuffer_new();
	if (p->up == NULL || p->down == NULL) {
		jg_pump_clear(p);
		return JG_ERR_NOMEM;
	}
	return 0;
}

void jg_pump_clear(struct jg_pump *p)
{
	jg_pump_abandon(p);
	if (p->up != NULL)
		evbuffer_free(p->up);
	if (p->down != NULL)
		evbuffer_free(p->down);
	p->up = p->down = NULL;
	p->stream = NULL;
}

struct jg_chan_user *jg_pump_chan(struct jg_pump *p)
{
	return &p->chan;
}

/* Whether bytes may go to the channel now. */
static int up_allowed(const struct jg_pump *p)
{
	return p->state == JG_PUMP_OPEN || (p->state == JG_PUMP_OPENING && p->early);
}

static void give_credit(struct jg_pump *p, size_t n)
{
	p->up_bytes += n;
	if (p->stream != NULL && n > 0)
		p->sops->consume(p->stream, n);
}

/* Move queued request bytes to the channel as far as its window allows; EOF after
 * the last of them when the body ended. */
static void pump_up(struct jg_pump *p)
{
	size_t len;
	int64_t n;

	if (!up_allowed(p))
		return;
	while ((len = evbuffer_get_length(p->up)) > 0) {
		n = jg_link_send_data_buf(p->link, p->ch, 0, p->up, len);
		if (n <= 0)
			break;
		give_credit(p, (size_t)n);
	}
	/* JG_ERR_STATE: early but the link is still connecting (no window before
	 * OPEN_OK); OPEN_OK comes back here. */
	if (p->up_end && !p->up_eof_sent && evbuffer_get_length(p->up) == 0 &&
	    jg_link_send_eof(p->link, p->ch, 0) == 0)
		p->up_eof_sent = 1;
}

void jg_pump_attach(struct jg_pump *p, struct jg_link *l, uint32_t ch, int early)
{
	p->link = l;
	p->ch = ch;
	p->early = early;
	p->state = JG_PUMP_OPENING;
	pump_up(p);
}

void jg_pump_gone(struct jg_pump *p)
{
	p->state = JG_PUMP_GONE;
	p->link = NULL;
}

void jg_pump_up(struct jg_pump *p, const void *data, size_t len)
{
	int64_t n = 0;

	if (p->state == JG_PUMP_GONE || p->up_end) {
		/* Nobody will read them: credit at once so the client is not stalled. */
		give_credit(p, len);
		return;
	}
	if (up_allowed(p) && evbuffer_get_length(p->up) == 0) {
		n = jg_link_send_data(p->link, p->ch, 0, data, len);
		if (n < 0)
			n = 0;
		give_credit(p, (size_t)n);
	}
	if ((size_t)n < len)
		evbuffer_add(p->up, (const char *)data + n, len - (size_t)n);
}

size_t jg_pump_window(const struct jg_pump *p)
{
	if (!up_allowed(p) || p->up_end)
		return 0;
	return jg_link_window(p->link, p->ch);
}

size_t jg_pump_offer(struct jg_pump *p, const void *data, size_t len)
{
	int64_t n;

	if (!up_allowed(p) || p->up_end || len == 0)
		return 0;
	n = jg_link_send_data(p->link, p->ch, 0, data, len);
	if (n <= 0)
		return 0;
	p->up_bytes += (uint64_t)n;
	return (size_t)n;
}

void jg_pump_up_end(struct jg_pump *p)
{
	p->up_end = 1;
	pump_up(p);
}

void jg_pump_down_open(struct jg_pump *p)
{
	p->down_open = 1;
}

void jg_pump_sent(struct jg_pump *p, size_t n)
{
	size_t credit = n < p->owed ? n : (size_t)p->owed;

	if (credit == 0)
		return;
	p->owed -= credit;
	if (p->state != JG_PUMP_GONE)
		(void)jg_link_consumed(p->link, p->ch, credit);
}

void jg_pump_abandon(struct jg_pump *p)
{
	if (p->state == JG_PUMP_OPENING || p->state == JG_PUMP_OPEN)
		(void)jg_link_close(p->link, p->ch);
	if (p->state != JG_PUMP_IDLE || p->link != NULL)
		jg_pump_gone(p);
}

void jg_pump_stream_gone(struct jg_pump *p)
{
	p->stream = NULL;
}

struct jg_link *jg_pump_link(const struct jg_pump *p)
{
	return p->state == JG_PUMP_OPENING || p->state == JG_PUMP_OPEN ? p->link : NULL;
}

uint32_t jg_pump_channel(const struct jg_pump *p)
{
	return p->ch;
}

size_t jg_pump_queued(const struct jg_pump *p)
{
	return p->up != NULL ? evbuffer_get_length(p->up) : 0;
}

/* Channel DATA toward the stream: the op frames it, or raw bytes once open; what
 * nobody queues is credited now. */
static void pump_down(struct jg_pump *p, const struct jg_frame *f)
{
	int queued = 0;

	if (p->cbs->on_down != NULL) {
		queued = p->cbs->on_down(p->ud, f);
	} else if (p->down_open && p->stream != NULL) {
		evbuffer_add(p->down, f->payload, f->length);
		p->sops->append(p->stream, p->down);
		queued = 1;
	}
	if (queued) {
		p->owed += f->length;
		p->down_bytes += f->length;
	} else if (p->state != JG_PUMP_GONE) {
		(void)jg_link_consumed(p->link, p->ch, f->length);
	}
}

static void pump_chan_frame(struct jg_chan_user *u, const struct jg_frame *f)
{
	struct jg_pump *p = (struct jg_pump *)u;

	switch (f->type) {
	case JG_FRAME_DATA:
		pump_down(p, f);
		return;
	case JG_FRAME_EOF:
		if (p->cbs->on_down != NULL) {
			(void)p->cbs->on_down(p->ud, f);
			return;
		}
		break;
	case JG_FRAME_OPEN_OK:
		p->state = JG_PUMP_OPEN;
		p->cbs->on_frame(p->ud, f);
		pump_up(p); /* unless the op abandoned the channel meanwhile */
		return;
	case JG_FRAME_OPEN_FAIL:
	case JG_FRAME_EXIT:
	case JG_FRAME_CLOSE:
		jg_pump_gone(p); /* the link forgets the channel after this callback */
		break;
	default:
		break;
	}
	p->cbs->on_frame(p->ud, f);
}

static void pump_chan_writable(struct jg_chan_user *u)
{
	struct jg_pump *p = (struct jg_pump *)u;

	pump_up(p);
	if (p->cbs->on_writable != NULL && p->state != JG_PUMP_GONE)
		p->cbs->on_writable(p->ud);
}

static void pump_chan_dead(struct jg_chan_user *u, const char *reason)
{
	struct jg_pump *p = (struct jg_pump *)u;
	int link_lost = p->link != NULL && jg_link_error(p->link) != NULL;

	jg_pump_gone(p);
	p->cbs->on_dead(p->ud, reason, link_lost);
}
