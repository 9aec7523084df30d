/* PUT /v1/files/{path}?targets=LIST: one upload written to many targets.
 *
 * Every target gets its own PUT channel (fileput.c: a pump, gateway/pump/pump.h, fed
 * with jg_pump_offer) on its own onward connection, and the request body is
 * streamed to all of them at once: the bytes cross the controller's link once.
 * The body is the one shared source, so its HTTP/2 credit is this file's own.
 *
 * Flow control is by credit windows, with no spooling: `body` holds the bytes
 * from the offset the slowest live target has reached (`base`) to what has
 * arrived; each target has its own offset into it and takes bytes as its
 * channel window allows.  HTTP/2 credit for a byte goes back only once every
 * live target has taken it, so the slowest target sets the pace and the
 * gateway holds at most one stream window (1 MiB by default) of body, plus
 * what sits in each channel's window.  A target that fails (OPEN_FAIL, DEAD,
 * link lost, keepalive timeout) leaves the set at once and holds nobody back;
 * a target that is merely slow holds everyone, by design: the upload is one
 * stream.  A stopped agent stops answering PINGs, so its link dies after two
 * keepalive intervals and the others go on.
 *
 * Targets at other sites ("site-c/web1", "site-c/web*", "site-c/grp") are not
 * expanded here: each other site gets one forwarded fan-out with its elements
 * (gateway/sites/fwput.c), a sink fed like a PUT channel, so the bytes cross each
 * link once whatever the number of targets behind it.  This gateway's policy
 * is checked per element first (a refused element is reported, the rest go).
 *
 * The answer waits until every target has finished: 200 and a JSON array, one
 * object per target -- first the targets here, in the order of the expanded
 * list, then each other site's, in the order its elements first appear and
 * as that site answered (docs/api.md).
 *
 * A relayed copy (PUT /v1/copy/{path}?targets=LIST&from=TARGET:/PATH, `jumpgate cp
 * web1:/a web2:/a`; its own path, so that a gateway without it cannot take it for an
 * upload of the empty body) takes its bytes
 * from a GET on that target (gateway/ops/copysrc.c) instead of the request body, which must
 * be empty: the targets start once the source is open (a missing source writes nothing
 * anywhere), take its mode unless x-jumpgate-mode says otherwise, get EOF only after the
 * source's exit status 0, and are all abandoned (nothing replaced) if the source fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "auth/audit.h"
#include "config/config.h"
#include "gateway/admitted.h"
#include "gateway/ops/copysrc.h"
#include "gateway/ops/files.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "gateway/sites/sites.h"
#include "relay/argv.h"
#include "relay/err.h"
#include "relay/pct.h"
#include "relay/log.h"

struct jg_fanout;
struct fan_target {
	struct jg_fanout *x;  /* the fan-out it belongs to (the fput cbs' owner is the target) */
	struct jg_fput *fput; /* a target here */
	struct jg_fwput *fw;  /* or the targets at another site, NAME */
	uint64_t sent;	      /* body offset this target's channel has taken */
	int denied;	      /* refused by the path policy: fput is NULL */
	char denied_why[200];
	char *name;
	struct jg_admit *adm; /* its admission and audit record, closed when its PUT ends */
};

struct jg_fanout {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *stream; /* NULL after on_close */
	struct fan_target *t;
	size_t n;
	struct evbuffer *body; /* body bytes [base, base + length) */
	uint64_t base;
	int body_end;
	int body_seen; /* dir or symlink: a body came, which they do not take */
	int answered;
	struct jg_put_req req; /* the spec for every target */
	char **names;	       /* the expanded list here, until the targets start */
	size_t nnames;
	struct site_part *sites; /* the elements for each other site */
	size_t nsites, nelems;	 /* nelems: elements of all sites */
	char *path;		 /* normalised, for the targets here */
	char *rawpath;		 /* as the client sent it, for other sites */
	struct jg_copysrc *src;	 /* a relayed copy's source, else NULL (the body) */
};

