/* Target lists: the `targets=` of a fan-out, the `match=` of GET /v1/targets,
 * and whatever else names many targets at once (`jumpgate run`), all through
 * jg_targets_expand().
 *
 * A list is comma-separated; each element is
 *   - an inventory group (config `groups`): its members, each an inventory name
 *     or a glob over inventory names;
 *   - a glob ('*', '?', '[...]', fnmatch(3)) over inventory names;
 *   - anything else, passed on as written: an inventory name or a target spec,
 *     resolved (and refused when bad) by whoever uses it, target by target.
 * The result keeps the order of first appearance with duplicates removed, so
 * "web1,web*" writes to web1 once.  Globs see inventory names only, never
 * group names: groups do not nest. */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/policy.h"
#include "config/config.h"
#include "config/target.h"
#include "gateway/ops/files.h"
#include "gateway/gateway.h"
#include "gateway/stream.h"
#include "gateway/ops/ops.h"
#include "relay/argv.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/pct.h"

/* Bound on one expansion: a fan-out opens one channel per name. */
#define EXPAND_MAX 4096

/* Append a copy of NAME unless it is there already. */
static int names_add(struct jg_argv *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == len && strncmp(l->v[i], name, len) == 0)
			return 0;
	if (l->n == EXPAND_MAX)
		return JG_ERR_TOOBIG;
	jg_argv_pushn(l, name, len);
	return l->nomem ? JG_ERR_NOMEM : 0;
}

static int is_glob(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return 1;
	return 0;
}

/* Every inventory name GLOB matches; *MATCHED counts them. */
static int add_glob(const struct jg_config *cfg, const char *glob, struct jg_argv *l,
		    size_t *matched)
{
	int r;

	*matched = 0;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const char *name = cfg->targets[i].name;

		if (fnmatch(glob, name, 0) != 0)
			continue;
		(*matched)++;
		if ((r = names_add(l, name, strlen(name))) != 0)
			return r;
	}
	return 0;
}

static int add_element(const struct jg_config *cfg, const char *e, size_t len, int allow_empty,
		       struct jg_argv *l, char *err, size_t errlen)
{
	const struct jg_group *g;
	char elem[256];
	size_t matched;
	int r;

	if (len >= sizeof(elem)) {
		snprintf(err, errlen, "target list element \"%.40s...\" is too long", e);
		return JG_ERR_INVAL;
	}
	memcpy(elem, e, len);
	elem[len] = '\0';
	if ((g = jg_config_find_group(cfg, elem)) != NULL) {
		for (size_t i = 0; i < g->nmembers; i++) {
			const char *m = g->members[i];

			r = is_glob(m, strlen(m)) ? add_glob(cfg, m, l, &matched)
						  : names_add(l, m, strlen(m));
			if (r != 0)
				goto fail;
		}
		return 0;
	}
	if (!is_glob(elem, len)) {
		if ((r = names_add(l, elem, len)) != 0)
			goto fail;
		return 0;
	}
	if ((r = add_glob(cfg, elem, l, &matched)) != 0)
		goto fail;
	if (matched == 0 && !allow_empty) {
		snprintf(err, errlen, "\"%s\" matches no inventory target", elem);
		return JG_ERR_NOTFOUND;
	}
	return 0;
fail:
	if (r == JG_ERR_TOOBIG)
		snprintf(err, errlen, "the target list expands to more than %d targets",
			 EXPAND_MAX);
	else
		snprintf(err, errlen, "out of memory expanding the target list");
	return r;
}

/* The whole list; ALLOW_EMPTY: a glob matching nothing and an empty result are fine (a
 * listing), else errors (an operation must have somewhere to go). */
static int expand(const struct jg_config *cfg, const char *pattern, int allow_empty,
		  struct jg_argv *l, char *err, size_t errlen)
{
	const char *p = pattern;
	int r;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *e = p;

		/* Spaces around elements are forgiven ("web1, web2"). */
		while (len > 0 && *e == ' ') {
			e++;
			len--;
		}
		while (len > 0 && e[len - 1] == ' ')
			len--;
		if (len == 0) {
			snprintf(err, errlen, "empty element in the target list \"%.200s\"",
				 pattern);
			return JG_ERR_INVAL;
		}
		if ((r = add_element(cfg, e, len, allow_empty, l, err, errlen)) != 0)
			return r;
		p = e + len;
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		p++; /* the comma */
	}
	if (l->n == 0 && !allow_empty) {
		snprintf(err, errlen, "\"%.200s\" names no target (an empty group?)", pattern);
		return JG_ERR_NOTFOUND;
	}
	return 0;
}

int jg_targets_expand(const struct jg_config *cfg, const char *pattern, char ***names, size_t *n,
		      char *err, size_t errlen)
{
	struct jg_argv l = {0};
	int r;

	*names = NULL;
	*n = 0;
	if ((r = expand(cfg, pattern, 0, &l, err, errlen)) != 0) {
		jg_argv_clear(&l);
		return r;
	}
	*n = l.n;
	*names = jg_argv_take(&l);
	return 0;
}

