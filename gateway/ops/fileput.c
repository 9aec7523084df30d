/* One PUT channel to one target (relay/opspec.h), shared by the single-target
 * PUT (files.c) and the fan-out (fanout.c).
 *
 * The OPEN goes out at once.  When the target's link is up (its HELLO arrived)
 * the channel has the agent's window before OPEN_OK and body bytes follow the
 * OPEN directly: a file that fits in the window (1 MiB by default, so every
 * "small file" under 512 KiB) is OPEN + DATA + EOF in one write and one round
 * trip.  While the link is still connecting, the window is 0 until OPEN_OK.
 *
 * The agent answers a PUT with one DATA frame holding a file spec (SHA256 and
 * SIZE of what it wrote) and then EXIT 0; or OPEN_FAIL, or DEAD, with a
 * reason.  Nothing here buffers body bytes: the owner offers them and keeps
 * what the window did not take (jg_pump_offer: the body may be shared by a
 * fan-out, so the owner credits its stream itself).
 *
 * The channel is a pump (gateway/pump/pump.h) in framed mode with no stream of its
 * own: it tracks the channel's life (gone after EXIT, OPEN_FAIL, CLOSE, DEAD),
 * sends EOF when due, credits the result DATA at once and abandons on abort.
 * Lifetime: owned by the owner (jg_fput_free). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/files.h"
#include "gateway/onward/agentlink.h"
#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"

struct jg_fput {
	struct jg_pump pump; /* first: the link's channel user data points here */
	struct jg_gateway *gw;
	const struct jg_fput_cbs *cbs;
	void *owner;
	char *target;		/* as the client named it */
	struct jg_chain *chain; /* what it resolved to (a copy of the admission's) */
	int eof_wanted;
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
		p->cbs->on_done(p->owner, p);
}

static void fput_fail(struct jg_fput *p, const char *reason, int link_lost)
{
	const char *error;
	int status = jg_files_status(reason, link_lost, &error);

	fput_finish(p, status, error, reason, 0);
}

/* The result: a file spec with SHA256 and SIZE (framed mode: the pump credits it at
 * once, nobody else consumes it).  EOF carries nothing. */
static int fput_down(void *ud, const struct jg_frame *f)
{
	struct jg_fput *p = ud;
	struct jg_file_spec spec;
	char why[200];

	if (f->type != JG_FRAME_DATA)
		return 0;
	if (jg_file_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		jg_log_warn("put on %s: the agent's result is malformed: %s", p->target, why);
		return 0;
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
	return 0;
}

/* Contract (jg_pump_cbs): OPEN_OK, OPEN_FAIL, EXIT, CLOSE of our channel, from inside
 * the link's input; after OPEN_FAIL, EXIT and CLOSE the channel is gone. */
static void fput_frame(void *ud, const struct jg_frame *f)
{
	struct jg_fput *p = ud;
	char reason[400];

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		/* The pump sends a wanted EOF after this. */
		if (!p->done && !p->eof_wanted)
			p->cbs->on_writable(p->owner, p);
		return;
	case JG_FRAME_OPEN_FAIL:
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		fput_fail(p, reason, 0);
		return;
	case JG_FRAME_EXIT:
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
static void fput_writable(void *ud)
{
	struct jg_fput *p = ud;

	if (!p->done && !p->eof_wanted)
		p->cbs->on_writable(p->owner, p);
}

/* Contract: the channel died (a DEAD from the agent: the write failed there; or the link
 * failed); it is gone. */
static void fput_dead(void *ud, const char *reason, int link_lost)
{
	fput_fail(ud, reason, link_lost);
}

static const struct jg_pump_cbs fput_pump_cbs = {
    .on_down = fput_down,
    .on_frame = fput_frame,
    .on_dead = fput_dead,
    .on_writable = fput_writable,
};

/* Take the chain, find the link, send OPEN.  Failures finish P quietly (see
 * jg_fput_start). */
static void fput_open(struct jg_fput *p, const struct jg_admit *adm, int agent, const char *path,
		      const struct jg_file_spec *tmpl)
{
	struct jg_file_spec spec = *tmpl;
	struct evbuffer *payload = NULL;
	struct jg_onward *al;
	char why[400], reason[600];
	int64_t ch;
	int r;

	if (adm->chain == NULL) {
		r = adm->resolve_err;
		fput_finish(p, r == JG_ERR_NOMEM ? 500 : 400, "bad target", adm->resolve_why, 1);
		return;
	}
	if (jg_chain_copy(&p->chain, adm->chain) != 0) {
		fput_finish(p, 500, "internal error", "out of memory", 1);
		return;
	}
	if (!agent) { /* admission applied x-jumpgate-agent; not for this PUT */
		p->chain->agent = 0;
		p->chain->agent_owner[0] = '\0';
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
	if ((al = jg_onward_get(p->gw, p->chain, why, sizeof(why))) == NULL) {
		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 p->chain->display, why);
		fput_finish(p, 502, "target unavailable", reason, 1);
		goto out;
	}
	ch = jg_onward_open(al, JG_OPEN_PUT, evbuffer_pullup(payload, -1),
			    evbuffer_get_length(payload), jg_pump_chan(&p->pump));
	if (ch <= 0) {
		snprintf(reason, sizeof(reason), "cannot open a channel to %s: %s",
			 p->chain->display, jg_strerror((int)ch));
		fput_finish(p, 502, "agent unavailable", reason, 1);
		goto out;
	}
	/* Early: body bytes may follow the OPEN before OPEN_OK (the agent answers a PUT
	 * synchronously). */
	jg_pump_attach(&p->pump, jg_onward_link(al), (uint32_t)ch, 1);
	jg_log_debug("put %s on %s: channel %u", path, p->chain->display, (uint32_t)ch);
out:
	if (payload != NULL)
		evbuffer_free(payload);
}

struct jg_fput *jg_fput_start(struct jg_gateway *gw, struct jg_stream *s,
			      const struct jg_admit *adm, const char *path,
			      const struct jg_file_spec *spec, const struct jg_fput_cbs *cbs,
			      void *owner)
{
	struct jg_fput *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->target = strdup(adm->typed)) == NULL ||
	    jg_pump_init(&p->pump, &fput_pump_cbs, p, NULL, NULL) != 0) {
		if (p != NULL)
			free(p->target);
		free(p);
		return NULL;
	}
	p->gw = gw;
	p->cbs = cbs;
	p->owner = owner;
	fput_open(p, adm, s != NULL, path, spec);
	return p;
}

size_t jg_fput_window(const struct jg_fput *p)
{
	return p->done ? 0 : jg_pump_window(&p->pump);
}

size_t jg_fput_send(struct jg_fput *p, const void *data, size_t len)
{
	return p->done ? 0 : jg_pump_offer(&p->pump, data, len);
}

void jg_fput_eof(struct jg_fput *p)
{
	p->eof_wanted = 1;
	jg_pump_up_end(&p->pump);
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
	/* The agent drops its temporary file: nothing is replaced. */
	jg_pump_abandon(&p->pump);
	p->done = 1;
}

void jg_fput_free(struct jg_fput *p)
{
	if (p == NULL)
		return;
	jg_fput_abort(p);
	jg_pump_clear(&p->pump);
	jg_chain_free(p->chain);
	free(p->target);
	free(p);
}
