/* Policy rules, first match wins, default deny: see policy.h for the contract. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "auth/policy.h"
#include "config/config.h"

static int any_glob(char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return 1;
	return 0;
}

/* Is inventory target NAME a member of group GROUP?  Members are names or globs,
 * expanded against the inventory as gateway/targets.c does. */
static int in_group(const struct jg_config *cfg, const char *group, const char *name)
{
	const struct jg_group *g = jg_config_find_group(cfg, group);

	if (g == NULL || name == NULL || jg_config_find_target(cfg, name) == NULL)
		return 0;
	return any_glob(g->members, g->nmembers, name);
}

static int target_matches(const struct jg_config *cfg, const struct jg_policy_rule *r,
			  const struct jg_policy_req *req)
{
	if (r->ntargets == 0 || req->target == NULL)
		return 1;
	for (size_t i = 0; i < r->ntargets; i++) {
		const char *t = r->targets[i];

		if (strncmp(t, "group:", 6) == 0) {
			if (in_group(cfg, t + 6, req->target))
				return 1;
		} else if (fnmatch(t, req->target, 0) == 0 ||
			   (req->key != NULL && fnmatch(t, req->key, 0) == 0)) {
			return 1;
		}
	}
	return 0;
}

static int action_matches(const struct jg_policy_rule *r, const char *action)
{
	if (r->nactions == 0)
		return 1;
	for (size_t i = 0; i < r->nactions; i++)
		if (strcmp(r->actions[i], "*") == 0 || strcmp(r->actions[i], action) == 0)
			return 1;
	return 0;
}

/* PATH under PREFIX on a component boundary: "/srv/" and "/srv" both cover "/srv" and
 * "/srv/a", neither covers "/srvx".  Paths are normalised (no "..") before they get here. */
static int under_prefix(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (strncmp(prefix, path, n) != 0)
		return 0;
	return n == 1 || path[n] == '\0' || path[n] == '/';
}

static int narrowing_matches(const struct jg_policy_rule *r, const struct jg_policy_req *req)
{
	int ok = 0;

	if (r->ncommands > 0 && strcmp(req->action, "exec") == 0 &&
	    !any_glob(r->commands, r->ncommands, req->argv0))
		return 0;
	for (size_t i = 0; r->nbecome > 0 && i < req->nbecome; i++)
		if (!any_glob(r->become, r->nbecome, req->become[i]))
			return 0;
	if (r->npaths > 0 && (strcmp(req->action, "put") == 0 || strcmp(req->action, "get") == 0)) {
		for (size_t i = 0; req->path != NULL && i < r->npaths && !ok; i++)
			ok = under_prefix(r->paths[i], req->path);
		return ok;
	}
	return 1;
}

int jg_policy_check(const struct jg_config *cfg, const struct jg_policy_req *req, char *reason,
		    size_t len)
{
	const char *identity = req->identity != NULL ? req->identity : "";

	for (size_t i = 0; i < cfg->npolicy; i++) {
		const struct jg_policy_rule *r = &cfg->policy[i];

		if (r->nidentities > 0 && !any_glob(r->identities, r->nidentities, identity))
			continue;
		if (!action_matches(r, req->action) || !target_matches(cfg, r, req) ||
		    !narrowing_matches(r, req))
			continue;
		if (cfg->path == NULL)
			snprintf(reason, len, "%s by rule \"%s\" (built-in)",
				 r->allow ? "allowed" : "denied", r->name);
		else
			snprintf(reason, len, "%s by rule \"%s\" (%s:%d)",
				 r->allow ? "allowed" : "denied", r->name, cfg->path, r->line);
		return r->allow != 0;
	}
	snprintf(reason, len, "no rule matched");
	return 0;
}
