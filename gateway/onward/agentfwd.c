/* Agent streams: a controller's ssh-agent, lent to the onward ssh of one request
 * (gateway/onward/agentfwd.h says the rules; docs/api.md the frames).
 *
 * An agent stream is an operation of its own (POST /v1/agent).  A request naming it
 * (x-jumpgate-agent) claims it; once policy admits that request the stream lends: each
 * connection the onward ssh makes to its agent socket (agentsock.c) becomes a channel
 * here.  When the request ends (jg_agentfwd_release) the stream ends and its channels
 * close: the agent is reachable for that request only.
 *
 * The channels themselves (sockets <-> DATA, EOF, CLOSE) are relay/agentmux.c, as on
 * the controller's side.  Bounds: the agent protocol is small request/answer messages.
 * Down (to the controller), ssh's connections are not read while the stream holds more
 * than QUEUE_MAX unsent bytes; up, the mux closes a connection that does not take its
 * bytes.  Credit up is given back as bytes are handled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "auth/policy.h"
#include "config/target.h"
#include "gateway/onward/agentfwd.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "relay/agentmux.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/log.h"
#include "relay/ssh.h"

#define QUEUE_MAX (256 * 1024)

struct jg_agentfwd {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	int32_t id;
	struct jg_frame_decoder *dec;
	struct evbuffer *scratch;
	/* Claimed by a request: the chain it goes to, whose, how far; admitted by policy. */
	char *key;
	char owner[256];
	int how, admitted, ended;
	uint32_t next_ch;
	struct jg_agentmux *mux;	 /* its channels: the onward ssh's agent connections */
	struct jg_agentfwd *next, *prev; /* gw->agentfwds */
};

static const struct jg_op_cbs af_cbs;

static struct jg_agentfwd *op_af(struct jg_op *op)
{
	return (struct jg_agentfwd *)((char *)op - offsetof(struct jg_agentfwd, op));
}

/* A frame down to the controller (the mux's sender).  Reading ssh's connections
 * pauses while the stream holds more than QUEUE_MAX unsent bytes (af_on_sent resumes). */
static void send_frame(void *arg, uint8_t type, uint32_t ch, const void *p, uint32_t len)
{
	struct jg_agentfwd *af = arg;

	if (af->stream == NULL || af->ended)
		return;
	if (jg_frame_put(af->scratch, type, 0, ch, 0, p, len) != 0) {
		jg_log_error("agent stream %d: out of memory", af->id);
		return;
	}
	jg_stream_append(af->stream, af->scratch);
	jg_stream_flush(af->stream);
	if (jg_stream_queued(af->stream) > QUEUE_MAX)
		jg_agentmux_reading(af->mux, 0);
}

/* The stream ends (the request that borrowed it ended, or the controller did). */
static void af_end(struct jg_agentfwd *af)
{
	jg_agentmux_drop_all(af->mux);
	if (af->stream != NULL && !af->ended) {
		af->ended = 1;
		jg_stream_finish(af->stream);
		jg_stream_flush(af->stream);
	}
	af->ended = 1;
	af->admitted = 0;
}

int jg_agentfwd_lend(struct jg_gateway *gw, const char *key, const char *owner, int how, int fd)
{
	struct jg_agentfwd *af;

	for (af = gw->agentfwds; af != NULL; af = af->next)
		if (af->admitted && !af->ended && af->stream != NULL && af->how == how &&
		    strcmp(af->key, key) == 0 && strcmp(af->owner, owner) == 0)
			break;
	if (af == NULL) {
		close(fd);
		return -1;
	}
	if (jg_agentmux_add(af->mux, ++af->next_ch, fd) != 0)
		return -1;
	jg_log_debug("agent stream %d: channel %u for the onward ssh to %s", af->id, af->next_ch,
		     key);
	send_frame(af, JG_FRAME_OPEN, af->next_ch, NULL, 0);
	return 0;
}