static void reply_json(struct jg_stream *s, json_t *v)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	if (text == NULL) {
		jg_stream_reply_error(s, 500, "internal error", "out of memory");
	} else {
		size_t len = strlen(text);

		text[len] = '\n'; /* json_dumps' NUL becomes the newline curl users expect */
		jg_stream_reply(s, 200, "application/json", text, len + 1);
	}
	free(text);
	json_decref(v);
}

/* What the stream's identity may do on CHAIN (resolved from T): the actions policy grants,
 * "exec" for all commands, "exec:some" when only some commands or paths are granted
 * (auth/policy.h, jg_policy_may). */
static json_t *actions_of(struct jg_gateway *gw, struct jg_stream *s, const struct jg_target *t,
			  const struct jg_chain *chain)
{
	static const char *const actions[] = {"exec", "put", "get", "tunnel", "reset"};
	const char *become[JG_CHAIN_MAX_HOPS];
	struct jg_policy_req req = {
	    .identity = jg_stream_identity(s),
	    .via = jg_stream_via(s),
	    .target = t->name,
	    .key = chain != NULL ? chain->key : t->name,
	    .canon = chain != NULL ? chain->canon : NULL,
	    .become = become,
	};
	json_t *a = json_array();

	if (chain != NULL)
		req.nbecome = jg_chain_become(chain, become, JG_CHAIN_MAX_HOPS);
	for (size_t i = 0; a != NULL && i < sizeof(actions) / sizeof(actions[0]); i++) {
		char word[32];
		int may;

		req.action = actions[i];
		if ((may = jg_policy_may(gw->cfg, &req)) == JG_POLICY_MAY_NOT)
			continue;
		snprintf(word, sizeof(word), "%s%s", actions[i],
			 may == JG_POLICY_MAY_SOME ? ":some" : "");
		json_array_append_new(a, json_string(word));
	}
	return a;
}

/* One inventory entry: name, method, display (from the resolver, as every log line shows
 * it), the groups naming it, and what the caller may do there. */
static json_t *target_object(struct jg_gateway *gw, struct jg_stream *s, const struct jg_target *t)
{
	const struct jg_config *cfg = gw->cfg;
	struct jg_chain *chain = NULL;
	char why[400];
	json_t *o, *groups = json_array();

	for (size_t i = 0; groups != NULL && i < cfg->ngroups; i++) {
		const struct jg_group *g = &cfg->groups[i];

		for (size_t j = 0; j < g->nmembers; j++) {
			if (fnmatch(g->members[j], t->name, 0) == 0) {
				json_array_append_new(groups, json_string(g->name));
				break;
			}
		}
	}
	if (jg_target_resolve(cfg, t->name, &chain, why, sizeof(why)) != 0)
		chain = NULL;
	o = json_pack("{s:s, s:s, s:s, s:o*, s:o*}", "name", t->name, "method",
		      jg_method_name(t->hop.method), "display",
		      chain != NULL ? chain->display : t->name, "groups", groups, "actions",
		      actions_of(gw, s, t, chain));
	jg_chain_free(chain);
	return o;
}

void jg_targets_list_mine(struct jg_gateway *gw, struct jg_stream *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < gw->cfg->ntargets; i++) {
		json_t *o = target_object(gw, s, &gw->cfg->targets[i]);

		if (json_array_size(json_object_get(o, "actions")) > 0)
			json_array_append(a, o);
		json_decref(o);
	}
	reply_json(s, a);
}

void jg_targets_list(struct jg_gateway *gw, struct jg_stream *s, const char *query)
{
	const struct jg_config *cfg = gw->cfg;
	struct jg_argv l = {0};
	char *match = NULL, err[400];
	json_t *a = json_array();
	int r;

	r = jg_pct_query_param(query, "match", &match);
	if (r < 0) {
		jg_stream_reply_error(s, 400, "bad request",
				      "the match parameter is badly encoded");
		goto out;
	}
	if (r == 0) {
		for (size_t i = 0; a != NULL && i < cfg->ntargets; i++)
			json_array_append_new(a, target_object(gw, s, &cfg->targets[i]));
		reply_json(s, a);
		a = NULL;
		goto out;
	}
	if ((r = expand(cfg, match, 1, &l, err, sizeof(err))) != 0) {
		jg_stream_reply_error(s, r == JG_ERR_NOMEM ? 500 : 400, "bad target list", err);
		goto out;
	}
	for (size_t i = 0; a != NULL && i < l.n; i++)
		json_array_append_new(a, json_string(l.v[i]));
	reply_json(s, a);
	a = NULL;
out:
	json_decref(a);
	jg_argv_clear(&l);
	free(match);
}
