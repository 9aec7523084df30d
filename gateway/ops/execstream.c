/* The exec frame stream: see execstream.h for the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway/ops/execstream.h"
#include "auth/audit.h"
#include "gateway/admitted.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "relay/frame.h"
#include "relay/log.h"
#include "relay/spec.h"

#define FRAMES_TYPE "application/x-jumpgate-frames"

struct jg_execstream {
	struct jg_gateway *gw;
	struct jg_stream *stream;
	const char *what, *name; /* for the failure log line (borrowed) */
	const struct jg_execstream_cbs *cbs;
	void *ud;
	enum jg_execstream_state state;
	struct jg_frame_decoder *dec;
	struct evbuffer *scratch; /* frames being built for the response */
	int stdin_eof;		  /* the client ended stdin */
	/* The admission (jg_execstream_admit), decided at OPEN, when argv is known; borrowed,
	 * NULL: not admitted here.  Its record is open from an allowed OPEN to the end. */
	struct jg_admit *adm;
	struct jg_audit_op *audit; /* adm's open record, or NULL */
};

void jg_execstream_admit(struct jg_execstream *es, struct jg_admit *adm)
{
	es->adm = adm;
}

static void audit_end(struct jg_execstream *es, const char *outcome, const char *reason)
{
	jg_admit_end(es->adm, outcome, reason);
	es->audit = NULL;
}

struct jg_execstream *jg_execstream_new(struct jg_gateway *gw, struct jg_stream *s,
					const char *what, const char *name,
					const struct jg_execstream_cbs *cbs, void *ud)
{
	struct jg_execstream *es = calloc(1, sizeof(*es));

	if (es == NULL)
		return NULL;
	if ((es->dec = jg_frame_decoder_new(0)) == NULL || (es->scratch = evbuffer_new()) == NULL) {
		jg_frame_decoder_free(es->dec);
		free(es);
		return NULL;
	}
	es->gw = gw;
	es->stream = s;
	es->what = what;
	es->name = name;
	es->cbs = cbs;
	es->ud = ud;
	es->state = JG_EXECSTREAM_WAIT_OPEN;
	gw->stats.exec_current++;
	gw->stats.exec_total++;
	return es;
}

void jg_execstream_free(struct jg_execstream *es)
{
	if (es == NULL)
		return;
	es->gw->stats.exec_current--;
	audit_end(es, "failed", "the stream closed before the program ended");
	jg_frame_decoder_free(es->dec);
	evbuffer_free(es->scratch);
	free(es);
}

enum jg_execstream_state jg_execstream_state(const struct jg_execstream *es)
{
	return es->state;
}

int jg_execstream_stdin_eof(const struct jg_execstream *es)
{
	return es->stdin_eof;
}

void jg_execstream_fail(struct jg_execstream *es, int status, const char *error, const char *reason)
{
	if (es->state == JG_EXECSTREAM_DONE)
		return;
	es->gw->stats.exec_failed++;
	audit_end(es, "failed", reason);
	jg_log_info("%s on %s by %s failed: %s", es->what, es->name, jg_stream_identity(es->stream),
		    reason);
	if (es->state == JG_EXECSTREAM_RUNNING) {
		/* Headers are gone already: the reason travels as the last frame. */
		jg_frame_put(es->scratch, JG_FRAME_DEAD, 0, 0, 0, reason, (uint32_t)strlen(reason));
		jg_stream_append(es->stream, es->scratch);
		jg_stream_finish(es->stream);
	} else {
		jg_stream_reply_error(es->stream, status, error, reason);
	}
	es->state = JG_EXECSTREAM_DONE;
}

/* The request body is unusable: stop the program, then fail. */
static void body_failed(struct jg_execstream *es, int status, const char *error, const char *reason)
{
	es->cbs->on_abort(es->ud);
	jg_execstream_fail(es, status, error, reason);
}

/* The OPEN frame: an exec spec for the op. */
static void client_open(struct jg_execstream *es, const struct jg_frame *f)
{
	struct jg_exec_spec spec;
	char why[256], reason[320];

	if (f->aux != JG_OPEN_EXEC) {
		snprintf(why, sizeof(why), "request body: OPEN kind %u is not exec (1)", f->aux);
		jg_execstream_fail(es, 400, "bad request", why);
		return;
	}
	if (jg_exec_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		snprintf(reason, sizeof(reason), "request body: OPEN spec: %s", why);
		jg_execstream_fail(es, 400, "bad request", reason);
		return;
	}
	/* The policy decides here, the first moment argv[0] is known, and before the op
	 * spawns or connects anything. */
	if (es->adm != NULL) {
		struct jg_admit_ask ask = {.argv = spec.argv, .argc = spec.argc};

		if (!jg_admit_decide(es->adm, es->stream, &ask)) {
			jg_exec_spec_clear(&spec);
			jg_execstream_fail(es, 403, "forbidden", es->adm->reason);
			return;
		}
		es->audit = es->adm->audit;
	}
	es->cbs->on_open(es->ud, &spec, f);
	jg_exec_spec_clear(&spec);
	if (es->state == JG_EXECSTREAM_WAIT_OPEN)
		es->state = JG_EXECSTREAM_OPENING; /* the op answers later */
}

