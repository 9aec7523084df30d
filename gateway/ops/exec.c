/* The exec operation: one HTTP/2 stream bridged to one agent channel.
 *
 * The HTTP/2 side (request-body frames, the response frames, failing before
 * or after the 200) is gateway/ops/execstream.c, shared with raw.c; the bridge
 * (credit both ways, stdin's half-close, abandoning the channel) is the pump
 * (gateway/pump/pump.h) in framed mode: stdout/stderr DATA and EOF are re-framed as
 * exec frames by execstream.  What stays here is the exec's own: opening the
 * channel with the client's spec, signals, resizes, the answer to OPEN_OK,
 * OPEN_FAIL, EXIT and CLOSE.  Memory per exec is bounded by the stream window
 * plus the channel window (plus frame headers), as the pump guarantees.
 *
 * Lifetime: the op lives until its stream closes (on_close); the channel may
 * end earlier (EXIT, OPEN_FAIL, link death): the pump knows it is gone. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/execstream.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "gateway/onward/agentlink.h"
#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/spec.h"

struct jg_exec_op {
	struct jg_pump pump; /* first: the link's channel user data points here */
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream;     /* NULL after on_close */
	struct jg_execstream *es;     /* the HTTP/2 side and the exec's state */
	char target[256];	      /* as the client named it */
	struct jg_admit *adm;	      /* its admission (owned; decided at OPEN by es) */
	const struct jg_chain *chain; /* what it resolved to (adm's) */
	char argv0[64];
};

static void exec_free(struct jg_exec_op *x)
{
	jg_pump_clear(&x->pump);
	jg_execstream_free(x->es); /* ends the record, if open */
	jg_admit_close(x->adm, "failed", "the stream closed before the program ended");
	free(x);
}

static struct jg_exec_op *op_exec(struct jg_op *op)
{
	return (struct jg_exec_op *)((char *)op - offsetof(struct jg_exec_op, op));
}

/* The client's OPEN: ask the agent for a channel running SPEC (F's payload as is). */
static void exec_open(void *ud, const struct jg_exec_spec *spec, const struct jg_frame *f)
{
	struct jg_exec_op *x = ud;
	struct jg_onward *al;
	char why[256];
	int64_t ch;

	snprintf(x->argv0, sizeof(x->argv0), "%s", spec->argv[0]);
	al = jg_onward_get(x->gw, x->chain, why, sizeof(why));
	if (al == NULL) {
		char reason[320];

		jg_pump_gone(&x->pump);
		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 x->chain->display, why);
		jg_execstream_fail(x->es, 502, "target unavailable", reason);
		return;
	}
	ch = jg_onward_open(al, JG_OPEN_EXEC, f->payload, f->length, jg_pump_chan(&x->pump));
	if (ch <= 0) {
		jg_pump_gone(&x->pump);
		snprintf(why, sizeof(why), "cannot open a channel to %s: %s", x->target,
			 jg_strerror((int)ch));
		jg_execstream_fail(x->es, 502, "agent unavailable", why);
		return;
	}
	/* The exec stream goes OPENING; OPEN_OK or OPEN_FAIL answers. */
	jg_pump_attach(&x->pump, jg_onward_link(al), (uint32_t)ch, 0);
	jg_log_debug("exec %s on %s: channel %u", x->argv0, x->target, (uint32_t)ch);
}

static void exec_stdin(void *ud, const uint8_t *data, size_t len)
{
	struct jg_exec_op *x = ud;

	jg_pump_up(&x->pump, data, len);
}

static void exec_stdin_eof(void *ud)
{
	struct jg_exec_op *x = ud;

	jg_pump_up_end(&x->pump);
}

static void exec_signal(void *ud, uint32_t signo)
{
	struct jg_exec_op *x = ud;
	struct jg_link *l = jg_pump_link(&x->pump);

	if (l != NULL)
		jg_link_send_signal(l, jg_pump_channel(&x->pump), signo);
}

static void exec_resize(void *ud, uint16_t rows, uint16_t cols)
{
	struct jg_exec_op *x = ud;
	struct jg_link *l = jg_pump_link(&x->pump);

	if (l != NULL)
		jg_link_send_resize(l, jg_pump_channel(&x->pump), rows, cols);
}

static void exec_abort(void *ud)
{
	struct jg_exec_op *x = ud;

	jg_pump_abandon(&x->pump);
}

static const struct jg_execstream_cbs exec_stream_cbs = {
    .on_open = exec_open,
    .on_stdin = exec_stdin,
    .on_stdin_eof = exec_stdin_eof,
    .on_signal = exec_signal,
    .on_resize = exec_resize,
    .on_abort = exec_abort,
};

