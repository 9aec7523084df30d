/* Operations on other sites: one controller stream carried onto one stream of
 * the link to the next hop (gateway/sites/sites.h).
 *
 * The request goes on as it came -- method, :protocol, headers, body -- with
 * the path rewritten (the site prefix stripped when the next hop is the site,
 * kept otherwise, so the next hop forwards again) and the identity the
 * stream acts for asserted in x-jumpgate-on-behalf-of (replacing any the
 * client sent).  The answer comes back as it is: status, headers, body.  So
 * exec, files, tunnels and reset all travel the same way, and the far
 * gateway decides with its own policy.
 *
 * Windows are bridged hop to hop; nothing is buffered beyond one window:
 *  - up: request bytes wait in `req` until the link stream's window takes them
 *    (the link's data provider); only then is their HTTP/2 credit given back
 *    to the client (jg_stream_consume);
 *  - down: response bytes are queued on the controller's stream; their credit
 *    goes back to the far side only as nghttp2 hands them to the controller's
 *    connection (on_sent -> jg_sitelink_stream_consume).
 * So a slow far end slows the near end, and the other way round.
 *
 * Exec answers are frame streams: only whole frames are passed on, so that
 * when the route is lost mid-way a DEAD frame with the reason can end the
 * stream cleanly ("route to site-b lost: ...").  Other bodies are raw: losing
 * the route resets the stream (after the reason is logged).
 *
 * Lifetime: the forward lives until the controller's stream closes (on_close);
 * the link stream may end first (`up` NULL from then on). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>

#include "auth/audit.h"
#include "gateway/admitted.h"
#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/frame.h"
#include "relay/log.h"
#include "relay/pct.h"

#define FRAMES_TYPE "application/x-jumpgate-frames"
#define MAX_HEADERS 16
#define MAX_COLLECT (8u << 20) /* a collected JSON answer, re-prefixed */
#define MAX_MATCH 256	       /* elements of a forwarded match= */

struct jg_forward {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *s;	       /* NULL after on_close */
	struct jg_sitelink_stream *up; /* NULL once the link stream is gone */
	char next[64];		       /* the next hop's site name */
	char what[300];		       /* "exec on site-c/db1", for log lines */
	struct evbuffer *req;	       /* request bytes waiting for the link's window */
	int req_eof;
	int status;
	struct evbuffer *hdrs; /* response headers, "name\0value\0" */
	int resp_started, resp_done, failed;
	int frames;		  /* the answer is a frame stream */
	struct evbuffer *partial; /* an incomplete frame of it */
	struct evbuffer *scratch;
	uint64_t owed;		   /* bytes queued downstream, credit not yet returned */
	char prefix[80];	   /* collected: "site-c/" to put back in the answer */
	struct evbuffer *collect;  /* a target listing's answer, collected */
	struct jg_admit *adm;	   /* the target's admission (owned), or NULL (a listing) */
	struct jg_audit_op *audit; /* its open record, or NULL */
};

static struct jg_forward *op_fwd(struct jg_op *op)
{
	return (struct jg_forward *)op;
}

static void audit_end(struct jg_forward *f, const char *outcome, const char *reason)
{
	jg_admit_close(f->adm, outcome, reason);
	f->adm = NULL;
	f->audit = NULL;
}

static void fwd_free(struct jg_forward *f)
{
	audit_end(f, "failed", "the stream closed before the operation ended");
	if (f->req)
		evbuffer_free(f->req);
	if (f->hdrs)
		evbuffer_free(f->hdrs);
	if (f->partial)
		evbuffer_free(f->partial);
	if (f->scratch)
		evbuffer_free(f->scratch);
	if (f->collect)
		evbuffer_free(f->collect);
	free(f);
}

