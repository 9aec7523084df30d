/* GET /v1/targets/{t}/files/{path}: one agent channel of kind GET bridged to
 * the response body, raw bytes (so `curl -o` works).
 *
 * The agent answers OPEN_OK with a file spec (SIZE, MODE, MTIME); the 200 and
 * its headers go out then, the bytes after.  The bridge is the pump
 * (gateway/pump/pump.h) in raw mode: agent credit flows back only as nghttp2 takes
 * those bytes (on_sent), so the gateway holds at most one channel window
 * (1 MiB) per download, however slow the controller.
 * A failure after the 200 cannot change the status: the stream ends short of
 * its content-length with trailers x-jumpgate-error and x-jumpgate-reason (the
 * client sees an error and why, never a short file passed off as whole), or
 * when the length was reached is reset (RST_STREAM INTERNAL_ERROR); the reason
 * goes to the log too.
 *
 * Lifetime: the op lives until its stream closes (on_close); the pump knows
 * when the channel is gone (EXIT, OPEN_FAIL, CLOSE, DEAD). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "auth/audit.h"
#include "config/config.h"
#include "config/target.h"
#include "gateway/admitted.h"
#include "gateway/ops/files.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/onward/agentlink.h"
#include "gateway/pump/pump.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/log.h"
#include "relay/opspec.h"

enum get_state {
	GET_OPENING,   /* OPEN sent, no answer yet */
	GET_STREAMING, /* 200 sent; bytes flow */
	GET_DONE,      /* complete or failed; waiting for the stream to close */
};

struct jg_get {
	struct jg_pump pump; /* first: the link's channel user data points here */
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	enum get_state state;
	struct jg_admit *adm;	      /* its admission (owned) */
	const struct jg_chain *chain; /* adm's */
	uint64_t size;		      /* the content-length announced; UINT64_MAX when none */
	char target[256];
	char *path;
	struct jg_audit_op *audit; /* adm's record, ended when the download ends */
};

static struct jg_get *op_get(struct jg_op *op)
{
	return (struct jg_get *)((char *)op - offsetof(struct jg_get, op));
}

static void get_free(struct jg_get *g)
{
	if (g->audit != NULL)
		g->audit->bytes_out = g->pump.down_bytes;
	jg_pump_clear(&g->pump);
	jg_admit_close(g->adm, "failed", "the download ended before it completed");
	free(g->path);
	free(g);
}

static void get_close_channel(struct jg_get *g)
{
	jg_pump_abandon(&g->pump);
}