/* The elements of the list naming targets at SITE, as written. */
struct site_part {
	char *site;
	struct jg_argv elems;
};

static struct jg_fanout *op_fanout(struct jg_op *op)
{
	return (struct jg_fanout *)((char *)op - offsetof(struct jg_fanout, op));
}

static int target_live(const struct fan_target *t)
{
	return (t->fput != NULL && !jg_fput_done(t->fput)) ||
	       (t->fw != NULL && !jg_fwput_done(t->fw));
}

static size_t target_window(const struct fan_target *t)
{
	return t->fput != NULL ? jg_fput_window(t->fput) : jg_fwput_window(t->fw);
}

static size_t target_send(struct fan_target *t, const void *data, size_t len)
{
	return t->fput != NULL ? jg_fput_send(t->fput, data, len) : jg_fwput_send(t->fw, data, len);
}

static void target_eof(struct fan_target *t)
{
	if (t->fput != NULL)
		jg_fput_eof(t->fput);
	else
		jg_fwput_eof(t->fw);
}

/* End T's audit record from its PUT's result (once; nothing when there is none). */
static void target_audit_end(struct jg_fanout *x, struct fan_target *t)
{
	const struct jg_fput_result *r;

	(void)x;
	if (t->adm == NULL || t->fw != NULL)
		return; /* none, or the forwarded fan-out's own */
	if (t->fput == NULL || !jg_fput_done(t->fput) || t->adm->audit == NULL) {
		jg_admit_close(t->adm, "failed", "the upload was abandoned");
	} else {
		r = jg_fput_result(t->fput);
		t->adm->audit->bytes_in = r->size;
		if (r->opened[0] != '\0')
			jg_audit_set_opened(t->adm->audit, r->opened);
		jg_admit_close(t->adm, r->ok ? "ok" : "failed", r->ok ? "" : r->reason);
	}
	t->adm = NULL;
}

static void fanout_free(struct jg_fanout *x)
{
	for (size_t i = 0; i < x->n; i++) {
		target_audit_end(x, &x->t[i]);
		jg_fput_free(x->t[i].fput);
		jg_fwput_free(x->t[i].fw);
		free(x->t[i].name);
	}
	free(x->t);
	for (size_t i = 0; i < x->nnames; i++)
		free(x->names[i]);
	free(x->names);
	for (size_t i = 0; i < x->nsites; i++) {
		jg_argv_clear(&x->sites[i].elems);
		free(x->sites[i].site);
	}
	free(x->sites);
	jg_copysrc_free(x->src);
	free(x->rawpath);
	jg_put_req_clear(&x->req);
	if (x->body != NULL)
		evbuffer_free(x->body);
	free(x->path);
	free(x);
}

static json_t *target_json(const struct jg_fanout *x, const struct fan_target *t)
{
	const struct jg_fput_result *r;

	if (t->denied)
		return json_pack("{s:s, s:b, s:i, s:s, s:s}", "target", t->name, "ok", 0, "status",
				 403, "error", "forbidden", "reason", t->denied_why);
	r = jg_fput_result(t->fput);
	if (r->ok)
		return json_pack("{s:s, s:b, s:s, s:s, s:I}", "target", t->name, "ok", 1, "path",
				 x->path, "sha256", r->sha256, "size", (json_int_t)r->size);
	return json_pack("{s:s, s:b, s:i, s:s, s:s}", "target", t->name, "ok", 0, "status",
			 r->status, "error", r->error, "reason", r->reason);
}