/* The operation failed with MSG: told to the controller as well as can be. */
static void fwd_fail(struct jg_forward *f, int status, const char *error, const char *msg)
{
	if (f->failed || f->s == NULL)
		return;
	f->failed = 1;
	jg_log_info("%s by %s failed: %s", f->what, jg_stream_identity(f->s), msg);
	audit_end(f, "failed", msg);
	if (!f->resp_started) {
		jg_stream_reply_error(f->s, status, error, msg);
	} else if (f->frames) {
		/* An incomplete frame was never passed on: drop it, end with the reason. */
		evbuffer_drain(f->partial, evbuffer_get_length(f->partial));
		jg_frame_put(f->scratch, JG_FRAME_DEAD, 0, 0, 0, msg, (uint32_t)strlen(msg));
		jg_stream_append(f->s, f->scratch);
		jg_stream_finish(f->s);
	} else {
		jg_stream_reset(f->s, NGHTTP2_INTERNAL_ERROR);
	}
}

/* ---------------------------------------------------------------- link side */

static void up_header(void *ud, const char *name, const char *value)
{
	struct jg_forward *f = ud;

	if (strcmp(name, ":status") == 0) {
		f->status = atoi(value);
		return;
	}
	if (name[0] == ':' || strcmp(name, "content-length") == 0)
		return;
	if (strcmp(name, "content-type") == 0 && strcmp(value, FRAMES_TYPE) == 0)
		f->frames = 1;
	evbuffer_add(f->hdrs, name, strlen(name) + 1);
	evbuffer_add(f->hdrs, value, strlen(value) + 1);
}

static void up_headers_end(void *ud)
{
	struct jg_forward *f = ud;
	const char *h[MAX_HEADERS][2];
	size_t n = 0, off = 0, len = evbuffer_get_length(f->hdrs);
	const char *p = (const char *)evbuffer_pullup(f->hdrs, -1);

	if (f->status >= 100 && f->status < 200) { /* interim: wait for the real answer */
		evbuffer_drain(f->hdrs, len);
		f->frames = 0;
		return;
	}
	if (f->s == NULL || f->resp_started)
		return;
	if (f->collect != NULL) /* collected: answered once the body is complete */
		return;
	while (off < len && n < MAX_HEADERS) {
		h[n][0] = p + off;
		off += strlen(p + off) + 1;
		h[n][1] = p + off;
		off += strlen(p + off) + 1;
		n++;
	}
	if (jg_stream_start_headers(f->s, f->status, h, n) != 0) {
		fwd_fail(f, 502, "bad gateway", "cannot pass the answer on");
		return;
	}
	f->resp_started = 1;
}

/* Move the complete frames of f->partial onto the controller's stream. */
static void pass_frames(struct jg_forward *f)
{
	uint8_t hdr[JG_FRAME_HEADER_LEN];
	size_t avail, flen;

	while ((avail = evbuffer_get_length(f->partial)) >= JG_FRAME_HEADER_LEN) {
		evbuffer_copyout(f->partial, hdr, sizeof(hdr));
		/* length: bytes 8-11, big-endian (docs/protocol.md) */
		flen = JG_FRAME_HEADER_LEN + ((size_t)hdr[8] << 24 | (size_t)hdr[9] << 16 |
					      (size_t)hdr[10] << 8 | hdr[11]);
		if (avail < flen)
			break;
		evbuffer_remove_buffer(f->partial, f->scratch, flen);
		jg_stream_append(f->s, f->scratch);
	}
}

static void up_data(void *ud, const uint8_t *data, size_t len)
{
	struct jg_forward *f = ud;

	if (f->s == NULL || f->failed) {
		jg_sitelink_stream_consume(f->up, len);
		return;
	}
	if (f->collect != NULL) {
		jg_sitelink_stream_consume(f->up, len);
		if (evbuffer_get_length(f->collect) + len > MAX_COLLECT) {
			fwd_fail(f, 502, "bad gateway",
				 "the far site's fan-out answer is too large");
			return;
		}
		evbuffer_add(f->collect, data, len);
		return;
	}
	f->owed += len;
	if (f->audit != NULL)
		f->audit->bytes_out += len;
	if (f->frames) {
		evbuffer_add(f->partial, data, len);
		pass_frames(f);
	} else {
		evbuffer_add(f->scratch, data, len);
		jg_stream_append(f->s, f->scratch);
	}
}

