/* The part of a fan-out upload that goes to another site (gateway/sites/sites.h):
 * one PUT /v1/files/{path}?targets=... stream on the link to the route's
 * next hop, carrying that site's targets, so the bytes cross each link once
 * and fan out at the far gateway.  fanout.c drives it as it drives a PUT
 * channel (jg_fput): window, send, EOF, done.
 *
 * Flow control: at most one stream window of body (`cap`) waits in `buf` for
 * the link stream's HTTP/2 window; the owner is told (on_writable) as the
 * link takes bytes, so the slowest of all the fan-out's targets -- here or
 * there -- sets the pace, and nothing is spooled.
 *
 * The answer (a JSON array, one object per target, bounded) is collected and
 * its targets named as here (the site prefix put back when the next hop is
 * the site).  Any other outcome -- a status other than 200, the route lost,
 * the stream reset -- becomes one failure per target the client named, with
 * the reason.  on_writable and on_done run from the event loop, never from
 * inside the link's nghttp2 callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <nghttp2/nghttp2.h>

#include "auth/audit.h"
#include "gateway/admitted.h"
#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/pct.h"

#define MAX_ANSWER (8u << 20)
#define MAX_HEADERS 16

struct jg_fwput {
	struct jg_gateway *gw;
	const struct jg_fwput_cbs *cbs;
	void *owner;
	struct jg_sitelink_stream *up; /* NULL once the link stream is gone */
	char site[64];
	char prefix[80];       /* "site-c/" to put back in the answer, or "" */
	char **targets;	       /* as the client named them (site prefix included) */
	struct jg_admit **adm; /* one per target, each with its open record */
	size_t n;
	struct evbuffer *buf; /* body waiting for the link stream's window */
	size_t cap;
	int eof;    /* the owner's last byte is in buf */
	int status; /* the far side's :status */
	struct evbuffer *answer;
	int done;
	int failed_status;
	char error[64], reason[400];
	struct event *writable_ev, *done_ev;
};

static void end_audits(struct jg_fwput *p, const char *outcome, const char *reason)
{
	for (size_t i = 0; i < p->n; i++) {
		jg_admit_close(p->adm[i], outcome, reason);
		p->adm[i] = NULL;
	}
}

/* Finished with FAILED_STATUS (0: the answer came) and the reason.  ANNOUNCE: tell the
 * owner (from the loop); not for a failure at start, which the owner sees itself. */
static void finish(struct jg_fwput *p, int failed_status, const char *error, const char *reason,
		   int announce)
{
	if (p->done)
		return;
	p->done = 1;
	p->failed_status = failed_status;
	snprintf(p->error, sizeof(p->error), "%s", error);
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	if (failed_status != 0)
		jg_log_info("fan-out to %zu target(s) at %s failed: %s", p->n, p->site, reason);
	end_audits(p, failed_status == 0 && p->status == 200 ? "ok" : "failed", reason);
	if (p->buf != NULL)
		evbuffer_drain(p->buf, evbuffer_get_length(p->buf));
	if (announce && p->done_ev != NULL)
		event_active(p->done_ev, EV_TIMEOUT, 0);
}

/* ---------------------------------------------------------------- link side */

static void up_header(void *ud, const char *name, const char *value)
{
	struct jg_fwput *p = ud;

	if (strcmp(name, ":status") == 0)
		p->status = atoi(value);
}

static void up_headers_end(void *ud)
{
	struct jg_fwput *p = ud;

	if (p->status >= 100 && p->status < 200) /* interim: the real answer follows */
		p->status = 0;
}

static void up_data(void *ud, const uint8_t *data, size_t len)
{
	struct jg_fwput *p = ud;

	jg_sitelink_stream_consume(p->up, len);
	if (p->done)
		return;
	if (evbuffer_get_length(p->answer) + len > MAX_ANSWER) {
		jg_sitelink_stream_cancel(p->up);
		p->up = NULL;
		finish(p, 502, "bad gateway", "the far site's fan-out answer is too large", 1);
		return;
	}
	evbuffer_add(p->answer, data, len);
}

