/* Routes between gateways, wired to the event loop (gateway/sites/sites.h): the
 * sans-I/O table (relay/rtable.c) fed by the links' route streams, the
 * route streams this gateway serves (GET /v1/routes/stream), and the answers
 * to GET /v1/routes.
 *
 * Served: every gateway linked to us subscribes and gets our own name, then
 * our best routes prefixed with our name, then every change as it happens,
 * one JSON object per line (docs/protocol.md §9).  A change is logged here,
 * once, and passed to every subscriber. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "relay/rtable.h"
#include "gateway/sites/sites.h"
#include "relay/err.h"
#include "relay/log.h"

struct subscriber {
	struct jg_op op;
	struct jg_gateway *gw;
	struct jg_stream *s;
	struct subscriber *next, *prev;
};

struct jg_routes {
	struct jg_rtable *table;
	struct subscriber *subs;
};

/* ---------------------------------------------------------------- advertising */

static void sub_send(struct subscriber *sub, const char *line)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add_printf(b, "%s\n", line);
	jg_stream_append(sub->s, b);
	evbuffer_free(b);
}

/* Contract (jg_rtable_change_fn): the table changed; log it once and tell subscribers. */
static void on_change(void *ud, enum jg_rtable_change what, const struct jg_route *r)
{
	struct jg_gateway *gw = ud;
	struct jg_routes *rt = gw->routes;
	char *line;

	switch (what) {
	case JG_RTABLE_UP:
	case JG_RTABLE_MOVED:
		jg_log_info("route to %s: %s via %s (%zu hop%s)", r->site,
			    what == JG_RTABLE_UP ? "up" : "now", r->next_hop, r->npath,
			    r->npath == 1 ? "" : "s");
		break;
	case JG_RTABLE_LOST:
		jg_log_info("route to %s withdrawn: %s", r->site, r->reason);
		break;
	case JG_RTABLE_GONE:
		jg_log_info("site %s: no longer known (%s)", r->site, r->reason);
		return; /* subscribers were told when it was lost */
	}
	if (rt == NULL || rt->subs == NULL)
		return;
	if ((line = jg_rtable_advert(rt->table, r)) == NULL) {
		jg_log_error("route to %s: out of memory telling the subscribers", r->site);
		return;
	}
	for (struct subscriber *sub = rt->subs; sub != NULL; sub = sub->next)
		sub_send(sub, line);
	free(line);
}

/* ---------------------------------------------------------------- the table */

/* Contract (jg_rtable_filter_fn): the configuration of the moment decides; a refusal is
 * logged here, once per advertisement (the table counts it). */
static int may_learn(void *ud, const char *peer, const char *site, char *why, size_t whylen)
{
	struct jg_gateway *gw = ud;

	if (jg_config_site_may_learn(gw->cfg, peer, site, why, whylen))
		return 1;
	jg_log_warn("site %s: its route to %s refused: %s", peer, site, why);
	return 0;
}

int jg_routes_init(struct jg_gateway *gw)
{
	struct jg_routes *rt = calloc(1, sizeof(*rt));

	if (rt == NULL ||
	    (rt->table = jg_rtable_new(gw->cfg->gateway_name, on_change, gw)) == NULL) {
		free(rt);
		return JG_ERR_NOMEM;
	}
	jg_rtable_set_filter(rt->table, may_learn, gw);
	gw->routes = rt;
	return 0;
}

void jg_routes_reconfigure(struct jg_gateway *gw)
{
	if (gw->routes != NULL)
		jg_rtable_set_filter(gw->routes->table, may_learn, gw);
}

uint64_t jg_routes_refused(const struct jg_gateway *gw, const char *site)
{
	return gw->routes != NULL ? jg_rtable_refused(gw->routes->table, site) : 0;
}

int jg_routes_peer(struct jg_gateway *gw, const char *site, size_t rank)
{
	return gw->routes != NULL ? jg_rtable_peer(gw->routes->table, site, rank) : JG_ERR_STATE;
}

void jg_routes_peer_remove(struct jg_gateway *gw, const char *site, const char *reason)
{
	if (gw->routes != NULL)
		jg_rtable_peer_remove(gw->routes->table, site, reason);
}

void jg_routes_link_down(struct jg_gateway *gw, const char *site, const char *reason)
{
	if (gw->routes != NULL)
		jg_rtable_peer_down(gw->routes->table, site, reason);
}

int jg_routes_learn(struct jg_gateway *gw, const char *site, const char *line, size_t len,
		    char *err, size_t errlen)
{
	if (gw->routes == NULL) {
		snprintf(err, errlen, "no route table");
		return JG_ERR_STATE;
	}
	return jg_rtable_learn(gw->routes->table, site, line, len, err, errlen);
}

