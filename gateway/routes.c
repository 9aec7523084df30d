/* The path-vector route table (gateway/sites.h).
 *
 * Learned: what each link's route stream advertised, one entry per (link,
 * site), each with its path -- the gateway names from the advertiser to the
 * site, the advertiser first.  A path holding our own name is refused (that is
 * the loop prevention); a path that does not start with the link's site name
 * is a protocol error that drops the link.
 *
 * Best: per site, the shortest learned path; on a tie the current next hop
 * stays (no flapping), else the link first in the configuration wins.  A site
 * whose last route went away stays in the table as "lost" with the reason,
 * so that operations on it get 503 with that reason rather than being taken
 * for a host name; sites we link to directly are always in the table.
 *
 * Served: every gateway linked to us subscribes (GET /v1/routes/stream) and
 * gets our own name, then our best routes prefixed with our name, then every
 * change as it happens, one JSON object per line (docs/protocol.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/sites.h"
#include "relay/log.h"

#define MAX_PATH_LEN 32
#define MAX_ROUTES 4096

struct learned {
	struct jg_sitelink *link;
	char *site;
	json_t *path; /* array of strings, path[0] = the link's site */
	struct learned *next;
};

struct best {
	char *site;
	struct jg_sitelink *link; /* next hop; NULL when lost */
	json_t *path;		  /* as learned, or NULL when lost */
	time_t since;
	char reason[300]; /* why it is lost */
	struct best *next;
};

struct subscriber {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *s;
	struct subscriber *next, *prev;
};

struct jg_routes {
	struct learned *learned;
	size_t nlearned;
	struct best *best;
	struct subscriber *subs;
};

static struct jg_routes *routes(struct jg_gateway *gw)
{
	if (gw->routes == NULL)
		gw->routes = calloc(1, sizeof(struct jg_routes));
	return gw->routes;
}

static struct best *best_find(struct jg_routes *rt, const char *site)
{
	for (struct best *b = rt->best; b != NULL; b = b->next)
		if (strcmp(b->site, site) == 0)
			return b;
	return NULL;
}

static struct best *best_add(struct jg_routes *rt, const char *site)
{
	struct best *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->site = strdup(site)) == NULL) {
		free(b);
		return NULL;
	}
	b->since = time(NULL);
	b->next = rt->best;
	rt->best = b;
	return b;
}

/* ---------------------------------------------------------------- advertising */

static void sub_send(struct subscriber *sub, json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT);
	struct evbuffer *b;

	if (text == NULL || (b = evbuffer_new()) == NULL) {
		free(text);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	jg_stream_append(sub->s, b);
	evbuffer_free(b);
	free(text);
}

/* The line advertising B (or its withdrawal) as we pass it on: our name in front. */
static json_t *advert(const struct jg_config *cfg, const struct best *b)
{
	json_t *path;

	if (b->link == NULL)
		return json_pack("{s:s, s:b, s:s}", "site", b->site, "withdrawn", 1, "reason",
				 b->reason);
	path = json_array();
	json_array_append_new(path, json_string(cfg->gateway_name));
	json_array_extend(path, b->path);
	return json_pack("{s:s, s:o}", "site", b->site, "path", path);
}

static void broadcast(struct jg_gateway *gw, const struct best *b)
{
	json_t *line = advert(gw->cfg, b);

	for (struct subscriber *sub = routes(gw)->subs; line != NULL && sub != NULL;
	     sub = sub->next)
		sub_send(sub, line);
	json_decref(line);
}

/* ---------------------------------------------------------------- choosing */

static size_t link_rank(struct jg_gateway *gw, const struct jg_sitelink *l)
{
	for (size_t i = 0; i < gw->cfg->nsites; i++)
		if (strcmp(gw->cfg->sites[i].name, jg_sitelink_name(l)) == 0)
			return i;
	return (size_t)-1;
}

/* Is E better than W as the route to a site whose current next hop is CUR's?  Shorter
 * first; on a tie the current next hop (no flapping), then configuration order. */