static void up_end(void *ud)
{
	struct jg_fwput *p = ud;
	char why[400];

	if (p->status == 200) {
		finish(p, 0, "", "", 1);
		return;
	}
	/* An error object {"error":...,"reason":...} from the far side: its words. */
	{
		json_t *o = json_loadb((const char *)evbuffer_pullup(p->answer, -1),
				       evbuffer_get_length(p->answer), 0, NULL);
		const char *error = json_string_value(json_object_get(o, "error"));
		const char *reason = json_string_value(json_object_get(o, "reason"));

		snprintf(why, sizeof(why), "%s answered %d%s%s", p->site, p->status,
			 reason != NULL ? ": " : "", reason != NULL ? reason : "");
		finish(p, p->status > 0 ? p->status : 502, error != NULL ? error : "bad gateway",
		       why, 1);
		json_decref(o);
	}
}

static ssize_t up_body(void *ud, uint8_t *out, size_t len, int *eof)
{
	struct jg_fwput *p = ud;
	int n = evbuffer_remove(p->buf, out, len);

	if (n > 0) {
		event_active(p->writable_ev, EV_TIMEOUT, 0);
		return n;
	}
	if (p->eof) {
		*eof = 1;
		return 0;
	}
	return JG_ERR_AGAIN;
}

static void up_close(void *ud, uint32_t h2_error, const char *lost)
{
	struct jg_fwput *p = ud;
	char why[400];

	p->up = NULL;
	if (p->done)
		return;
	if (lost != NULL) {
		finish(p, 503, "route lost", lost, 1);
		return;
	}
	if (h2_error != 0)
		snprintf(why, sizeof(why), "%s reset the stream (%s)", p->site,
			 nghttp2_http2_strerror(h2_error));
	else
		snprintf(why, sizeof(why), "%s ended the stream without an answer", p->site);
	finish(p, 502, "bad gateway", why, 1);
}

static const struct jg_sitelink_stream_cbs up_cbs = {
    .on_header = up_header,
    .on_headers_end = up_headers_end,
    .on_data = up_data,
    .on_end = up_end,
    .body = up_body,
    .on_close = up_close,
};

static void on_writable_ev(evutil_socket_t fd, short what, void *arg)
{
	struct jg_fwput *p = arg;

	if (!p->done && p->cbs->on_writable != NULL)
		p->cbs->on_writable(p->owner, p);
}

static void on_done_ev(evutil_socket_t fd, short what, void *arg)
{
	struct jg_fwput *p = arg;

	p->cbs->on_done(p->owner, p);
}

/* ---------------------------------------------------------------- the owner's side */

struct jg_fwput *jg_fwput_start(struct jg_gateway *gw, struct jg_stream *s, const char *site,
				char *const *targets, struct jg_admit **adm, size_t n,
				const char *fpath, const struct jg_fwput_cbs *cbs, void *owner)
{
	struct jg_fwput *p = calloc(1, sizeof(*p));
	struct jg_sitelink *link = NULL;
	struct evbuffer *path = NULL;
	const char *h[MAX_HEADERS + 2][2];
	char why[400], err[300];
	size_t plen = strlen(site) + 1;
	int direct = 0, r, k;

	if (p == NULL || (p->adm = calloc(n, sizeof(*p->adm))) == NULL) {
		for (size_t i = 0; i < n; i++) /* ours either way */
			jg_admit_close(adm[i], "failed", "out of memory");
		free(p);
		return NULL;
	}
	p->gw = gw;
	p->cbs = cbs;
	p->owner = owner;
	p->cap = gw->cfg->stream_window;
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		p->adm[i] = adm[i];
		adm[i] = NULL;
	}
	snprintf(p->site, sizeof(p->site), "%s", site);
	if ((p->targets = calloc(n, sizeof(*p->targets))) == NULL ||
	    (p->buf = evbuffer_new()) == NULL || (p->answer = evbuffer_new()) == NULL ||
	    (path = evbuffer_new()) == NULL ||
	    (p->writable_ev = event_new(gw->base, -1, 0, on_writable_ev, p)) == NULL ||
	    (p->done_ev = event_new(gw->base, -1, 0, on_done_ev, p)) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if ((p->targets[i] = strdup(targets[i])) == NULL)
			goto nomem;
	r = jg_routes_lookup(gw, site, &link, &direct, why, sizeof(why));
	if (r <= 0) {
		finish(p, 503, "route lost", r < 0 ? "no such site" : why, 0);
		goto out;
	}
	if (direct)
		snprintf(p->prefix, sizeof(p->prefix), "%s/", site);
	evbuffer_add_printf(path, "/v1/files");
	(void)jg_pct_encode_evbuffer(path, fpath, "/");
	evbuffer_add_printf(path, "?targets=");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			evbuffer_add(path, ",", 1);
		(void)jg_pct_encode_evbuffer(path, direct ? targets[i] + plen : targets[i], ":@");
	}
	evbuffer_add(path, "", 1);
	if ((k = jg_forward_headers(s, h, MAX_HEADERS + 2)) < 0) {
		finish(p, 431, "request header fields too large",
		       "more request headers than a forwarded request may carry (16)", 0);
		goto out;
	}
	p->up = jg_sitelink_request(link, "PUT", NULL, (const char *)evbuffer_pullup(path, -1), h,
				    (size_t)k, &up_cbs, p, err, sizeof(err));
	if (p->up == NULL) {
		snprintf(why, sizeof(why), "route to %s: %s", jg_sitelink_name(link), err);
		finish(p, 503, "route lost", why, 0);
		goto out;
	}
	jg_log_debug("%s: fan-out of %s to %zu target(s) at %s forwarded to %s", __func__, fpath, n,
		     site, jg_sitelink_name(link));
	goto out;