/* One frame from the controller. -1: the stream is unusable (ended). */
static int up_frame(struct jg_agentfwd *af, const struct jg_frame *f)
{
	if (jg_agentmux_frame(af->mux, f))
		return 0;
	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		return 0;
	case JG_FRAME_OPEN_FAIL:
		jg_log_info("agent stream %d of %s: the controller cannot reach its ssh-agent: "
			    "%.*s",
			    af->id, af->owner, (int)(f->length > 300 ? 300 : f->length),
			    (const char *)f->payload);
		jg_agentmux_drop(af->mux, f->channel);
		return 0;
	default:
		jg_log_warn("agent stream %d of %s: unexpected %s frame from the controller",
			    af->id, af->owner, jg_frame_type_name(f->type));
		return -1;
	}
}

static void af_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	struct jg_agentfwd *af = op_af(op);
	struct jg_frame f;
	int r;

	if (af->ended || jg_frame_decoder_feed(af->dec, data, len) != 0) {
		jg_stream_consume(af->stream, len);
		return;
	}
	while ((r = jg_frame_decoder_next(af->dec, &f)) == 1)
		if (up_frame(af, &f) != 0) {
			af_end(af);
			break;
		}
	if (r < 0) {
		jg_log_warn("agent stream %d of %s: %s", af->id, af->owner,
			    jg_frame_decoder_error(af->dec));
		af_end(af);
	}
	jg_stream_consume(af->stream, len);
}

static void af_on_body_end(struct jg_op *op)
{
	af_end(op_af(op));
}

static void af_on_sent(struct jg_op *op, size_t n)
{
	struct jg_agentfwd *af = op_af(op);

	(void)n;
	if (af->stream != NULL && jg_stream_queued(af->stream) <= QUEUE_MAX / 2)
		jg_agentmux_reading(af->mux, 1);
}

static void af_on_close(struct jg_op *op, const char *why)
{
	struct jg_agentfwd *af = op_af(op);
	struct jg_gateway *gw = af->gw;

	(void)why;
	af->stream = NULL;
	af_end(af);
	if (af->prev)
		af->prev->next = af->next;
	else if (gw->agentfwds == af)
		gw->agentfwds = af->next;
	if (af->next)
		af->next->prev = af->prev;
	jg_agentmux_free(af->mux);
	jg_frame_decoder_free(af->dec);
	evbuffer_free(af->scratch);
	free(af->key);
	free(af);
}

static const struct jg_op_cbs af_cbs = {
    .on_body = af_on_body,
    .on_body_end = af_on_body_end,
    .on_sent = af_on_sent,
    .on_close = af_on_close,
};

struct jg_op *jg_agentfwd_start(struct jg_gateway *gw, struct jg_stream *s)
{
	struct jg_agentfwd *af = calloc(1, sizeof(*af));

	if (af == NULL || (af->dec = jg_frame_decoder_new(0)) == NULL ||
	    (af->scratch = evbuffer_new()) == NULL ||
	    (af->mux = jg_agentmux_new(gw->base, send_frame, af)) == NULL) {
		if (af != NULL) {
			jg_frame_decoder_free(af->dec);
			if (af->scratch != NULL)
				evbuffer_free(af->scratch);
		}
		free(af);
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	af->op.cbs = &af_cbs;
	af->gw = gw;
	af->stream = s;
	af->id = jg_stream_id(s);
	if (jg_stream_start(s, 200, "application/x-jumpgate-frames") != 0) {
		jg_agentmux_free(af->mux);
		jg_frame_decoder_free(af->dec);
		evbuffer_free(af->scratch);
		free(af);
		jg_stream_reset(s, NGHTTP2_INTERNAL_ERROR);
		return NULL;
	}
	af->next = gw->agentfwds;
	if (gw->agentfwds)
		gw->agentfwds->prev = af;
	gw->agentfwds = af;
	return &af->op;
}

/* The agent stream ID of S's connection, or NULL. */
static struct jg_agentfwd *sibling_af(const struct jg_stream *s, int32_t id)
{
	struct jg_stream *o = jg_stream_sibling(s, id);
	struct jg_op *op = o != NULL ? jg_stream_op(o) : NULL;