static void exec_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	jg_execstream_body(op_exec(op)->es, data, len);
}

static void exec_on_body_end(struct jg_op *op)
{
	jg_execstream_body_end(op_exec(op)->es);
}

static void exec_on_sent(struct jg_op *op, size_t n)
{
	jg_pump_sent(&op_exec(op)->pump, n);
}

static void exec_on_close(struct jg_op *op, const char *why)
{
	struct jg_exec_op *x = op_exec(op);

	if (jg_execstream_state(x->es) != JG_EXECSTREAM_DONE)
		jg_log_info("exec %s on %s: stream ended before the program (%s)", x->argv0,
			    x->target, why);
	exec_free(x); /* abandons the channel; the exec stream counts it as no longer current */
}

static const struct jg_op_cbs exec_op_cbs = {
    .on_body = exec_on_body,
    .on_body_end = exec_on_body_end,
    .on_sent = exec_on_sent,
    .on_close = exec_on_close,
};

/* Agent -> client: stdout/stderr DATA and EOF, framed as exec frames. */
static int exec_down(void *ud, const struct jg_frame *f)
{
	struct jg_exec_op *x = ud;

	jg_execstream_put(x->es, f->type, f->flags, f->aux, f->payload, f->length);
	return 1;
}

static void exec_frame(void *ud, const struct jg_frame *f)
{
	struct jg_exec_op *x = ud;
	char reason[300];

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		if (jg_execstream_reply_ok(x->es) != 0)
			jg_pump_abandon(&x->pump);
		return;
	case JG_FRAME_OPEN_FAIL:
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		jg_execstream_fail(x->es, 422, "cannot run program", reason);
		return;
	case JG_FRAME_EXIT:
		jg_execstream_exit(x->es, f->flags, f->aux);
		jg_log_debug("exec %s on %s: %s %u", x->argv0, x->target,
			     (f->flags & JG_EXIT_SIGNALED) ? "signal" : "exit", f->aux);
		return;
	case JG_FRAME_CLOSE:
		jg_execstream_fail(x->es, 502, "agent closed the channel",
				   "the agent abandoned the program");
		return;
	default:
		jg_log_debug("exec on %s: ignoring %s from the agent", x->target,
			     jg_frame_type_name(f->type));
		return;
	}
}

static void exec_dead(void *ud, const char *reason, int link_lost)
{
	struct jg_exec_op *x = ud;

	(void)link_lost;
	/* The pool's reasons already name the target ("ssh to web1 failed: ..."). */
	jg_execstream_fail(x->es, 502, "target unreachable", reason);
}

static const struct jg_pump_cbs exec_pump_cbs = {
    .on_down = exec_down,
    .on_frame = exec_frame,
    .on_dead = exec_dead,
};

struct jg_op *jg_exec_op_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm)
{
	struct jg_exec_op *x;
	char why[400];
	int r;

	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		jg_admit_close(adm, "failed", "");
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		jg_admit_close(adm, "failed", "");
		return NULL;
	}
	x->adm = adm;
	x->chain = adm->chain;
	/* Validation happened in admission, before anything is spawned: a bad name never
	 * reaches an argv. */
	if (jg_admit_unresolved(adm, s, "exec")) {
		exec_free(x);
		return NULL;
	}
	if (x->chain->nhops > 0 && x->chain->hops[0].method == JG_METHOD_SSH &&
	    x->chain->hops[0].ssh.raw) {
		/* `raw = true`: no agent; the raw op takes the admission. */
		x->adm = NULL;
		exec_free(x);
		return jg_raw_start(gw, s, adm);
	}
	if ((r = jg_admit_agent(adm, s, why, sizeof(why))) != 0) {
		jg_stream_reply_error(s, r, "bad request", why);
		exec_free(x);
		return NULL;
	}
	snprintf(x->target, sizeof(x->target), "%s", adm->typed);
	/* The exec stream last: it counts the exec in the stats. */
	if (jg_pump_init(&x->pump, &exec_pump_cbs, x, &jg_stream_pump_cbs, s) != 0 ||
	    (x->es = jg_execstream_new(gw, s, "exec", x->target, &exec_stream_cbs, x)) == NULL) {
		exec_free(x);
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	jg_execstream_admit(x->es, x->adm);
	x->op.cbs = &exec_op_cbs;
	x->gw = gw;
	x->stream = s;
	return &x->op;
}