nomem:
	jg_fwput_free(p);
	p = NULL;
out:
	if (path != NULL)
		evbuffer_free(path);
	return p;
}

size_t jg_fwput_window(const struct jg_fwput *p)
{
	size_t have = evbuffer_get_length(p->buf);

	return p->done || p->eof || have >= p->cap ? 0 : p->cap - have;
}

size_t jg_fwput_send(struct jg_fwput *p, const void *data, size_t len)
{
	size_t win = jg_fwput_window(p), n = len < win ? len : win;

	if (n == 0 || evbuffer_add(p->buf, data, n) != 0)
		return 0;
	if (p->up != NULL)
		jg_sitelink_stream_resume(p->up);
	return n;
}

void jg_fwput_eof(struct jg_fwput *p)
{
	if (p->done || p->eof)
		return;
	p->eof = 1;
	if (p->up != NULL)
		jg_sitelink_stream_resume(p->up);
}

int jg_fwput_done(const struct jg_fwput *p)
{
	return p->done;
}

const char *jg_fwput_site(const struct jg_fwput *p)
{
	return p->site;
}

/* One failure object per target the client named. */
static size_t fail_all(const struct jg_fwput *p, json_t *arr)
{
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(arr,
				      json_pack("{s:s, s:b, s:i, s:s, s:s}", "target",
						p->targets[i], "ok", 0, "status", p->failed_status,
						"error", p->error, "reason", p->reason));
	return p->n;
}

size_t jg_fwput_results(const struct jg_fwput *p, void *json_array)
{
	json_t *arr = json_array, *got, *o;
	size_t i, failed = 0;

	if (!p->done || p->failed_status != 0)
		return fail_all(p, arr);
	got = json_loadb((const char *)evbuffer_pullup(p->answer, -1),
			 evbuffer_get_length(p->answer), 0, NULL);
	if (!json_is_array(got)) {
		struct jg_fwput bad = *p;

		json_decref(got);
		bad.failed_status = 502;
		snprintf(bad.error, sizeof(bad.error), "bad gateway");
		snprintf(bad.reason, sizeof(bad.reason), "%s answered 200 without a JSON array",
			 p->site);
		return fail_all(&bad, arr);
	}
	json_array_foreach(got, i, o)
	{
		const char *t = json_string_value(json_object_get(o, "target"));
		char full[600];

		if (!json_is_object(o))
			continue;
		if (t != NULL && p->prefix[0] != '\0') {
			snprintf(full, sizeof(full), "%s%s", p->prefix, t);
			json_object_set_new(o, "target", json_string(full));
		}
		failed += !json_is_true(json_object_get(o, "ok"));
		json_array_append(arr, o);
	}
	json_decref(got);
	return failed;
}

void jg_fwput_abort(struct jg_fwput *p)
{
	if (p->up != NULL) {
		jg_sitelink_stream_cancel(p->up);
		p->up = NULL;
	}
	if (!p->done)
		finish(p, 500, "internal error", "the upload was abandoned", 0);
}

void jg_fwput_free(struct jg_fwput *p)
{
	if (p == NULL)
		return;
	jg_fwput_abort(p);
	end_audits(p, "failed", "the upload was abandoned");
	for (size_t i = 0; p->targets != NULL && i < p->n; i++)
		free(p->targets[i]);
	free(p->targets);
	free(p->adm);
	if (p->buf != NULL)
		evbuffer_free(p->buf);
	if (p->answer != NULL)
		evbuffer_free(p->answer);
	if (p->writable_ev != NULL)
		event_free(p->writable_ev);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	free(p);
}