/* Once every target has finished: the per-target results. */
static void fanout_maybe_answer(struct jg_fanout *x)
{
	size_t failed = 0, total;
	json_t *a;
	char *text;

	if (x->answered || x->stream == NULL)
		return;
	for (size_t i = 0; i < x->n; i++)
		if (target_live(&x->t[i]))
			return;
	x->answered = 1;
	a = json_array();
	for (size_t i = 0; a != NULL && i < x->n; i++) {
		const struct fan_target *t = &x->t[i];

		if (t->fw != NULL) {
			failed += jg_fwput_results(t->fw, a);
			continue;
		}
		if (t->denied || !jg_fput_result(t->fput)->ok) {
			failed++;
			jg_log_info("fan-out put %s on %s failed: %s", x->path, t->name,
				    t->denied ? t->denied_why : jg_fput_result(t->fput)->reason);
		}
		json_array_append_new(a, target_json(x, t));
	}
	text = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
	total = json_array_size(a);
	json_decref(a);
	if (text == NULL) {
		jg_stream_reply_error(x->stream, 500, "internal error", "out of memory");
		return;
	}
	jg_log_info("fan-out put %s by %s: %zu targets (%zu other site(s)), %zu failed", x->path,
		    jg_stream_identity(x->stream), total, x->nsites, failed);
	jg_stream_reply(x->stream, 200, "application/json", text, strlen(text));
	free(text);
}

/* Drop the bytes every live target has taken and give their HTTP/2 credit back.  With no
 * live target left, everything buffered goes (and later bytes are dropped on arrival). */
static void fanout_trim(struct jg_fanout *x)
{
	uint64_t end = x->base + evbuffer_get_length(x->body), low = end;
	size_t n;

	for (size_t i = 0; i < x->n; i++)
		if (target_live(&x->t[i]) && x->t[i].sent < low)
			low = x->t[i].sent;
	if ((n = (size_t)(low - x->base)) == 0)
		return;
	evbuffer_drain(x->body, n);
	x->base = low;
	if (x->src != NULL)
		jg_copysrc_consumed(x->src, n);
	else if (x->stream != NULL)
		jg_stream_consume(x->stream, n);
}

/* Offer each live target what it has not taken yet, as far as its window goes. */
static void fanout_pump_target(struct jg_fanout *x, struct fan_target *t)
{
	uint64_t end = x->base + evbuffer_get_length(x->body);
	struct evbuffer_iovec v;
	struct evbuffer_ptr pos;
	size_t win, n;

	while (target_live(t) && t->sent < end) {
		if ((win = target_window(t)) == 0)
			break;
		if (evbuffer_ptr_set(x->body, &pos, (size_t)(t->sent - x->base),
				     EVBUFFER_PTR_SET) != 0 ||
		    evbuffer_peek(x->body, -1, &pos, &v, 1) < 1 || v.iov_len == 0)
			break;
		n = target_send(t, v.iov_base, v.iov_len < win ? v.iov_len : win);
		if (n == 0)
			break;
		t->sent += n;
	}
	if (target_live(t) && x->body_end && t->sent == end)
		target_eof(t);
}

static void fanout_pump(struct jg_fanout *x)
{
	for (size_t i = 0; i < x->n; i++)
		fanout_pump_target(x, &x->t[i]);
	fanout_trim(x);
}

static void fanout_abort(struct jg_fanout *x, int status, const char *error, const char *why)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->t[i].fput != NULL)
			jg_fput_abort(x->t[i].fput);
		if (x->t[i].fw != NULL)
			jg_fwput_abort(x->t[i].fw);
	}
	x->answered = 1;
	jg_stream_reply_error(x->stream, status, error, why);
}

static int fanout_begin(struct jg_fanout *x);