/* A collected answer (GET /v1/targets?match=) names targets as the far site knows them:
 * put the site back, in strings and in objects' "target". */
static void answer_collected(struct jg_forward *f)
{
	size_t len = evbuffer_get_length(f->collect);
	json_t *arr = json_loadb((const char *)evbuffer_pullup(f->collect, -1), len, 0, NULL);
	size_t i;
	json_t *o;
	char *text, full[600];

	if (f->status == 200 && json_is_array(arr)) {
		json_array_foreach(arr, i, o)
		{
			const char *t = json_is_string(o)
					    ? json_string_value(o)
					    : json_string_value(json_object_get(o, "target"));

			if (t == NULL)
				continue;
			snprintf(full, sizeof(full), "%s%s", f->prefix, t);
			if (json_is_string(o))
				json_array_set_new(arr, i, json_string(full));
			else
				json_object_set_new(o, "target", json_string(full));
		}
	}
	text = f->status == 200 && json_is_array(arr) ? json_dumps(arr, JSON_COMPACT) : NULL;
	if (text != NULL) {
		jg_stream_reply(f->s, f->status, "application/json", text, strlen(text));
	} else {
		/* Not the array we expected (an error object): pass it on as it is. */
		jg_stream_reply(f->s, f->status, "application/json",
				(const char *)evbuffer_pullup(f->collect, -1), len);
	}
	f->resp_started = 1;
	free(text);
	json_decref(arr);
}

static void up_end(void *ud)
{
	struct jg_forward *f = ud;

	f->resp_done = 1;
	if (f->s == NULL || f->failed)
		return;
	if (f->collect != NULL) {
		answer_collected(f);
	} else {
		if (!f->resp_started) {
			fwd_fail(f, 502, "bad gateway", "the far site answered with no headers");
			return;
		}
		if (evbuffer_get_length(f->partial) > 0) /* a truncated frame: as it is */
			jg_stream_append(f->s, f->partial);
		jg_stream_finish(f->s);
	}
	{
		char why[120];

		snprintf(why, sizeof(why), "%s answered %d", f->next, f->status);
		audit_end(f, f->status < 400 ? "ok" : "failed", why);
	}
}

static ssize_t up_body(void *ud, uint8_t *buf, size_t len, int *eof)
{
	struct jg_forward *f = ud;
	int n = evbuffer_remove(f->req, buf, len);

	if (n > 0) {
		if (f->s != NULL)
			jg_stream_consume(f->s, (size_t)n);
		return n;
	}
	if (f->req_eof) {
		*eof = 1;
		return 0;
	}
	return JG_ERR_AGAIN;
}

static void up_close(void *ud, uint32_t h2_error, const char *lost)
{
	struct jg_forward *f = ud;
	char msg[400];

	f->up = NULL;
	/* What the client still sends has nowhere to go: credit it and drop it. */
	if (f->s != NULL)
		jg_stream_consume(f->s, evbuffer_get_length(f->req));
	evbuffer_drain(f->req, evbuffer_get_length(f->req));
	if (lost != NULL) {
		fwd_fail(f, 503, "route lost", lost);
		return;
	}
	if (f->resp_done)
		return;
	if (h2_error != 0)
		snprintf(msg, sizeof(msg), "%s reset the stream (%s)", f->next,
			 nghttp2_http2_strerror(h2_error));
	else
		snprintf(msg, sizeof(msg), "%s ended the stream without an answer", f->next);
	fwd_fail(f, 502, "bad gateway", msg);
}