	return op != NULL && op->cbs == &af_cbs ? op_af(op) : NULL;
}

/* The first hop that is not local: the one whose ssh would use the agent. */
static const struct jg_hop *first_remote(const struct jg_chain *c)
{
	return c->nhops > 1 && c->hops[0].method == JG_METHOD_LOCAL ? &c->hops[1] : &c->hops[0];
}

int jg_agentfwd_apply(struct jg_gateway *gw, struct jg_stream *s, struct jg_chain *chain, char *why,
		      size_t len)
{
	const char *v = jg_stream_header(s, JG_AGENT_HEADER);
	struct jg_agentfwd *af;
	const struct jg_hop *hop;
	char *end;
	long id;
	int32_t mine;
	int how = JG_POLICY_AGENT_GATEWAY;

	(void)gw;
	if (v == NULL)
		return 0;
	id = strtol(v, &end, 10);
	end += strspn(end, " \t");
	if (*end == ';') {
		end++;
		end += strspn(end, " \t");
		if (strcmp(end, "target") != 0)
			goto bad;
		how = JG_POLICY_AGENT_TARGET;
	} else if (*end != '\0') {
		goto bad;
	}
	if (id <= 0 || id > INT32_MAX || (af = sibling_af(s, (int32_t)id)) == NULL) {
		snprintf(why, len,
			 JG_AGENT_HEADER
			 ": %ld is not an open agent stream (POST /v1/agent) of this "
			 "connection",
			 id);
		return 400;
	}
	if (jg_stream_agent(s, &mine) == how && mine == (int32_t)id && af->key != NULL &&
	    strcmp(af->key, chain->key) == 0) {
		/* Claimed by S already (its policy check came first): mark this chain too. */
		chain->agent = how;
		snprintf(chain->agent_owner, sizeof(chain->agent_owner), "%s", af->owner);
		return 0;
	}
	if (af->key != NULL || af->ended) {
		snprintf(why, len, JG_AGENT_HEADER ": agent stream %ld already served a request",
			 id);
		return 400;
	}
	hop = chain->nhops > 0 ? first_remote(chain) : NULL;
	if (hop == NULL || hop->method != JG_METHOD_SSH || hop->ssh.raw) {
		snprintf(why, len,
			 "cannot forward the ssh-agent to %s: only a target reached over ssh "
			 "(with the agent, not raw) uses one",
			 chain->display);
		return 400;
	}
	if ((af->key = strdup(chain->key)) == NULL) {
		snprintf(why, len, "out of memory");
		return 500;
	}
	snprintf(af->owner, sizeof(af->owner), "%s", jg_stream_identity(s));
	af->how = how;
	chain->agent = how;
	snprintf(chain->agent_owner, sizeof(chain->agent_owner), "%s", af->owner);
	jg_stream_set_agent(s, (int32_t)id, how);
	return 0;
bad:
	snprintf(why, len, JG_AGENT_HEADER ": \"%.60s\" is not ID or \"ID; target\"", v);
	return 400;
}

void jg_agentfwd_admit(struct jg_stream *s)
{
	int32_t id;
	struct jg_agentfwd *af;

	if (jg_stream_agent(s, &id) != 0 && (af = sibling_af(s, id)) != NULL && !af->ended)
		af->admitted = 1;
}

void jg_agentfwd_release(struct jg_stream *s)
{
	int32_t id;
	struct jg_agentfwd *af;

	if (jg_stream_agent(s, &id) != 0 && (af = sibling_af(s, id)) != NULL)
		af_end(af);
	jg_stream_set_agent(s, 0, 0);
}

/* Extra ssh arguments go first: ssh keeps the first value of an option. */
int jg_agentfwd_ssh_opts(struct jg_ssh_opts *o, int how)
{
	static const char *const mine[] = {
	    "-o", "IdentityAgent=SSH_AUTH_SOCK", "-o", "IdentitiesOnly=no", "-o", NULL};
	size_t n = 0, k = 0;
	char **v;

	for (; o->ssh_args != NULL && o->ssh_args[n] != NULL; n++)
		;
	if ((v = calloc(n + 7, sizeof(*v))) == NULL)
		return JG_ERR_NOMEM;
	for (; mine[k] != NULL; k++)
		if ((v[k] = strdup(mine[k])) == NULL)
			goto nomem;
	if ((v[k++] = strdup(how == JG_POLICY_AGENT_TARGET ? "ForwardAgent=yes"
							   : "ForwardAgent=no")) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		v[k + i] = o->ssh_args[i];
	free(o->ssh_args);
	o->ssh_args = v;
	/* The controller's keys are in the agent: IdentitiesOnly would ignore them. */
	o->identities_only = 0;
	return 0;
nomem:
	for (size_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return JG_ERR_NOMEM;
}