/* Contract (jg_op_cbs.on_body): request bytes, borrowed; credit is ours to give back. */
static void fanout_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	struct jg_fanout *x = op_fanout(op);
	size_t live = 0;

	for (size_t i = 0; i < x->n; i++)
		live += target_live(&x->t[i]);
	if (x->src != NULL) {
		jg_stream_consume(x->stream, len);
		if (!x->answered)
			fanout_abort(x, 400, "bad request",
				     "a relayed copy (from=) takes no request body");
		return;
	}
	if (live == 0 || x->answered || !x->req.kind_file) {
		/* Nobody left to write to, or a dir/symlink (judged at END_STREAM): dropped. */
		x->body_seen = 1;
		jg_stream_consume(x->stream, len);
		return;
	}
	if (evbuffer_add(x->body, data, len) != 0) {
		jg_stream_consume(x->stream, len);
		fanout_abort(x, 500, "internal error", "out of memory");
		return;
	}
	fanout_pump(x);
}

/* Contract: END_STREAM.  Each target's EOF follows its last byte; a dir or symlink starts
 * now, once it is known that no body came with it. */
static void fanout_on_body_end(struct jg_op *op)
{
	struct jg_fanout *x = op_fanout(op);

	if (x->src != NULL)
		return; /* the source's end is the body's (fanout_src_end) */
	x->body_end = 1;
	if (x->req.kind_file || x->answered) {
		fanout_pump(x);
	} else if (x->body_seen) {
		fanout_abort(x, 400, "bad request",
			     "a directory or symlink PUT takes no request body");
	} else if (fanout_begin(x) != 0) {
		fanout_abort(x, 500, "internal error", "out of memory");
	} else {
		fanout_pump(x); /* EOF to each */
	}
}

/* Contract: the stream is gone; unfinished PUTs are abandoned (nothing replaced there). */
static void fanout_on_close(struct jg_op *op, const char *why)
{
	struct jg_fanout *x = op_fanout(op);

	if (!x->answered)
		jg_log_info("fan-out put %s: the client went away (%s); uploads abandoned", x->path,
			    why);
	x->stream = NULL;
	fanout_free(x);
}

static const struct jg_op_cbs fanout_op_cbs = {
    .on_body = fanout_on_body,
    .on_body_end = fanout_on_body_end,
    .on_close = fanout_on_close,
};

/* Contract (jg_fput_cbs): from the event loop; OWNER is the fan_target.  Only a target
 * at the low mark can move it, so only then is the O(targets) trim worth doing. */
static void fanout_fput_writable(void *owner, struct jg_fput *p)
{
	struct fan_target *t = owner;
	int was_low = t->sent == t->x->base;

	(void)p;
	fanout_pump_target(t->x, t);
	if (was_low)
		fanout_trim(t->x);
}

/* A target finished: if it failed it no longer holds the others back. */
static void fanout_fput_done(void *owner, struct jg_fput *p)
{
	struct fan_target *t = owner;

	(void)p;
	target_audit_end(t->x, t);
	fanout_trim(t->x);
	fanout_maybe_answer(t->x);
}

static const struct jg_fput_cbs fanout_fput_cbs = {
    .on_writable = fanout_fput_writable,
    .on_done = fanout_fput_done,
};

/* The same for the part that goes to another site (jg_fwput_cbs). */
static void fanout_fwput_writable(void *owner, struct jg_fwput *p)
{
	(void)p;
	fanout_fput_writable(owner, NULL);
}

static void fanout_fwput_done(void *owner, struct jg_fwput *p)
{
	(void)p;
	fanout_fput_done(owner, NULL);
}

static const struct jg_fwput_cbs fanout_fwput_cbs = {
    .on_writable = fanout_fwput_writable,
    .on_done = fanout_fwput_done,
};

/* One target slot for each element of SP this gateway's policy refuses (reported as
 * such), and one for the forwarded fan-out of the others.  0 or JG_ERR_NOMEM. */