static int better(struct jg_gateway *gw, const struct learned *e, const struct learned *w,
		  const struct best *cur)
{
	size_t len = json_array_size(e->path), wlen = json_array_size(w->path);
	int ecur = cur != NULL && cur->link == e->link, wcur = cur != NULL && cur->link == w->link;

	if (len != wlen)
		return len < wlen;
	if (ecur != wcur)
		return ecur;
	return link_rank(gw, e->link) < link_rank(gw, w->link);
}

static const struct learned *choose(struct jg_gateway *gw, const char *site, const struct best *cur)
{
	const struct learned *win = NULL;

	for (const struct learned *e = routes(gw)->learned; e != NULL; e = e->next)
		if (strcmp(e->site, site) == 0 && (win == NULL || better(gw, e, win, cur)))
			win = e;
	return win;
}

/* Bring the best table in line with what is learned; entries that lose their last route
 * become lost with REASON.  Every change goes to the subscribers. */
static void recompute(struct jg_gateway *gw, const char *reason)
{
	struct jg_routes *rt = routes(gw);
	struct best *b;

	/* Every learned site has an entry. */
	for (const struct learned *e = rt->learned; e != NULL; e = e->next)
		if (best_find(rt, e->site) == NULL)
			best_add(rt, e->site);
	for (b = rt->best; b != NULL; b = b->next) {
		const struct learned *w = choose(gw, b->site, b);

		if (w != NULL) {
			if (b->link == w->link && b->path != NULL && json_equal(b->path, w->path))
				continue;
			if (b->link == NULL)
				jg_log_info("route to %s: up via %s (%zu hop%s)", b->site,
					    jg_sitelink_name(w->link), json_array_size(w->path),
					    json_array_size(w->path) == 1 ? "" : "s");
			else
				jg_log_info("route to %s: now via %s (%zu hop%s)", b->site,
					    jg_sitelink_name(w->link), json_array_size(w->path),
					    json_array_size(w->path) == 1 ? "" : "s");
			json_decref(b->path);
			b->path = json_deep_copy(w->path);
			b->link = w->link;
			b->reason[0] = '\0';
			b->since = time(NULL);
			broadcast(gw, b);
		} else if (b->link != NULL) {
			json_decref(b->path);
			b->path = NULL;
			b->link = NULL;
			snprintf(b->reason, sizeof(b->reason), "%s", reason);
			b->since = time(NULL);
			jg_log_info("route to %s withdrawn: %s", b->site, b->reason);
			broadcast(gw, b);
		}
	}
}

/* ---------------------------------------------------------------- learning */

static void learned_free(struct learned *e)
{
	free(e->site);
	json_decref(e->path);
	free(e);
}

/* Remove what L advertised for SITE (every site when SITE is NULL). */
static void forget(struct jg_routes *rt, const struct jg_sitelink *l, const char *site)
{
	struct learned **pp = &rt->learned, *e;

	while ((e = *pp) != NULL) {
		if (e->link == l && (site == NULL || strcmp(e->site, site) == 0)) {
			*pp = e->next;
			rt->nlearned--;
			learned_free(e);
		} else {
			pp = &e->next;
		}
	}
}

void jg_routes_link_down(struct jg_gateway *gw, struct jg_sitelink *l, const char *reason)
{
	struct jg_routes *rt = routes(gw);
	struct best *b;

	if (rt == NULL)
		return;
	forget(rt, l, NULL);
	recompute(gw, reason);
	/* A site we link to directly is known even without a route. */
	if ((b = best_find(rt, jg_sitelink_name(l))) == NULL &&
	    (b = best_add(rt, jg_sitelink_name(l))) != NULL)
		snprintf(b->reason, sizeof(b->reason), "%s", reason);
}

