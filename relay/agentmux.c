/* The channels of an agent stream: sockets <-> frames (relay/agentmux.h). */
#include <stdlib.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "relay/agentmux.h"
#include "relay/frame.h"
#include "relay/log.h"

#define CHUNK 16384

struct mux_chan {
	struct jg_agentmux *m;
	uint32_t id;
	struct bufferevent *bev;
	int closing; /* the far end closed it: free once our bytes are written */
	struct mux_chan *next, *prev;
};

struct jg_agentmux {
	struct event_base *base;
	jg_agentmux_send_fn send;
	void *arg;
	int paused;
	struct mux_chan *chans;
};

struct jg_agentmux *jg_agentmux_new(struct event_base *base, jg_agentmux_send_fn send, void *arg)
{
	struct jg_agentmux *m = calloc(1, sizeof(*m));

	if (m != NULL) {
		m->base = base;
		m->send = send;
		m->arg = arg;
	}
	return m;
}

static void chan_free(struct mux_chan *c)
{
	struct jg_agentmux *m = c->m;

	if (c->prev)
		c->prev->next = c->next;
	else
		m->chans = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

void jg_agentmux_drop_all(struct jg_agentmux *m)
{
	while (m->chans != NULL)
		chan_free(m->chans);
}

void jg_agentmux_free(struct jg_agentmux *m)
{
	if (m == NULL)
		return;
	jg_agentmux_drop_all(m);
	free(m);
}

static struct mux_chan *chan_find(const struct jg_agentmux *m, uint32_t id)
{
	for (struct mux_chan *c = m->chans; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void chan_read(struct bufferevent *bev, void *arg)
{
	struct mux_chan *c = arg;
	uint8_t buf[CHUNK];
	int n;

	while ((n = evbuffer_remove(bufferevent_get_input(bev), buf, sizeof(buf))) > 0)
		c->m->send(c->m->arg, JG_FRAME_DATA, c->id, buf, (uint32_t)n);
}

static void chan_written(struct bufferevent *bev, void *arg)
{
	struct mux_chan *c = arg;

	(void)bev;
	if (c->closing)
		chan_free(c);
}

static void chan_event(struct bufferevent *bev, short what, void *arg)
{
	struct mux_chan *c = arg;
	struct jg_agentmux *m = c->m;
	uint32_t id = c->id;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* This side is done with the agent (or gone): the far end closes its own. */
		chan_free(c);
		m->send(m->arg, JG_FRAME_CLOSE, id, NULL, 0);
	}
}

int jg_agentmux_add(struct jg_agentmux *m, uint32_t id, int fd)
{
	struct mux_chan *c = calloc(1, sizeof(*c));

	if (c == NULL ||
	    (c->bev = bufferevent_socket_new(m->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		free(c);
		return -1;
	}
	c->m = m;
	c->id = id;
	bufferevent_setcb(c->bev, chan_read, chan_written, chan_event, c);
	if (!m->paused)
		bufferevent_enable(c->bev, EV_READ);
	c->next = m->chans;
	if (m->chans)
		m->chans->prev = c;
	m->chans = c;
	return 0;
}

int jg_agentmux_has(const struct jg_agentmux *m, uint32_t id)
{
	return chan_find(m, id) != NULL;
}

void jg_agentmux_drop(struct jg_agentmux *m, uint32_t id)
{
	struct mux_chan *c = chan_find(m, id);

	if (c != NULL)
		chan_free(c);
}

int jg_agentmux_frame(struct jg_agentmux *m, const struct jg_frame *f)
{
	struct mux_chan *c;

	if (f->type != JG_FRAME_DATA && f->type != JG_FRAME_EOF && f->type != JG_FRAME_CLOSE)
		return 0;
	if ((c = chan_find(m, f->channel)) == NULL || c->closing)
		return 1; /* closed here meanwhile: nobody reads these bytes */
	if (f->type == JG_FRAME_DATA) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > JG_AGENTMUX_QUEUE) {
			jg_log_warn("agent channel %u: the socket does not read the agent's "
				    "bytes; closed",
				    c->id);
			chan_free(c);
			m->send(m->arg, JG_FRAME_CLOSE, f->channel, NULL, 0);
			return 1;
		}
		bufferevent_write(c->bev, f->payload, f->length);
		return 1;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		chan_free(c);
	} else {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
	return 1;
}

void jg_agentmux_reading(struct jg_agentmux *m, int on)
{
	m->paused = !on;
	for (struct mux_chan *c = m->chans; c != NULL; c = c->next)
		if (!c->closing) {
			if (on)
				bufferevent_enable(c->bev, EV_READ);
			else
				bufferevent_disable(c->bev, EV_READ);
		}
}