static const struct jg_sitelink_stream_cbs up_cbs = {
    .on_header = up_header,
    .on_headers_end = up_headers_end,
    .on_data = up_data,
    .on_end = up_end,
    .body = up_body,
    .on_close = up_close,
};

/* ---------------------------------------------------------------- controller side */

static void fwd_on_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	struct jg_forward *f = op_fwd(op);

	if (f->up == NULL) {
		jg_stream_consume(f->s, len);
		return;
	}
	evbuffer_add(f->req, data, len);
	if (f->audit != NULL)
		f->audit->bytes_in += len;
	jg_sitelink_stream_resume(f->up);
}

static void fwd_on_body_end(struct jg_op *op)
{
	struct jg_forward *f = op_fwd(op);

	f->req_eof = 1;
	if (f->up != NULL)
		jg_sitelink_stream_resume(f->up);
}

static void fwd_on_sent(struct jg_op *op, size_t n)
{
	struct jg_forward *f = op_fwd(op);
	size_t credit = n < f->owed ? n : (size_t)f->owed;

	f->owed -= credit;
	if (f->up != NULL && credit > 0)
		jg_sitelink_stream_consume(f->up, credit);
}

static void fwd_on_close(struct jg_op *op, const char *why)
{
	struct jg_forward *f = op_fwd(op);

	if (!f->resp_done && !f->failed)
		jg_log_info("%s: the client's stream ended first (%s)", f->what, why);
	f->s = NULL;
	if (f->up != NULL)
		jg_sitelink_stream_cancel(f->up);
	fwd_free(f);
}

static const struct jg_op_cbs fwd_cbs = {
    .on_body = fwd_on_body,
    .on_body_end = fwd_on_body_end,
    .on_sent = fwd_on_sent,
    .on_close = fwd_on_close,
};

/* ---------------------------------------------------------------- starting */

int jg_forward_headers(struct jg_stream *s, const char *h[][2], size_t max)
{
	const char *ct = jg_stream_content_type(s);
	size_t n = 0;
	int k;

	if (max < 2)
		return -1;
	if (ct != NULL && ct[0] != '\0') {
		h[n][0] = "content-type";
		h[n++][1] = ct;
	}
	h[n][0] = JG_ON_BEHALF_OF;
	h[n++][1] = jg_stream_identity(s);
	if ((k = jg_stream_headers(s, h + n, max - n, JG_ON_BEHALF_OF)) < 0)
		return -1;
	return (int)n + k;
}

/* Send S's request to LINK as METHOD/PROTOCOL PATH.  The gate has been passed (the
 * audit records are in F).  NULL when it answered already. */
static struct jg_op *fwd_start(struct jg_forward *f, struct jg_sitelink *link, const char *method,
			       const char *protocol, const char *path)
{
	const char *h[MAX_HEADERS + 2][2];
	char err[300];
	int k;
	size_t n;

	if ((k = jg_forward_headers(f->s, h, MAX_HEADERS + 2)) < 0) {
		fwd_fail(f, 431, "request header fields too large",
			 "more request headers than a forwarded request may carry (16)");
		fwd_free(f);
		return NULL;
	}
	n = (size_t)k;
	snprintf(f->next, sizeof(f->next), "%s", jg_sitelink_name(link));
	f->up =
	    jg_sitelink_request(link, method, protocol, path, h, n, &up_cbs, f, err, sizeof(err));
	if (f->up == NULL) {
		char msg[400];

		snprintf(msg, sizeof(msg), "route to %s: %s", f->next, err);
		fwd_fail(f, 503, "route lost", msg);
		fwd_free(f);
		return NULL;
	}
	jg_log_debug("%s by %s: forwarded to %s as %s %s", f->what, jg_stream_identity(f->s),
		     f->next, method, path);
	return &f->op;
}

