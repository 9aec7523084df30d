/* The exec operation: one HTTP/2 stream bridged to one agent channel.
 *
 * Up (client -> agent): request-body frames are decoded; stdin DATA waits in
 * stdin_buf until the channel window admits it, and only then is its HTTP/2
 * credit given back (jg_stream_consume), so a program that does not read its
 * stdin stalls its own stream and nothing else.
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
#include "gateway/gateway.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/spec.h"

#define FRAMES_TYPE "application/x-jumpgate-frames"

enum exec_state {
	EX_WAIT_OPEN, /* no OPEN frame from the client yet */
	EX_OPENING,   /* OPEN sent to the agent, no answer yet */
	EX_RUNNING,   /* 200 sent; frames flow both ways */
	EX_DONE,      /* the response is complete or failed; waiting for the stream to close */
};

struct jg_exec {
	struct jg_chan_user chan; /* first: the link's channel user data points here */
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	struct jg_agentlink *al;  /* NULL once the channel is gone */
	uint32_t ch;
	enum exec_state state;
	char target[256];           /* as the client named it */
	struct jg_chain *chain;     /* what it resolved to (owned) */
	char argv0[64];
	struct jg_frame_decoder *dec;
	struct evbuffer *stdin_buf; /* stdin bytes waiting for channel window */
	struct evbuffer *scratch;   /* frames being built for the response */
	int stdin_eof;              /* the client ended stdin */
	int stdin_eof_sent;
	uint64_t credit_owed;       /* agent DATA bytes queued downstream, not yet credited */
};

static void exec_free(struct jg_exec *x)
{
	jg_frame_decoder_free(x->dec);
	if (x->stdin_buf)
		evbuffer_free(x->stdin_buf);
	if (x->scratch)
		evbuffer_free(x->scratch);
	jg_chain_free(x->chain);
	free(x);
}

static struct jg_exec *op_exec(struct jg_op *op)
{
	return (struct jg_exec *)((char *)op - offsetof(struct jg_exec, op));
}

static void exec_failed(struct jg_exec *x, int status, const char *error, const char *reason)
{
	x->gw->stats.exec_failed++;
	jg_log_info("exec on %s by %s failed: %s", x->target,
		    x->stream ? jg_stream_identity(x->stream) : "?", reason);
	if (x->stream == NULL || x->state == EX_DONE) {
		x->state = EX_DONE;
		return;
	}
	if (x->state == EX_RUNNING) {
		/* Headers are gone already: the reason travels as the last frame. */
		jg_frame_put(x->scratch, JG_FRAME_DEAD, 0, 0, 0, reason, (uint32_t)strlen(reason));
		jg_stream_append(x->stream, x->scratch);
		jg_stream_finish(x->stream);
	} else {
		jg_stream_reply_error(x->stream, status, error, reason);
	}
	x->state = EX_DONE;
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

	if (x->state != EX_RUNNING || x->al == NULL)
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
	if (x->stdin_eof && !x->stdin_eof_sent && evbuffer_get_length(x->stdin_buf) == 0) {
		jg_link_send_eof(l, x->ch, 0);
		x->stdin_eof_sent = 1;
	}
	jg_agentlink_flush(x->al);
}

static void exec_open(struct jg_exec *x, const struct jg_frame *f)
{
	struct jg_exec_spec spec;
	char why[256];
	int64_t ch;

	if (f->aux != JG_OPEN_EXEC) {
		snprintf(why, sizeof(why), "request body: OPEN kind %u is not exec (1)", f->aux);
		exec_failed(x, 400, "bad request", why);
		return;
	}
	if (jg_exec_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		char reason[320];

		snprintf(reason, sizeof(reason), "request body: OPEN spec: %s", why);
		exec_failed(x, 400, "bad request", reason);
		return;
	}
	snprintf(x->argv0, sizeof(x->argv0), "%s", spec.argv[0]);
	jg_exec_spec_clear(&spec);
	x->al = jg_agentlink_get(x->gw, x->chain, why, sizeof(why));
	if (x->al == NULL) {
		char reason[320];

		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 x->chain->display, why);
		exec_failed(x, 502, "target unavailable", reason);
		return;
	}
	ch = jg_agentlink_open(x->al, JG_OPEN_EXEC, f->payload, f->length, &x->chan);
	if (ch <= 0) {
		x->al = NULL;
		snprintf(why, sizeof(why), "cannot open a channel to %s: %s", x->target,
			 jg_strerror((int)ch));
		exec_failed(x, 502, "agent unavailable", why);
		return;
	}
	x->ch = (uint32_t)ch;
	x->state = EX_OPENING;
	jg_log_debug("exec %s on %s: channel %u", x->argv0, x->target, x->ch);
}