static int fanout_begin_site(struct jg_fanout *x, struct site_part *sp)
{
	struct jg_admit **adm = calloc(sp->elems.n, sizeof(*adm));
	char **allowed = calloc(sp->elems.n, sizeof(*allowed));
	struct fan_target *t;
	size_t nallowed = 0;
	int r = JG_ERR_NOMEM;

	if (adm == NULL || allowed == NULL)
		goto out;
	for (size_t i = 0; i < sp->elems.n; i++) {
		struct jg_admit *a = jg_admit_new(x->gw, x->stream, "put", sp->elems.v[i], 0);

		t = &x->t[x->n];
		t->x = x;
		if (a == NULL)
			goto out;
		if (jg_files_admit(a, x->stream, x->req.spec.root, x->path,
				   jg_put_req_setid(&x->req), NULL, t->denied_why,
				   sizeof(t->denied_why))) {
			adm[nallowed] = a;
			allowed[nallowed++] = sp->elems.v[i];
			continue;
		}
		jg_admit_close(a, "failed", "");
		if ((t->name = strdup(sp->elems.v[i])) == NULL)
			goto out;
		t->denied = 1;
		x->n++;
	}
	r = 0;
	if (nallowed == 0)
		goto out;
	t = &x->t[x->n];
	t->x = x;
	if ((t->name = strdup(sp->site)) == NULL) {
		r = JG_ERR_NOMEM;
		goto out;
	}
	x->n++;
	t->fw = jg_fwput_start(x->gw, x->stream, sp->site, allowed, adm, nallowed, x->rawpath,
			       &fanout_fwput_cbs, t);
	nallowed = 0; /* the admissions are its own now */
	if (t->fw == NULL)
		r = JG_ERR_NOMEM;
out:
	for (size_t i = 0; adm != NULL && i < nallowed; i++)
		jg_admit_close(adm[i], "failed", "out of memory");
	free(adm);
	free(allowed);
	return r;
}

/* Start every target's PUT.  0, or JG_ERR_NOMEM.  Targets that failed already (bad spec,
 * no connection, policy) are reported with the rest; when none is left the answer goes
 * now (x->answered). */
static int fanout_begin(struct jg_fanout *x)
{
	struct jg_stream *s = x->stream;

	/* Room for every target here, every element elsewhere and one forward per site. */
	if ((x->t = calloc(x->nnames + x->nelems + x->nsites, sizeof(*x->t))) == NULL)
		return JG_ERR_NOMEM;
	for (size_t i = 0; i < x->nnames; i++) {
		struct fan_target *t = &x->t[i];

		t->x = x;
		t->name = x->names[i];
		x->names[i] = NULL;
		x->n++;
		struct jg_file_spec spec = x->req.spec; /* with this target's path rules */

		spec.rules = NULL;
		if ((t->adm = jg_admit_new(x->gw, s, "put", t->name, 0)) == NULL)
			return JG_ERR_NOMEM;
		if (!jg_files_admit(t->adm, s, spec.root, x->path, jg_put_req_setid(&x->req), &spec,
				    t->denied_why, sizeof(t->denied_why))) {
			t->denied = 1;
			continue;
		}
		/* The fan-out's PUTs do not use a forwarded agent (no stream for them). */
		t->fput = jg_fput_start(x->gw, NULL, t->adm, x->path, &spec, &fanout_fput_cbs, t);
		free(spec.rules);
		if (t->fput == NULL)
			return JG_ERR_NOMEM;
		if (jg_fput_done(t->fput))
			target_audit_end(x, t); /* failed at once: no on_done comes */
	}
	for (size_t i = 0; i < x->nsites; i++)
		if (fanout_begin_site(x, &x->sites[i]) != 0)
			return JG_ERR_NOMEM;
	fanout_maybe_answer(x);
	return 0;
}

/* --- a relayed copy's source (copysrc.h hooks; OWNER is the fan-out) --- */

/* Open: the targets start now, with the source's mode unless the client gave one. */
static void fanout_src_open(void *owner, const struct jg_file_spec *spec)
{
	struct jg_fanout *x = owner;

	if (x->answered)
		return;
	if (!(x->req.spec.flags & JG_FILE_HAS_MODE) && (spec->flags & JG_FILE_HAS_MODE)) {
		x->req.spec.flags |= JG_FILE_HAS_MODE;
		x->req.spec.mode = spec->mode & 0777; /* never setid bits the policy did not see */
	}
	if (fanout_begin(x) != 0)
		fanout_abort(x, 500, "internal error", "out of memory");
}