int jg_routes_lookup(struct jg_gateway *gw, const char *site, struct jg_sitelink **link,
		     int *direct, char *why, size_t whylen)
{
	const struct jg_route *r = NULL;
	int up = gw->routes != NULL ? jg_rtable_lookup(gw->routes->table, site, &r) : -1;

	if (up < 0) {
		if (jg_config_find_site(gw->cfg, site) == NULL)
			return -1;
		/* Configured, known only when it links here (identity, no address). */
		snprintf(why, whylen,
			 "no route to %s (it does not link here, and no peer advertises it)", site);
		return 0;
	}
	if (up == 0) {
		snprintf(why, whylen, "%s", r->reason[0] != '\0' ? r->reason : "no route");
		if (strstr(why, site) == NULL) /* say which site, once */
			snprintf(why, whylen, "no route to %s: %s", site,
				 r->reason[0] != '\0' ? r->reason : "none advertised");
		return 0;
	}
	if ((*link = jg_sitelink_find(gw, r->next_hop)) == NULL) {
		/* The table and the links always agree; say so loudly if they do not. */
		snprintf(why, whylen, "route to %s: no link to its next hop %s", site, r->next_hop);
		jg_log_error("%s", why);
		return 0;
	}
	*direct = r->npath == 1;
	return 1;
}

struct json_ctx {
	struct jg_gateway *gw;
	json_t *arr;
};

static void route_json(void *ud, const struct jg_route *r)
{
	struct json_ctx *c = ud;
	struct jg_sitelink *l = r->next_hop != NULL ? jg_sitelink_find(c->gw, r->next_hop) : NULL;
	double rtt = l != NULL ? jg_sitelink_rtt_ms(l) : -1;
	json_t *o = json_pack("{s:s, s:s, s:I}", "site", r->site, "state",
			      r->next_hop != NULL ? "up" : "lost", "since", (json_int_t)r->since);
	json_t *path = json_array();

	if (o == NULL || path == NULL) {
		json_decref(o);
		json_decref(path);
		return;
	}
	for (size_t i = 0; i < r->npath; i++)
		json_array_append_new(path, json_string(r->path[i]));
	json_object_set_new(o, "next_hop",
			    r->next_hop != NULL ? json_string(r->next_hop) : json_null());
	json_object_set_new(o, "path", path);
	json_object_set_new(o, "rtt_ms",
			    rtt >= 0 ? json_real((double)(long long)(rtt * 1000) / 1000)
				     : json_null());
	if (r->next_hop == NULL)
		json_object_set_new(o, "reason", json_string(r->reason));
	json_array_append_new(c->arr, o);
}

char *jg_routes_json(struct jg_gateway *gw)
{
	struct json_ctx c = {gw, json_array()};
	json_t *root;
	char *text;

	if (c.arr != NULL && gw->routes != NULL)
		jg_rtable_foreach(gw->routes->table, route_json, &c);
	root = json_pack("{s:s, s:o}", "gateway", gw->cfg->gateway_name, "routes", c.arr);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

struct count_ctx {
	size_t *up, *lost;
};

static void route_count(void *ud, const struct jg_route *r)
{
	struct count_ctx *c = ud;

	(*(r->next_hop != NULL ? c->up : c->lost))++;
}

void jg_routes_count(const struct jg_gateway *gw, size_t *up, size_t *lost)
{
	struct count_ctx c = {up, lost};

	*up = *lost = 0;
	if (gw->routes != NULL)
		jg_rtable_foreach(gw->routes->table, route_count, &c);
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
	struct jg_routes *rt = sub->gw->routes;

	if (sub->prev)
		sub->prev->next = sub->next;
	else if (rt != NULL)
		rt->subs = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	jg_log_info("route stream to %s (%s) ended: %s", jg_stream_peer(sub->s),
		    jg_stream_identity(sub->s), why);
	free(sub);
}

static const struct jg_op_cbs sub_cbs = {
    .on_body = sub_body,
    .on_close = sub_close,
};

static void sub_send_route(void *ud, const struct jg_route *r)
{
	struct subscriber *sub = ud;
	char *line;

	if (r->next_hop == NULL)
		return; /* lost: a new subscriber never had it */
	if ((line = jg_rtable_advert(sub->gw->routes->table, r)) != NULL)
		sub_send(sub, line);
	free(line);
}

struct jg_op *jg_routes_serve(struct jg_gateway *gw, struct jg_stream *s)
{
	struct jg_routes *rt = gw->routes;
	struct subscriber *sub;
	char *line;

	if (gw->draining) {
		jg_stream_reply_error(s, 503, "shutting down", "the gateway is shutting down");
		return NULL;
	}
	if (rt == NULL || (sub = calloc(1, sizeof(*sub))) == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
		return NULL;
	}
	sub->op.cbs = &sub_cbs;
	sub->gw = gw;
	sub->s = s;
	if (jg_stream_start(s, 200, "application/x-ndjson") != 0) {
		free(sub);
		return NULL;
	}
	/* Ourselves (a path of one: our name), then every route we have. */
	if ((line = jg_rtable_advert_self(rt->table)) != NULL)
		sub_send(sub, line);
	free(line);
	jg_rtable_foreach(rt->table, sub_send_route, sub);
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
	/* Subscribers belong to their streams, which are gone by now. */
	jg_rtable_free(rt->table);
	free(rt);
	gw->routes = NULL;
}