int jg_routes_learn(struct jg_gateway *gw, struct jg_sitelink *l, const char *line, size_t len,
		    char *err, size_t errlen)
{
	struct jg_routes *rt = routes(gw);
	const char *me = gw->cfg->gateway_name, *site = NULL, *reason = "";
	json_error_t je;
	json_t *o, *path = NULL;
	struct learned *e;
	int withdrawn = 0, r = -1;
	char why[300];

	if (rt == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o = json_loadb(line, len, 0, &je);
	if (o == NULL || json_unpack_ex(o, &je, 0, "{s:s, s?o, s?b, s?s}", "site", &site, "path",
					&path, "withdrawn", &withdrawn, "reason", &reason) != 0) {
		snprintf(err, errlen, "route stream from %s: bad line: %s", jg_sitelink_name(l),
			 je.text);
		goto out;
	}
	if (!jg_config_site_name_ok(site)) {
		snprintf(err, errlen, "route stream from %s: bad site name \"%.64s\"",
			 jg_sitelink_name(l), site);
		goto out;
	}
	if (withdrawn) {
		snprintf(why, sizeof(why), "%s", reason[0] ? reason : "withdrawn");
		forget(rt, l, site);
		recompute(gw, why);
		r = 0;
		goto out;
	}
	if (!json_is_array(path) || json_array_size(path) == 0 ||
	    json_array_size(path) > MAX_PATH_LEN) {
		snprintf(err, errlen, "route stream from %s: site %s: path must be 1-%d names",
			 jg_sitelink_name(l), site, MAX_PATH_LEN);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(path); i++) {
		const char *hop = json_string_value(json_array_get(path, i));

		if (hop == NULL || !jg_config_site_name_ok(hop)) {
			snprintf(err, errlen, "route stream from %s: site %s: bad path element %zu",
				 jg_sitelink_name(l), site, i);
			goto out;
		}
	}
	if (strcmp(json_string_value(json_array_get(path, 0)), jg_sitelink_name(l)) != 0) {
		snprintf(err, errlen,
			 "route stream from %s: its path starts with \"%.64s\": the peer at %s "
			 "calls itself that (gateway_name), but our sites entry names it %s",
			 jg_sitelink_name(l), json_string_value(json_array_get(path, 0)),
			 jg_sitelink_name(l), jg_sitelink_name(l));
		goto out;
	}
	if (strcmp(json_string_value(json_array_get(path, json_array_size(path) - 1)), site) != 0) {
		snprintf(err, errlen, "route stream from %s: the path to %s ends elsewhere",
			 jg_sitelink_name(l), site);
		goto out;
	}
	r = 0;
	forget(rt, l, site);
	for (size_t i = 0; i < json_array_size(path); i++) {
		if (strcmp(json_string_value(json_array_get(path, i)), me) == 0) {
			/* Through us: a loop.  Whatever it replaced is gone. */
			jg_log_debug("route to %s from %s refused: the path passes through us",
				     site, jg_sitelink_name(l));
			snprintf(why, sizeof(why), "%s now reaches %s only through us",
				 jg_sitelink_name(l), site);
			recompute(gw, why);
			goto out;
		}
	}
	if (rt->nlearned >= MAX_ROUTES) {
		jg_log_warn("route to %s from %s ignored: over %d routes", site,
			    jg_sitelink_name(l), MAX_ROUTES);
		goto out;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->site = strdup(site)) == NULL) {
		free(e);
		goto out;
	}
	e->link = l;
	e->path = json_incref(path);
	e->next = rt->learned;
	rt->learned = e;
	rt->nlearned++;
	recompute(gw, "withdrawn");
out:
	json_decref(o);
	return r;
}

/* ---------------------------------------------------------------- using */

int jg_routes_lookup(struct jg_gateway *gw, const char *site, struct jg_sitelink **link,
		     int *direct, char *why, size_t whylen)
{
	struct jg_routes *rt = routes(gw);
	struct best *b = rt != NULL ? best_find(rt, site) : NULL;
	struct jg_sitelink *l;

	if (b == NULL) {
		if ((l = jg_sitelink_find(gw, site)) == NULL &&
		    jg_config_find_site(gw->cfg, site) == NULL)
			return -1;
		/* Configured, no route yet (or one it only ever connects to us from). */
		snprintf(why, whylen, "no route to %s%s%s", site, l != NULL ? ": " : "",
			 l != NULL ? jg_sitelink_error(l)
				   : " (it does not link here, and no peer "
				     "advertises it)");
		return 0;
	}
	if (b->link == NULL) {
		if (b->reason[0] != '\0')
			snprintf(why, whylen, "%s", b->reason);
		else
			snprintf(why, whylen, "no route to %s", site);
		return 0;
	}
	*link = b->link;
	*direct = json_array_size(b->path) == 1;
	return 1;
}