/* One frame from the client. Returns -1 after failing the exec. */
static int exec_client_frame(struct jg_exec *x, const struct jg_frame *f)
{
	char why[160];

	if (f->channel != 0) {
		snprintf(why, sizeof(why),
			 "request body: %s frame on channel %u (exec streams use channel 0)",
			 jg_frame_type_name(f->type), f->channel);
		goto bad;
	}
	if (x->state == EX_WAIT_OPEN) {
		if (f->type != JG_FRAME_OPEN) {
			snprintf(why, sizeof(why), "request body: first frame is %s, expected OPEN",
				 jg_frame_type_name(f->type));
			goto bad;
		}
		exec_open(x, f);
		return x->state == EX_DONE ? -1 : 0;
	}
	switch (f->type) {
	case JG_FRAME_DATA:
		if (x->stdin_eof) {
			snprintf(why, sizeof(why), "request body: stdin DATA after EOF");
			goto bad;
		}
		evbuffer_add(x->stdin_buf, f->payload, f->length);
		exec_pump_stdin(x);
		return 0;
	case JG_FRAME_EOF:
		x->stdin_eof = 1;
		exec_pump_stdin(x);
		return 0;
	case JG_FRAME_SIGNAL:
		if (x->al != NULL) {
			jg_link_send_signal(jg_agentlink_link(x->al), x->ch, f->aux);
			jg_agentlink_flush(x->al);
		}
		return 0;
	case JG_FRAME_RESIZE:
		if (x->al != NULL) {
			jg_link_send_resize(jg_agentlink_link(x->al), x->ch,
					    (uint16_t)(f->aux >> 16), (uint16_t)f->aux);
			jg_agentlink_flush(x->al);
		}
		return 0;
	default:
		snprintf(why, sizeof(why), "request body: %s frame is not valid from a client",
			 jg_frame_type_name(f->type));
		goto bad;
	}
bad:
	exec_close_channel(x);
	exec_failed(x, 400, "bad request", why);
	return -1;
}

static void exec_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	struct jg_exec *x = op_exec(op);
	struct jg_frame f;
	char reason[320];
	int r;

	if (x->state == EX_DONE) {
		jg_stream_consume(x->stream, len);
		return;
	}
	if (jg_frame_decoder_feed(x->dec, data, len) != 0) {
		exec_close_channel(x);
		exec_failed(x, 500, "internal error", "out of memory");
		return;
	}
	while ((r = jg_frame_decoder_next(x->dec, &f)) == 1) {
		/* Headers and control payloads are credited now; stdin DATA when it moves on. */
		jg_stream_consume(x->stream,
				  JG_FRAME_HEADER_LEN + (f.type == JG_FRAME_DATA ? 0 : f.length));
		if (exec_client_frame(x, &f) != 0)
			return;
	}
	if (r < 0) {
		snprintf(reason, sizeof(reason), "request body: %s",
			 jg_frame_decoder_error(x->dec));
		jg_stream_consume(x->stream, jg_frame_decoder_pending(x->dec));
		exec_close_channel(x);
		exec_failed(x, 400, "bad request", reason);
	}
}

static void exec_on_body_end(struct jg_op *op)
{
	struct jg_exec *x = op_exec(op);
	char reason[160];
	size_t pending = jg_frame_decoder_pending(x->dec);

	if (x->state == EX_DONE)
		return;
	if (pending > 0) {
		snprintf(reason, sizeof(reason),
			 "request body truncated: it ends inside a frame (%zu bytes left over)",
			 pending);
		exec_close_channel(x);
		exec_failed(x, 400, "bad request", reason);
		return;
	}
	if (x->state == EX_WAIT_OPEN) {
		exec_failed(x, 400, "bad request", "request body ended before an OPEN frame");
		return;
	}
	/* END_STREAM without an EOF frame still means stdin is over. */
	x->stdin_eof = 1;
	exec_pump_stdin(x);
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

	if (x->state != EX_DONE)
		jg_log_info("exec %s on %s: stream ended before the program (%s)", x->argv0,
			    x->target, why);
	exec_close_channel(x);
	x->gw->stats.exec_current--;
	exec_free(x);
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
		if (jg_stream_start(x->stream, 200, FRAMES_TYPE) != 0) {
			exec_close_channel(x);
			x->state = EX_DONE;
			return;
		}
		x->state = EX_RUNNING;
		exec_pump_stdin(x);
		return;
	case JG_FRAME_OPEN_FAIL:
		x->al = NULL;
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		exec_failed(x, 422, "cannot run program", reason);
		return;
	case JG_FRAME_DATA:
		x->credit_owed += f->length;
		/* fall through */
	case JG_FRAME_EOF:
		jg_frame_put(x->scratch, f->type, f->flags, 0, f->aux, f->payload, f->length);
		jg_stream_append(x->stream, x->scratch);
		return;
	case JG_FRAME_EXIT:
		x->al = NULL;
		jg_frame_put(x->scratch, JG_FRAME_EXIT, f->flags, 0, f->aux, NULL, 0);
		jg_stream_append(x->stream, x->scratch);
		jg_stream_finish(x->stream);
		x->state = EX_DONE;
		jg_log_debug("exec %s on %s: %s %u", x->argv0, x->target,
			     (f->flags & JG_EXIT_SIGNALED) ? "signal" : "exit", f->aux);
		return;
	case JG_FRAME_CLOSE:
		x->al = NULL;
		exec_failed(x, 502, "agent closed the channel", "the agent abandoned the program");
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
	exec_failed(x, 502, "target unreachable", reason);
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
	if ((x->dec = jg_frame_decoder_new(0)) == NULL || (x->stdin_buf = evbuffer_new()) == NULL ||
	    (x->scratch = evbuffer_new()) == NULL) {
		exec_free(x);
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	x->chan.hooks = &exec_chan_hooks;
	x->op.hooks = &exec_op_hooks;
	x->gw = gw;
	x->stream = s;
	x->state = EX_WAIT_OPEN;
	snprintf(x->target, sizeof(x->target), "%s", target);
	gw->stats.exec_current++;
	gw->stats.exec_total++;
	return &x->op;
}