static void fanout_src_data(void *owner, struct evbuffer *buf)
{
	struct jg_fanout *x = owner;
	size_t len = evbuffer_get_length(buf), live = 0;

	for (size_t i = 0; i < x->n; i++)
		live += target_live(&x->t[i]);
	if (live == 0 || x->answered) {
		evbuffer_drain(buf, len);
		jg_copysrc_consumed(x->src, len);
		return;
	}
	if (evbuffer_add_buffer(x->body, buf) != 0) {
		evbuffer_drain(buf, len);
		jg_copysrc_consumed(x->src, len);
		fanout_abort(x, 500, "internal error", "out of memory");
		return;
	}
	fanout_pump(x);
}

static void fanout_src_end(void *owner)
{
	struct jg_fanout *x = owner;

	x->body_end = 1;
	fanout_pump(x); /* EOF to each once it has every byte */
	fanout_maybe_answer(x);
}

/* The source failed: every unfinished PUT is abandoned, so nothing is replaced. */
static void fanout_src_fail(void *owner, int status, const char *error, const char *reason)
{
	struct jg_fanout *x = owner;

	if (!x->answered && x->stream != NULL)
		fanout_abort(x, status, error, reason);
}

static const struct jg_copysrc_cbs fanout_src_cbs = {
    .on_open = fanout_src_open,
    .on_data = fanout_src_data,
    .on_end = fanout_src_end,
    .on_fail = fanout_src_fail,
};

/* ?from=TARGET:/PATH: open the source; the targets wait for it.  0, or -1 answered. */
static int fanout_src_start(struct jg_fanout *x, const char *from)
{
	char *target = NULL, *path = NULL, why[600];
	const char *error = "bad request";
	int status = 400;

	if (!x->req.kind_file) {
		snprintf(why, sizeof(why), "a relayed copy (from=) writes files only");
	} else if (jg_copysrc_split(from, &target, &path, why, sizeof(why)) == 0) {
		x->src = jg_copysrc_start(x->gw, x->stream, target, path, &fanout_src_cbs, x,
					  &status, &error, why, sizeof(why));
	}
	free(target);
	free(path);
	if (x->src != NULL)
		return 0;
	jg_stream_reply_error(x->stream, status, error, why);
	return -1;
}

/* Put ELEM (LEN bytes) in the part of SITE, made at its first element. */
static int site_add(struct jg_fanout *x, const char *site, const char *elem, size_t len)
{
	struct site_part *sp = NULL, *grown;

	for (size_t i = 0; i < x->nsites && sp == NULL; i++)
		if (strcmp(x->sites[i].site, site) == 0)
			sp = &x->sites[i];
	if (sp == NULL) {
		if ((grown = realloc(x->sites, (x->nsites + 1) * sizeof(*grown))) == NULL)
			return JG_ERR_NOMEM;
		x->sites = grown;
		sp = &x->sites[x->nsites];
		memset(sp, 0, sizeof(*sp));
		if ((sp->site = strdup(site)) == NULL)
			return JG_ERR_NOMEM;
		x->nsites++;
	}
	jg_argv_pushn(&sp->elems, elem, len);
	if (sp->elems.nomem)
		return JG_ERR_NOMEM;
	x->nelems++;
	return 0;
}

/* Split LIST: elements naming another site ("site-c/...") go to its part, the others
 * (this gateway's own name in front dropped) stay in LIST, expanded here later.  0 or
 * JG_ERR_NOMEM; *NLOCAL counts what stays. */