char *jg_routes_json(struct jg_gateway *gw)
{
	struct jg_routes *rt = routes(gw);
	json_t *arr = json_array(), *root;
	char *text;

	for (struct best *b = rt != NULL ? rt->best : NULL; b != NULL; b = b->next) {
		double rtt = b->link != NULL ? jg_sitelink_rtt_ms(b->link) : -1;
		json_t *o =
		    json_pack("{s:s, s:s, s:I}", "site", b->site, "state",
			      b->link != NULL ? "up" : "lost", "since", (json_int_t)b->since);

		if (o == NULL)
			continue;
		json_object_set_new(o, "next_hop",
				    b->link ? json_string(jg_sitelink_name(b->link)) : json_null());
		json_object_set_new(o, "path", b->path ? json_deep_copy(b->path) : json_array());
		json_object_set_new(o, "rtt_ms",
				    rtt >= 0 ? json_real((double)(long long)(rtt * 1000) / 1000)
					     : json_null());
		if (b->link == NULL)
			json_object_set_new(o, "reason", json_string(b->reason));
		json_array_append_new(arr, o);
	}
	root = json_pack("{s:s, s:o}", "gateway", gw->cfg->gateway_name, "routes", arr);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

/* ---------------------------------------------------------------- serving */

static struct subscriber *op_sub(struct jg_op *op)
{
	return (struct subscriber *)op;
}

static void sub_body(struct jg_op *op, const uint8_t *data, size_t len)
{
	jg_stream_consume(op_sub(op)->s, len);
}

static void sub_close(struct jg_op *op, const char *why)
{
	struct subscriber *sub = op_sub(op);
	struct jg_routes *rt = routes(sub->gw);

	if (sub->prev)
		sub->prev->next = sub->next;
	else
		rt->subs = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	jg_log_info("route stream to %s (%s) ended: %s", jg_stream_peer(sub->s),
		    jg_stream_identity(sub->s), why);
	free(sub);
}

static const struct jg_op_hooks sub_hooks = {
    .on_body = sub_body,
    .on_close = sub_close,
};

struct jg_op *jg_routes_serve(struct jg_gateway *gw, struct jg_stream *s)
{
	struct jg_routes *rt = routes(gw);
	struct subscriber *sub;
	json_t *line;

	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		return NULL;
	}
	if (rt == NULL || (sub = calloc(1, sizeof(*sub))) == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	sub->op.hooks = &sub_hooks;
	sub->gw = gw;
	sub->s = s;
	if (jg_stream_start(s, 200, "application/x-ndjson") != 0) {
		free(sub);
		return NULL;
	}
	/* Ourselves (a path of one: our name), then every route we have. */
	line =
	    json_pack("{s:s, s:[s]}", "site", gw->cfg->gateway_name, "path", gw->cfg->gateway_name);
	if (line != NULL)
		sub_send(sub, line);
	json_decref(line);
	for (struct best *b = rt->best; b != NULL; b = b->next) {
		if (b->link == NULL)
			continue;
		line = advert(gw->cfg, b);
		if (line != NULL)
			sub_send(sub, line);
		json_decref(line);
	}
	sub->next = rt->subs;
	if (rt->subs)
		rt->subs->prev = sub;
	rt->subs = sub;
	jg_log_info("route stream to %s (%s) started", jg_stream_peer(s), jg_stream_identity(s));
	return &sub->op;
}

void jg_routes_drain(struct jg_gateway *gw)
{
	struct jg_routes *rt = gw->routes;

	for (struct subscriber *sub = rt != NULL ? rt->subs : NULL; sub != NULL; sub = sub->next)
		jg_stream_finish(sub->s);
}

void jg_routes_free(struct jg_gateway *gw)
{
	struct jg_routes *rt = gw->routes;

	if (rt == NULL)
		return;
	while (rt->learned != NULL) {
		struct learned *e = rt->learned;

		rt->learned = e->next;
		learned_free(e);
	}
	while (rt->best != NULL) {
		struct best *b = rt->best;

		rt->best = b->next;
		json_decref(b->path);
		free(b->site);
		free(b);
	}
	/* Subscribers belong to their streams, which are gone by now. */
	free(rt);
	gw->routes = NULL;
}
