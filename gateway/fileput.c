/* One PUT channel to one target (relay/opspec.h), shared by the single-target
 * PUT (files.c) and the fan-out (fanout.c).
 *
 * The OPEN goes out at once.  When the target's link is up (its HELLO arrived)
 * the channel has the agent's window before OPEN_OK and body bytes follow the
 * OPEN directly: a file that fits in the window (256 KiB by default, so every
 * "small file" under 128 KiB) is OPEN + DATA + EOF in one write and one round
 * trip.  While the link is still connecting, the window is 0 until OPEN_OK.
 *
 * The agent answers a PUT with one DATA frame holding a file spec (SHA256 and
 * SIZE of what it wrote) and then EXIT 0; or OPEN_FAIL, or DEAD, with a
 * reason.  Nothing here buffers body bytes: the owner offers them and keeps
 * what the window did not take.
 *
 * Lifetime: owned by the owner (jg_fput_free).  `al` is NULL once the channel
 * is gone (EXIT, OPEN_FAIL, CLOSE, DEAD); the link never calls back after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/files.h"
#include "gateway/gateway.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"

struct jg_fput {
	struct jg_chan_user chan; /* first: the link's channel user data points here */
	struct jg_gateway *gw;
	const struct jg_fput_hooks *hooks;
	void *owner;
	char *target;		 /* as the client named it */
	struct jg_chain *chain;	 /* what it resolved to */
	struct jg_agentlink *al; /* NULL once the channel is gone */
	uint32_t ch;
	int eof_wanted, eof_sent;
	int got_result; /* the result DATA arrived */
	int done;
	struct jg_fput_result res;
};

/* Record the outcome; tell the owner unless QUIET (inside jg_fput_start). */
static void fput_finish(struct jg_fput *p, int status, const char *error, const char *reason,
			int quiet)
{
	if (p->done)
		return;
	p->done = 1;
	p->res.ok = status >= 200 && status < 300;
	p->res.status = status;
	p->res.error = p->res.ok ? "" : error;
	snprintf(p->res.reason, sizeof(p->res.reason), "%s", reason);
	jg_log_debug("put on %s: %d %s", p->target, status, reason);
	if (!quiet)
		p->hooks->on_done(p->owner, p);
}

static void fput_fail(struct jg_fput *p, const char *reason, int link_lost)
{
	const char *error;
	int status = jg_files_status(reason, link_lost, &error);

	fput_finish(p, status, error, reason, 0);
}

static void fput_try_eof(struct jg_fput *p)
{
	int r;

	if (p->al == NULL || !p->eof_wanted || p->eof_sent)
		return;
	/* JG_ERR_STATE: not open yet and no early window (the link was connecting); OPEN_OK
	 * calls this again. */
	r = jg_link_send_eof(jg_agentlink_link(p->al), p->ch, 0);
	if (r == 0) {
		p->eof_sent = 1;
		jg_agentlink_flush(p->al);
	}
}

/* The result: a file spec with SHA256 and SIZE.  Its credit goes back at once: nobody
 * else consumes it. */
static void fput_result(struct jg_fput *p, const struct jg_frame *f)
{
	struct jg_file_spec spec;
	char why[200];

	jg_link_consumed(jg_agentlink_link(p->al), p->ch, f->length);
	jg_agentlink_flush(p->al);
	if (jg_file_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		jg_log_warn("put on %s: the agent's result is malformed: %s", p->target, why);
		return;
	}
	p->got_result = 1;
	if (spec.flags & JG_FILE_HAS_SHA256)
		for (int i = 0; i < 32; i++)
			snprintf(p->res.sha256 + 2 * i, 3, "%02x", spec.sha256[i]);
	if (spec.flags & JG_FILE_HAS_SIZE)
		p->res.size = spec.size;
	if (spec.path != NULL)
		snprintf(p->res.opened, sizeof(p->res.opened), "%s", spec.path);
	jg_file_spec_clear(&spec);
}

/* Contract (jg_chan_hooks): OPEN_OK, OPEN_FAIL, DATA, EOF, EXIT, CLOSE of our channel, from
 * inside the link's input; after OPEN_FAIL, EXIT and CLOSE the channel is gone. */
static void fput_chan_frame(struct jg_chan_user *u, const struct jg_frame *f)
{
	struct jg_fput *p = (struct jg_fput *)u;
	char reason[400];

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		fput_try_eof(p);
		if (!p->done)
			p->hooks->on_writable(p->owner, p);
		return;
	case JG_FRAME_OPEN_FAIL:
		p->al = NULL;
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		fput_fail(p, reason, 0);
		return;
	case JG_FRAME_DATA:
		fput_result(p, f);
		return;
	case JG_FRAME_EXIT:
		p->al = NULL;
		if (f->aux == 0 && !(f->flags & JG_EXIT_SIGNALED)) {
			if (!p->got_result)
				jg_log_debug("put on %s: EXIT 0 without a result", p->target);
			fput_finish(p, 200, "", "written", 0);
			return;
		}
		snprintf(reason, sizeof(reason), "the agent ended the upload with %s %u",
			 (f->flags & JG_EXIT_SIGNALED) ? "signal" : "status", f->aux);
		fput_finish(p, 500, "upload failed", reason, 0);
		return;
	case JG_FRAME_CLOSE:
		p->al = NULL;
		fput_finish(p, 502, "agent closed the channel", "the agent abandoned the upload",
			    0);
		return;
	default:
		jg_log_debug("put on %s: ignoring %s from the agent", p->target,
			     jg_frame_type_name(f->type));
		return;
	}
}

