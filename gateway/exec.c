/* The exec operation: one HTTP/2 stream bridged to one agent channel.
 *
 * The HTTP/2 side (request-body frames, the response frames, failing before
 * or after the 200) is gateway/execstream.c, shared with raw.c; this file
 * bridges it to the channel.
 * Up (client -> agent): stdin DATA waits in stdin_buf until the channel
 * window admits it, and only then is its HTTP/2 credit given back
 * (jg_stream_consume), so a program that does not read its stdin stalls its
 * own stream and nothing else.
 * Down (agent -> client): stdout/stderr DATA is re-framed onto the stream's
 * response queue; channel credit goes back to the agent only as nghttp2 takes
 * those bytes (on_sent), so a slow controller slows its own program.
 * Memory per exec is therefore bounded by the stream window plus the channel
 * window (plus frame headers).
 *
 * Lifetime: the op lives until its stream closes (on_close).  The channel may
 * end earlier (EXIT, OPEN_FAIL, link death); `al` is NULL from then on. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "config/config.h"
#include "config/target.h"
#include "gateway/execstream.h"
#include "gateway/gateway.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/spec.h"

struct jg_exec {
	struct jg_chan_user chan; /* first: the link's channel user data points here */
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	struct jg_agentlink *al;  /* NULL once the channel is gone */
	uint32_t ch;
	struct jg_execstream *es;   /* the HTTP/2 side and the exec's state */
	char target[256];           /* as the client named it */
	struct jg_chain *chain;     /* what it resolved to (owned) */
	char argv0[64];
	struct evbuffer *stdin_buf; /* stdin bytes waiting for channel window */
	int stdin_eof_sent;
	uint64_t credit_owed;       /* agent DATA bytes queued downstream, not yet credited */
};

static void exec_free(struct jg_exec *x)
{
	jg_execstream_free(x->es);
	if (x->stdin_buf)
		evbuffer_free(x->stdin_buf);
	jg_chain_free(x->chain);
	free(x);
}

static struct jg_exec *op_exec(struct jg_op *op)
{
	return (struct jg_exec *)((char *)op - offsetof(struct jg_exec, op));
}

/* Abandon the channel (the agent kills the program). */
static void exec_close_channel(struct jg_exec *x)
{
	if (x->al == NULL)
		return;
	jg_link_close(jg_agentlink_link(x->al), x->ch);
	jg_agentlink_flush(x->al);
	x->al = NULL;
}

/* Move stdin toward the agent as far as the channel window allows. */
static void exec_pump_stdin(struct jg_exec *x)
{
	struct jg_link *l;
	size_t len, win;
	int64_t n;

	if (jg_execstream_state(x->es) != JG_EXECSTREAM_RUNNING || x->al == NULL)
		return;
	l = jg_agentlink_link(x->al);
	while ((len = evbuffer_get_length(x->stdin_buf)) > 0) {
		win = jg_link_window(l, x->ch);
		if (win == 0)
			break;
		if (len > win)
			len = win;
		n = jg_link_send_data(l, x->ch, 0, evbuffer_pullup(x->stdin_buf, (ssize_t)len),
				      len);
		if (n <= 0)
			break;
		evbuffer_drain(x->stdin_buf, (size_t)n);
		if (x->stream)
			jg_stream_consume(x->stream, (size_t)n);
	}
	if (jg_execstream_stdin_eof(x->es) && !x->stdin_eof_sent &&
	    evbuffer_get_length(x->stdin_buf) == 0) {
		jg_link_send_eof(l, x->ch, 0);
		x->stdin_eof_sent = 1;
	}
	jg_agentlink_flush(x->al);
}

/* The client's OPEN: ask the agent for a channel running SPEC (F's payload as is). */
static void exec_open(void *ud, const struct jg_exec_spec *spec, const struct jg_frame *f)
{
	struct jg_exec *x = ud;
	char why[256];
	int64_t ch;

	snprintf(x->argv0, sizeof(x->argv0), "%s", spec->argv[0]);
	x->al = jg_agentlink_get(x->gw, x->chain, why, sizeof(why));
	if (x->al == NULL) {
		char reason[320];

		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 x->chain->display, why);
		jg_execstream_fail(x->es, 502, "target unavailable", reason);
		return;
	}
	ch = jg_agentlink_open(x->al, JG_OPEN_EXEC, f->payload, f->length, &x->chan);
	if (ch <= 0) {
		x->al = NULL;
		snprintf(why, sizeof(why), "cannot open a channel to %s: %s", x->target,
			 jg_strerror((int)ch));
		jg_execstream_fail(x->es, 502, "agent unavailable", why);
		return;
	}
	x->ch = (uint32_t)ch;
	/* The exec stream goes OPENING; OPEN_OK or OPEN_FAIL answers. */
	jg_log_debug("exec %s on %s: channel %u", x->argv0, x->target, x->ch);
}

static void exec_stdin(void *ud, const uint8_t *data, size_t len)
{
	struct jg_exec *x = ud;

	evbuffer_add(x->stdin_buf, data, len);
	exec_pump_stdin(x);
}

static void exec_stdin_eof(void *ud)
{
	exec_pump_stdin(ud);
}