static struct jg_forward *fwd_new(struct jg_gateway *gw, struct jg_stream *s)
{
	struct jg_forward *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->req = evbuffer_new()) == NULL || (f->hdrs = evbuffer_new()) == NULL ||
	    (f->partial = evbuffer_new()) == NULL || (f->scratch = evbuffer_new()) == NULL) {
		if (f != NULL)
			fwd_free(f);
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	f->op.cbs = &fwd_cbs;
	f->gw = gw;
	f->s = s;
	return f;
}

/* Split TARGET at its first '/' into SITE (SITELEN bytes). 0 when it has no '/'. */
static size_t site_part(const char *target, char *site, size_t sitelen)
{
	const char *slash = strchr(target, '/');
	size_t n = slash != NULL ? (size_t)(slash - target) : strlen(target);

	if (n >= sitelen)
		n = sitelen - 1;
	memcpy(site, target, n);
	site[n] = '\0';
	return slash != NULL ? n : 0;
}

int jg_forward_site_of(struct jg_gateway *gw, const char *target, char *site, size_t len)
{
	struct jg_sitelink *link;
	char why[400];
	int direct;

	return site_part(target, site, len) > 0 &&
	       jg_routes_lookup(gw, site, &link, &direct, why, sizeof(why)) >= 0;
}

struct jg_op *jg_forward_target(struct jg_gateway *gw, struct jg_stream *s, const char *method,
				const char *protocol, const char *action, const char *target,
				const char *rest, const char *fpath, int *handled)
{
	struct jg_sitelink *link = NULL;
	struct jg_admit_ask ask = {0};
	struct jg_forward *f;
	struct evbuffer *path;
	char site[80], why[400], route_why[400], *qport = NULL;
	const char *query = strchr(rest, '?');
	unsigned port = 0;
	size_t n = site_part(target, site, sizeof(site));
	int direct = 0, r;
	struct jg_op *op;

	*handled = 0;
	r = jg_routes_lookup(gw, site, &link, &direct, route_why, sizeof(route_why));
	if (r < 0)
		return NULL; /* not a site: the target rules apply */
	*handled = 1;
	if (n == 0) {
		snprintf(why, sizeof(why), "%s is a site: name a target there, as in %s/local",
			 site, site);
		jg_stream_reply_error(s, 400, "bad target", why);
		return NULL;
	}
	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		return NULL;
	}
	if (query != NULL && jg_pct_query_param(query + 1, "port", &qport) > 0)
		port = (unsigned)strtoul(qport, NULL, 10);
	free(qport);
	if ((f = fwd_new(gw, s)) == NULL)
		return NULL;
	snprintf(f->what, sizeof(f->what), "%s on %s", action, target);
	/* The far gateway judges where TARGET goes there; here the rules see its name. */
	if ((f->adm = jg_admit_new(gw, s, action, target, JG_ADMIT_REMOTE)) == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		fwd_free(f);
		return NULL;
	}
	ask.path = fpath;
	ask.port = port;
	if (!jg_admit_decide(f->adm, s, &ask)) {
		jg_stream_reply_error(s, 403, "forbidden", f->adm->reason);
		fwd_free(f);
		return NULL;
	}
	f->audit = f->adm->audit;
	if (r == 0) {
		fwd_fail(f, 503, "route lost", route_why);
		fwd_free(f);
		return NULL;
	}
	/* Where it really goes: the site, through the next hop. */
	snprintf(f->audit->next_hop, sizeof(f->audit->next_hop), "%s", jg_sitelink_name(link));
	snprintf(f->audit->dest, sizeof(f->audit->dest), "site %s via %s", site,
		 jg_sitelink_name(link));
	if ((path = evbuffer_new()) == NULL) {
		fwd_fail(f, 500, "internal error", "out of memory");
		fwd_free(f);
		return NULL;
	}
	evbuffer_add_printf(path, "/v1/targets/");
	(void)jg_pct_encode_evbuffer(path, direct ? target + n + 1 : target, ":@");
	evbuffer_add_printf(path, "/%s", rest);
	evbuffer_add(path, "", 1);
	op = fwd_start(f, link, method, protocol[0] != '\0' ? protocol : NULL,
		       (const char *)evbuffer_pullup(path, -1));
	evbuffer_free(path);
	return op;
}