static int split_sites(struct jg_fanout *x, char *list, size_t *nlocal)
{
	const char *me = x->gw->cfg->gateway_name;
	size_t melen = strlen(me), out = 0;
	char *p = list, site[80], elem[256];
	int first = 1;

	*nlocal = 0;
	for (;;) {
		size_t len = strcspn(p, ","), off = 0;
		const char *e = p;
		int r;

		while (len > 0 && *e == ' ') {
			e++;
			len--;
		}
		while (len > 0 && e[len - 1] == ' ')
			len--;
		if (len > melen && strncmp(e, me, melen) == 0 && e[melen] == '/')
			off = melen + 1; /* ours: "site-a/web1" here is web1 */
		snprintf(elem, sizeof(elem), "%.*s", (int)(len - off), e + off);
		if (off == 0 && len < sizeof(elem) &&
		    jg_forward_site_of(x->gw, elem, site, sizeof(site))) {
			if ((r = site_add(x, site, e, len)) != 0)
				return r;
		} else {
			/* Kept in place (memmove: OUT never passes P); an empty element too,
			 * for the expansion to refuse. */
			if (!first)
				list[out++] = ',';
			first = 0;
			memmove(list + out, e + off, len - off);
			out += len - off;
			(*nlocal)++;
		}
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		p++;
	}
	list[out] = '\0';
	return 0;
}

struct jg_op *jg_fanout_start(struct jg_gateway *gw, struct jg_stream *s, const char *path,
			      const char *query, int copy)
{
	struct jg_fanout *x = NULL;
	char *list = NULL, *from = NULL, why[400];
	struct jg_op *op = NULL;
	size_t nlocal = 0;
	int r;

	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL || (x->body = evbuffer_new()) == NULL)
		goto nomem;
	x->op.cbs = &fanout_op_cbs;
	x->gw = gw;
	x->stream = s;
	if ((r = jg_pct_query_param(query, "targets", &list)) <= 0) {
		jg_stream_reply_error(s, 400, "bad request",
				      r < 0 ? "the targets parameter is badly encoded"
					    : "no targets: add ?targets=a,b,c (names, specs, "
					      "groups or globs)");
		goto out;
	}
	if (split_sites(x, list, &nlocal) != 0 || (x->rawpath = strdup(path)) == NULL)
		goto nomem;
	r = nlocal > 0 || x->nsites == 0
		? jg_targets_expand(gw->cfg, list, &x->names, &x->nnames, why, sizeof(why))
		: 0;
	if (r != 0) {
		jg_stream_reply_error(s, r == JG_ERR_NOMEM ? 500 : 400, "bad target list", why);
		goto out;
	}
	if (jg_put_req_parse(s, &x->req, why, sizeof(why)) != 0) {
		jg_stream_reply_error(s, 400, "bad request", why);
		goto out;
	}
	if (jg_files_normalise(path, x->req.spec.root != NULL, &x->path, why, sizeof(why)) != 0) {
		jg_stream_reply_error(s, 400, "bad path", why);
		goto out;
	}
	if ((r = jg_pct_query_param(query, "from", &from)) != 0 || copy) {
		if (r <= 0 || !copy) {
			jg_stream_reply_error(s, 400, "bad request",
					      r < 0   ? "the from parameter is badly encoded"
					      : !copy ? "from= goes with PUT /v1/copy/{path}"
						      : "a copy needs from=TARGET:/PATH");
			goto out;
		}
		/* A relayed copy: the targets start when the source is open (fanout_src_open). */
		if (fanout_src_start(x, from) != 0)
			goto out;
	} else if (x->req.kind_file && fanout_begin(x) != 0) {
		/* A dir or symlink starts at END_STREAM (fanout_on_body_end). */
		goto nomem;
	}
	if (!x->answered) {
		op = &x->op;
		x = NULL; /* the stream owns it now */
	}
	goto out;
nomem:
	jg_stream_reply_error(s, 500, "internal error", "out of memory");
out:
	if (x != NULL)
		fanout_free(x);
	free(list);
	free(from);
	return op;
}