static void exec_signal(void *ud, uint32_t signo)
{
	struct jg_exec *x = ud;

	if (x->al != NULL) {
		jg_link_send_signal(jg_agentlink_link(x->al), x->ch, signo);
		jg_agentlink_flush(x->al);
	}
}

static void exec_resize(void *ud, uint16_t rows, uint16_t cols)
{
	struct jg_exec *x = ud;

	if (x->al != NULL) {
		jg_link_send_resize(jg_agentlink_link(x->al), x->ch, rows, cols);
		jg_agentlink_flush(x->al);
	}
}

static void exec_abort(void *ud)
{
	exec_close_channel(ud);
}

static const struct jg_execstream_hooks exec_stream_hooks = {
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
	struct jg_exec *x = op_exec(op);
	size_t credit = n < x->credit_owed ? n : (size_t)x->credit_owed;

	if (credit == 0)
		return;
	x->credit_owed -= credit;
	if (x->al != NULL) {
		jg_link_consumed(jg_agentlink_link(x->al), x->ch, credit);
		jg_agentlink_flush(x->al);
	}
}

static void exec_on_close(struct jg_op *op, const char *why)
{
	struct jg_exec *x = op_exec(op);

	if (jg_execstream_state(x->es) != JG_EXECSTREAM_DONE)
		jg_log_info("exec %s on %s: stream ended before the program (%s)", x->argv0,
			    x->target, why);
	exec_close_channel(x);
	exec_free(x); /* the exec stream counts it as no longer current */
}

static const struct jg_op_hooks exec_op_hooks = {
	.on_body = exec_on_body,
	.on_body_end = exec_on_body_end,
	.on_sent = exec_on_sent,
	.on_close = exec_on_close,
};

/* Agent -> client. */
static void exec_chan_frame(struct jg_chan_user *u, const struct jg_frame *f)
{
	struct jg_exec *x = (struct jg_exec *)u;
	char reason[300];

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		if (jg_execstream_reply_ok(x->es) != 0) {
			exec_close_channel(x);
			return;
		}
		exec_pump_stdin(x);
		return;
	case JG_FRAME_OPEN_FAIL:
		x->al = NULL;
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		jg_execstream_fail(x->es, 422, "cannot run program", reason);
		return;
	case JG_FRAME_DATA:
		x->credit_owed += f->length;
		/* fall through */
	case JG_FRAME_EOF:
		jg_execstream_put(x->es, f->type, f->flags, f->aux, f->payload, f->length);
		return;
	case JG_FRAME_EXIT:
		x->al = NULL;
		jg_execstream_exit(x->es, f->flags, f->aux);
		jg_log_debug("exec %s on %s: %s %u", x->argv0, x->target,
			     (f->flags & JG_EXIT_SIGNALED) ? "signal" : "exit", f->aux);
		return;
	case JG_FRAME_CLOSE:
		x->al = NULL;
		jg_execstream_fail(x->es, 502, "agent closed the channel",
				   "the agent abandoned the program");
		return;
	default:
		jg_log_debug("exec on %s: ignoring %s from the agent", x->target,
			     jg_frame_type_name(f->type));
		return;
	}
}

static void exec_chan_writable(struct jg_chan_user *u)
{
	exec_pump_stdin((struct jg_exec *)u);
}

static void exec_chan_dead(struct jg_chan_user *u, const char *reason)
{
	struct jg_exec *x = (struct jg_exec *)u;

	x->al = NULL;
	/* The pool's reasons already name the target ("ssh to web1 failed: ..."). */
	jg_execstream_fail(x->es, 502, "target unreachable", reason);
}

static const struct jg_chan_hooks exec_chan_hooks = {
	.on_frame = exec_chan_frame,
	.on_writable = exec_chan_writable,
	.on_dead = exec_chan_dead,
};

struct jg_op *jg_exec_start(struct jg_gateway *gw, struct jg_stream *s, const char *target)
{
	struct jg_exec *x;
	char why[400];
	int r;

	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	/* Validation happens here, before anything is spawned: a bad name never reaches
	 * an argv. */
	r = jg_target_resolve(gw->cfg, target, &x->chain, why, sizeof(why));
	if (r != 0) {
		jg_log_info("exec by %s refused: %s", jg_stream_identity(s), why);
		jg_stream_reply_error(s, r == JG_ERR_NOMEM ? 500 : 400, "bad target", why);
		exec_free(x);
		return NULL;
	}
	if (x->chain->nhops > 0 && x->chain->hops[0].method == JG_METHOD_SSH &&
	    x->chain->hops[0].ssh.raw) {
		/* `raw = true`: no agent; the raw op takes the chain. */
		struct jg_chain *chain = x->chain;

		x->chain = NULL;
		exec_free(x);
		return jg_raw_start(gw, s, chain);
	}
	snprintf(x->target, sizeof(x->target), "%s", target);
	/* The exec stream last: it counts the exec in the stats. */
	if ((x->stdin_buf = evbuffer_new()) == NULL ||
	    (x->es = jg_execstream_new(gw, s, "exec", x->target, &exec_stream_hooks, x)) == NULL) {
		exec_free(x);
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	jg_execstream_gate(x->es, x->target, x->chain->key);
	x->chan.hooks = &exec_chan_hooks;
	x->op.hooks = &exec_op_hooks;
	x->gw = gw;
	x->stream = s;
	return &x->op;
}