/* End the download with REASON: an error answer before the 200, a reset after it. */
static void get_failed(struct jg_get *g, int status, const char *error, const char *reason)
{
	enum get_state was = g->state;

	if (g->audit != NULL) {
		g->audit->bytes_out = g->pump.down_bytes;
		jg_admit_end(g->adm, "failed", reason);
		g->audit = NULL;
	}

	g->state = GET_DONE;
	if (g->stream == NULL || was == GET_DONE)
		return;
	if (was == GET_STREAMING) {
		jg_log_warn("get %s on %s by %s failed after %llu bytes: %s", g->path, g->target,
			    jg_stream_identity(g->stream), (unsigned long long)g->pump.down_bytes,
			    reason);
		/* Short of the content-length, trailers end it with the reason (the client
		 * sees it broken and why); at the length, only a reset says it failed. */
		if (g->pump.down_bytes >= g->size ||
		    jg_stream_finish_failed(g->stream, error, reason) != 0)
			jg_stream_reset(g->stream, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	jg_log_info("get %s on %s by %s failed: %s", g->path, g->target,
		    jg_stream_identity(g->stream), reason);
	jg_stream_reply_error(g->stream, status, error, reason);
}

/* OPEN_OK: the file's spec is in the payload; the 200 goes out with it. */
static void get_opened(struct jg_get *g, const struct jg_frame *f)
{
	const char *hdrs[4][2];
	char size[24], mode[8], mtime[24], why[200];
	struct jg_file_spec spec;
	size_t n = 0;

	if (jg_file_spec_decode(f->payload, f->length, &spec, why, sizeof(why)) != 0) {
		char reason[300];

		snprintf(reason, sizeof(reason), "the agent's answer is malformed: %s", why);
		get_close_channel(g);
		get_failed(g, 502, "bad agent answer", reason);
		return;
	}
	if (spec.flags & JG_FILE_DIR) {
		get_close_channel(g);
		get_failed(g, 409, "conflict",
			   "is a directory (download its files one by one, or with cp -r)");
		jg_file_spec_clear(&spec);
		return;
	}
	if (spec.path != NULL && g->audit != NULL)
		jg_audit_set_opened(g->audit, spec.path); /* no memory: the record goes without */
	hdrs[n][0] = "content-type";
	hdrs[n++][1] = "application/octet-stream";
	g->size = UINT64_MAX;
	if (spec.flags & JG_FILE_HAS_SIZE) {
		g->size = spec.size;
		snprintf(size, sizeof(size), "%llu", (unsigned long long)spec.size);
		hdrs[n][0] = "content-length";
		hdrs[n++][1] = size;
	}
	if (spec.flags & JG_FILE_HAS_MODE) {
		snprintf(mode, sizeof(mode), "%04o", spec.mode & 07777);
		hdrs[n][0] = "x-jumpgate-mode";
		hdrs[n++][1] = mode;
	}
	if (spec.flags & JG_FILE_HAS_MTIME) {
		snprintf(mtime, sizeof(mtime), "%lld", (long long)spec.mtime);
		hdrs[n][0] = "x-jumpgate-mtime";
		hdrs[n++][1] = mtime;
	}
	jg_file_spec_clear(&spec);
	if (jg_stream_start_headers(g->stream, 200, (const char *const(*)[2])hdrs, n) != 0) {
		get_close_channel(g);
		g->state = GET_DONE;
		jg_stream_reset(g->stream, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	g->state = GET_STREAMING;
	jg_pump_down_open(&g->pump);
}

/* Contract (jg_pump_cbs, raw mode: DATA goes to the stream from the 200 on, or is
 * dropped and credited): OPEN_OK, OPEN_FAIL, EOF, EXIT, CLOSE of our channel, from inside
 * the link's input; after OPEN_FAIL, EXIT and CLOSE the channel is gone.  The stream is
 * alive: on_close closes the channel first. */
static void get_frame(void *ud, const struct jg_frame *f)
{
	struct jg_get *g = ud;
	const char *error;
	char reason[400];
	int status;

	switch (f->type) {
	case JG_FRAME_OPEN_OK:
		get_opened(g, f);
		return;
	case JG_FRAME_OPEN_FAIL:
		snprintf(reason, sizeof(reason), "%.*s", (int)f->length, (const char *)f->payload);
		status = jg_files_status(reason, 0, &error);
		get_failed(g, status, error, reason);
		return;
	case JG_FRAME_EOF:
		return;
	case JG_FRAME_EXIT:
		if (f->aux != 0 || (f->flags & JG_EXIT_SIGNALED)) {
			snprintf(reason, sizeof(reason), "the agent ended the download with %s %u",
				 (f->flags & JG_EXIT_SIGNALED) ? "signal" : "status", f->aux);
			get_failed(g, 500, "download failed", reason);
			return;
		}
		if (g->audit != NULL) {
			g->audit->bytes_out = g->pump.down_bytes;
			jg_admit_end(g->adm, "ok", "");
			g->audit = NULL;
		}
		if (g->state == GET_STREAMING) {
			jg_stream_finish(g->stream);
			jg_log_debug("get %s on %s: %llu bytes", g->path, g->target,
				     (unsigned long long)g->pump.down_bytes);
		}
		g->state = GET_DONE;
		return;
	case JG_FRAME_CLOSE:
		get_failed(g, 502, "agent closed the channel", "the agent abandoned the download");
		return;
	default:
		jg_log_debug("get on %s: ignoring %s from the agent", g->target,
			     jg_frame_type_name(f->type));
		return;
	}
}

/* Contract: the channel died (DEAD from the agent, a read error there; or the link
 * failed: LINK_LOST); it is gone. */
static void get_dead(void *ud, const char *reason, int link_lost)
{
	struct jg_get *g = ud;
	const char *error;
	int status = jg_files_status(reason, link_lost, &error);

	get_failed(g, status, error, reason);
}

static const struct jg_pump_cbs get_pump_cbs = {
    .on_frame = get_frame,
    .on_dead = get_dead,
};

/* A GET has no body: whatever comes is credited and dropped. */
static void get_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	(void)data;
	jg_stream_consume(op_get(op)->stream, len);
}

/* Contract: nghttp2 took N body bytes; that much agent credit is due. */
static void get_on_sent(struct jg_op *op, size_t n)
{
	jg_pump_sent(&op_get(op)->pump, n);
}

static void get_on_close(struct jg_op *op, const char *why)
{
	struct jg_get *g = op_get(op);

	if (g->state != GET_DONE)
		jg_log_info("get %s on %s: the client went away (%s)", g->path, g->target, why);
	g->stream = NULL;
	get_free(g); /* abandons the channel */
}

static const struct jg_op_cbs get_op_cbs = {
    .on_body = get_on_body,
    .on_sent = get_on_sent,
    .on_close = get_on_close,
};

struct jg_op *jg_fget_start(struct jg_gateway *gw, struct jg_stream *s, struct jg_admit *adm,
			    const char *path)
{
	struct jg_file_spec spec = {0};
	struct evbuffer *payload = NULL;
	struct jg_onward *al;
	char why[400], reason[600];
	struct jg_op *op = NULL;
	struct jg_get *g;
	int64_t ch;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		jg_admit_close(adm, "failed", "");
		goto nomem;
	}
	g->adm = adm;
	if (jg_pump_init(&g->pump, &get_pump_cbs, g, &jg_stream_pump_cbs, s) != 0 ||
	    (payload = evbuffer_new()) == NULL)
		goto nomem;
	snprintf(g->target, sizeof(g->target), "%s", adm->typed);
	if (jg_files_normalise(path, 0, &g->path, why, sizeof(why)) != 0) {
		jg_stream_reply_error(s, 400, "bad path", why);
		goto out;
	}
	g->gw = gw;
	if (!jg_files_admit(adm, s, NULL, g->path, 0, &spec, why, sizeof(why))) {
		jg_stream_reply_error(s, 403, "forbidden", why);
		goto out;
	}
	g->audit = adm->audit;
	if (jg_admit_unresolved(adm, s, "get"))
		goto out;
	g->chain = adm->chain;
	if (!jg_files_chain_usable(g->chain, reason, sizeof(reason))) {
		jg_stream_reply_error(s, 501, "not supported", reason);
		goto out;
	}
	spec.path = g->path;
	if (jg_file_spec_encode(&spec, payload) != 0)
		goto nomem;
	if ((al = jg_onward_get(gw, g->chain, why, sizeof(why))) == NULL) {
		snprintf(reason, sizeof(reason), "cannot start a connection to %s: %s",
			 g->chain->display, why);
		jg_stream_reply_error(s, 502, "target unavailable", reason);
		goto out;
	}
	ch = jg_onward_open(al, JG_OPEN_GET, evbuffer_pullup(payload, -1),
			    evbuffer_get_length(payload), jg_pump_chan(&g->pump));
	if (ch <= 0) {
		snprintf(reason, sizeof(reason), "cannot open a channel to %s: %s",
			 g->chain->display, jg_strerror((int)ch));
		jg_stream_reply_error(s, 502, "agent unavailable", reason);
		goto out;
	}
	jg_pump_attach(&g->pump, jg_onward_link(al), (uint32_t)ch, 0);
	g->op.cbs = &get_op_cbs;
	g->gw = gw;
	g->stream = s;
	g->state = GET_OPENING;
	op = &g->op;
	g = NULL;
	goto out;
nomem:
	jg_stream_reply_error(s, 500, "internal error", "out of memory");
out:
	free(spec.rules);
	if (payload != NULL)
		evbuffer_free(payload);
	if (g != NULL)
		get_free(g);
	return op;
}