/* One frame from the client. Returns -1 after failing the exec. */
static int client_frame(struct jg_execstream *es, const struct jg_frame *f)
{
	char why[160];

	if (f->channel != 0) {
		snprintf(why, sizeof(why),
			 "request body: %s frame on channel %u (exec streams use channel 0)",
			 jg_frame_type_name(f->type), f->channel);
		goto bad;
	}
	if (es->state == JG_EXECSTREAM_WAIT_OPEN) {
		if (f->type != JG_FRAME_OPEN) {
			snprintf(why, sizeof(why), "request body: first frame is %s, expected OPEN",
				 jg_frame_type_name(f->type));
			goto bad;
		}
		client_open(es, f);
		return es->state == JG_EXECSTREAM_DONE ? -1 : 0;
	}
	switch (f->type) {
	case JG_FRAME_DATA:
		if (es->stdin_eof) {
			snprintf(why, sizeof(why), "request body: stdin DATA after EOF");
			goto bad;
		}
		if (es->audit != NULL)
			es->audit->bytes_in += f->length;
		es->cbs->on_stdin(es->ud, f->payload, f->length);
		return 0;
	case JG_FRAME_EOF:
		es->stdin_eof = 1;
		es->cbs->on_stdin_eof(es->ud);
		return 0;
	case JG_FRAME_SIGNAL:
		es->cbs->on_signal(es->ud, f->aux);
		return 0;
	case JG_FRAME_RESIZE:
		/* aux = rows << 16 | cols */
		if (es->cbs->on_resize != NULL)
			es->cbs->on_resize(es->ud, (uint16_t)(f->aux >> 16), (uint16_t)f->aux);
		return 0;
	default:
		snprintf(why, sizeof(why), "request body: %s frame is not valid from a client",
			 jg_frame_type_name(f->type));
		goto bad;
	}
bad:
	body_failed(es, 400, "bad request", why);
	return -1;
}

void jg_execstream_body(struct jg_execstream *es, const uint8_t *data, size_t len)
{
	struct jg_frame f;
	char reason[320];
	int r;

	if (es->state == JG_EXECSTREAM_DONE) {
		jg_stream_consume(es->stream, len);
		return;
	}
	/* Lent, not copied: the whole frames in DATA are read in place (nghttp2's
	 * buffer, valid during this call); settle() keeps the rest. */
	if (jg_frame_decoder_lend(es->dec, data, len) != 0) {
		body_failed(es, 500, "internal error", "out of memory");
		return;
	}
	while ((r = jg_frame_decoder_next(es->dec, &f)) == 1) {
		/* Headers and control payloads are credited now; stdin DATA when it moves on. */
		jg_stream_consume(es->stream,
				  JG_FRAME_HEADER_LEN + (f.type == JG_FRAME_DATA ? 0 : f.length));
		if (client_frame(es, &f) != 0)
			break;
	}
	if (jg_frame_decoder_settle(es->dec) != 0 && es->state != JG_EXECSTREAM_DONE) {
		body_failed(es, 500, "internal error", "out of memory");
		return;
	}
	if (r < 0) {
		snprintf(reason, sizeof(reason), "request body: %s",
			 jg_frame_decoder_error(es->dec));
		jg_stream_consume(es->stream, jg_frame_decoder_pending(es->dec));
		body_failed(es, 400, "bad request", reason);
	}
}

void jg_execstream_body_end(struct jg_execstream *es)
{
	char reason[160];
	size_t pending = jg_frame_decoder_pending(es->dec);

	if (es->state == JG_EXECSTREAM_DONE)
		return;
	if (pending > 0) {
		snprintf(reason, sizeof(reason),
			 "request body truncated: it ends inside a frame (%zu bytes left over)",
			 pending);
		body_failed(es, 400, "bad request", reason);
		return;
	}
	if (es->state == JG_EXECSTREAM_WAIT_OPEN) {
		jg_execstream_fail(es, 400, "bad request",
				   "request body ended before an OPEN frame");
		return;
	}
	/* END_STREAM without an EOF frame still means stdin is over. */
	es->stdin_eof = 1;
	es->cbs->on_stdin_eof(es->ud);
}

int jg_execstream_reply_ok(struct jg_execstream *es)
{
	if (jg_stream_start(es->stream, 200, FRAMES_TYPE) != 0) {
		es->state = JG_EXECSTREAM_DONE;
		return -1;
	}
	es->state = JG_EXECSTREAM_RUNNING;
	return 0;
}

void jg_execstream_put(struct jg_execstream *es, uint8_t type, uint8_t flags, uint32_t aux,
		       const void *payload, uint32_t len)
{
	const uint8_t *p = payload;
	uint32_t off = 0, n;

	if (es->audit != NULL && type == JG_FRAME_DATA)
		es->audit->bytes_out += len;
	/* Link frames may be larger than what clients accept inside a stream (32 KiB):
	 * split them. */
	do {
		n = len - off < JG_FRAME_MAX_PAYLOAD ? len - off : JG_FRAME_MAX_PAYLOAD;
		jg_frame_put(es->scratch, type, flags, 0, aux, p != NULL ? p + off : NULL, n);
		off += n;
	} while (off < len);
	jg_stream_append(es->stream, es->scratch);
}

void jg_execstream_exit(struct jg_execstream *es, uint8_t flags, uint32_t code)
{
	char why[40];

	jg_frame_put(es->scratch, JG_FRAME_EXIT, flags, 0, code, NULL, 0);
	jg_stream_append(es->stream, es->scratch);
	jg_stream_finish(es->stream);
	es->state = JG_EXECSTREAM_DONE;
	if (es->audit != NULL) {
		es->audit->have_exit = 1;
		if (flags & JG_EXIT_SIGNALED)
			es->audit->signo = (int)code;
		else
			es->audit->exit_code = (int)code;
		snprintf(why, sizeof(why), "%s %u", (flags & JG_EXIT_SIGNALED) ? "signal" : "exit",
			 code);
		/* The operation did what was asked; the program's own failure is "failed". */
		audit_end(es, code == 0 && !(flags & JG_EXIT_SIGNALED) ? "ok" : "failed", why);
	}
}