struct jg_op *jg_forward_match(struct jg_gateway *gw, struct jg_stream *s, const char *query,
			       int *handled)
{
	struct jg_sitelink *link = NULL;
	struct jg_forward *f = NULL;
	struct evbuffer *path = NULL;
	char *match = NULL, *save = NULL, *e, site[80], first[80] = "", why[400];
	char *elems[MAX_MATCH];
	size_t nelems = 0, nremote = 0;
	int direct = 0, r = -1, mixed = 0;
	struct jg_op *op = NULL;

	*handled = 0;
	if (jg_pct_query_param(query, "match", &match) <= 0)
		goto out; /* no match, or badly encoded: the local listing says so */
	for (e = strtok_r(match, ",", &save); e != NULL && nelems < MAX_MATCH;
	     e = strtok_r(NULL, ",", &save)) {
		size_t n = site_part(e, site, sizeof(site));
		int remote =
		    n > 0 && jg_routes_lookup(gw, site, &link, &direct, why, sizeof(why)) >= 0;

		elems[nelems++] = e;
		if (!remote)
			continue;
		if (nremote++ == 0)
			snprintf(first, sizeof(first), "%s", site);
		else if (strcmp(first, site) != 0)
			mixed = 1;
	}
	if (nremote == 0)
		goto out; /* all here */
	*handled = 1;
	if (e != NULL) {
		snprintf(why, sizeof(why), "a match for another site lists at most %d elements",
			 MAX_MATCH);
		jg_stream_reply_error(s, 400, "bad target list", why);
		goto out;
	}
	if (mixed || nremote != nelems) {
		snprintf(why, sizeof(why),
			 "a match lists the targets of one place: %s and %s in one list: ask once "
			 "per site",
			 first, mixed ? "another site" : "targets here");
		jg_stream_reply_error(s, 400, "bad target list", why);
		goto out;
	}
	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		goto out;
	}
	r = jg_routes_lookup(gw, first, &link, &direct, why, sizeof(why));
	if ((f = fwd_new(gw, s)) == NULL)
		goto out;
	snprintf(f->what, sizeof(f->what), "target listing at %s", first);
	if (r == 0) {
		fwd_fail(f, 503, "route lost", why);
		goto out;
	}
	if ((path = evbuffer_new()) == NULL || (f->collect = evbuffer_new()) == NULL) {
		fwd_fail(f, 500, "internal error", "out of memory");
		goto out;
	}
	if (direct)
		snprintf(f->prefix, sizeof(f->prefix), "%s/", first);
	evbuffer_add_printf(path, "/v1/targets?match=");
	for (size_t i = 0; i < nelems; i++) {
		if (i > 0)
			evbuffer_add(path, ",", 1);
		(void)jg_pct_encode_evbuffer(path, direct ? elems[i] + strlen(first) + 1 : elems[i],
					     ":@");
	}
	evbuffer_add(path, "", 1);
	op = fwd_start(f, link, "GET", NULL, (const char *)evbuffer_pullup(path, -1));
	f = NULL; /* fwd_start took it */
out:
	if (f != NULL)
		fwd_free(f);
	if (path != NULL)
		evbuffer_free(path);
	free(match);
	return op;
}

const char *jg_sites_trusted_assertion(const struct jg_gateway *gw, const char *identity,
				       const char *asserted)
{
	const struct jg_config *cfg = gw->cfg;

	if (asserted == NULL || asserted[0] == '\0')
		return NULL;
	for (size_t i = 0; i < cfg->nsites; i++)
		if (cfg->sites[i].trust_asserted_identity && cfg->sites[i].identity != NULL &&
		    strcmp(cfg->sites[i].identity, identity) == 0)
			return asserted;
	return NULL;
}