/* Contract: the agent granted window; more DATA may go. */
static void fput_chan_writable(struct jg_chan_user *u)
{
	struct jg_fput *p = (struct jg_fput *)u;

	if (!p->done && !p->eof_wanted)
		p->hooks->on_writable(p->owner, p);
}

/* Contract: the channel died (a DEAD from the agent: the write failed there; or the link
 * failed: then jg_link_error() is set while this runs); it is gone. */
static void fput_chan_dead(struct jg_chan_user *u, const char *reason)
{
	struct jg_fput *p = (struct jg_fput *)u;
	int link_lost = p->al != NULL && jg_link_error(jg_agentlink_link(p->al)) != NULL;

	p->al = NULL;
	fput_fail(p, reason, link_lost);
}

static const struct jg_chan_hooks fput_chan_hooks = {
    .on_frame = fput_chan_frame,
    .on_writable = fput_chan_writable,
    .on_dead = fput_chan_dead,
};

/* Resolve, find the link, send OPEN.  Failures finish P quietly (see jg_fput_start). */
static void fput_open(struct jg_fput *p, const char *path, const struct jg_file_spec *tmpl)
{
	struct jg_file_spec spec = *tmpl;
	struct evbuffer *payload = NULL;
	char why[400], reason[600];
	int64_t ch;
	int r;

	r = jg_target_resolve(p->gw->cfg, p->target, &p->chain, why, sizeof(why));
	if (r != 0) {
		fput_finish(p, r == JG_ERR_NOMEM ? 500 : 400, "bad target", why, 1);
		return;
	}
	if (!jg_files_chain_usable(p->chain, reason, sizeof(reason))) {
		fput_finish(p, 501, "not supported", reason, 1);
		return;
	}
	spec.path = (char *)path;
	if ((payload = evbuffer_new()) == NULL || jg_file_spec_encode(&spec, payload) != 0) {
		fput_finish(p, 500, "internal error", "out of memory", 1);
		goto out;
	}
	if (evbuffer_get_length(payload) > JG_FRAME_MAX_PAYLOAD) {
		fput_finish(p, 400, "bad request", "the path and headers are too long for one OPEN",
			    1);
		goto out;
	}
	if ((p->al = jg_agentlink_get(p->gw, p->chain, why, sizeof(why))) == NULL) {
		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 p->chain->display, why);
		fput_finish(p, 502, "target unavailable", reason, 1);
		goto out;
	}
	ch = jg_agentlink_open(p->al, JG_OPEN_PUT, evbuffer_pullup(payload, -1),
			       evbuffer_get_length(payload), &p->chan);
	if (ch <= 0) {
		p->al = NULL;
		snprintf(reason, sizeof(reason), "cannot open a channel to %s: %s",
			 p->chain->display, jg_strerror((int)ch));
		fput_finish(p, 502, "agent unavailable", reason, 1);
		goto out;
	}
	p->ch = (uint32_t)ch;
	jg_log_debug("put %s on %s: channel %u", path, p->chain->display, p->ch);
out:
	if (payload != NULL)
		evbuffer_free(payload);
}

struct jg_fput *jg_fput_start(struct jg_gateway *gw, const char *target, const char *path,
			      const struct jg_file_spec *spec, const struct jg_fput_hooks *hooks,
			      void *owner)
{
	struct jg_fput *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->target = strdup(target)) == NULL) {
		free(p);
		return NULL;
	}
	p->chan.hooks = &fput_chan_hooks;
	p->gw = gw;
	p->hooks = hooks;
	p->owner = owner;
	fput_open(p, path, spec);
	return p;
}

size_t jg_fput_window(const struct jg_fput *p)
{
	if (p->done || p->al == NULL || p->eof_wanted)
		return 0;
	return jg_link_window(jg_agentlink_link(p->al), p->ch);
}

size_t jg_fput_send(struct jg_fput *p, const void *data, size_t len)
{
	int64_t n;

	if (p->done || p->al == NULL || p->eof_wanted || len == 0)
		return 0;
	n = jg_link_send_data(jg_agentlink_link(p->al), p->ch, 0, data, len);
	if (n <= 0)
		return 0;
	jg_agentlink_flush(p->al);
	return (size_t)n;
}

void jg_fput_eof(struct jg_fput *p)
{
	p->eof_wanted = 1;
	fput_try_eof(p);
}

int jg_fput_done(const struct jg_fput *p)
{
	return p->done;
}

const struct jg_fput_result *jg_fput_result(const struct jg_fput *p)
{
	return &p->res;
}

const char *jg_fput_target(const struct jg_fput *p)
{
	return p->target;
}

void jg_fput_abort(struct jg_fput *p)
{
	if (p->al != NULL) {
		/* The agent drops its temporary file: nothing is replaced. */
		jg_link_close(jg_agentlink_link(p->al), p->ch);
		jg_agentlink_flush(p->al);
		p->al = NULL;
	}
	p->done = 1;
}

void jg_fput_free(struct jg_fput *p)
{
	if (p == NULL)
		return;
	jg_fput_abort(p);
	jg_chain_free(p->chain);
	free(p->target);
	free(p);
}
