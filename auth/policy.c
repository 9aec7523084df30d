/* Policy rules, first match wins, default deny: see policy.h for the contract. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/policy.h"
#include "config/config.h"
#include "relay/pathrule.h"

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

static int is_file_action(const char *action)
{
	return strcmp(action, "put") == 0 || strcmp(action, "get") == 0;
}

/* commands, become and setid (paths apart: see paths_match). */
static int narrowing_matches(const struct jg_policy_rule *r, const struct jg_policy_req *req)
{
	if (r->allow && !r->setid && (req->setid & 07000) != 0 && strcmp(req->action, "put") == 0)
		return 0;
	if (r->ncommands > 0 && strcmp(req->action, "exec") == 0 &&
	    !any_glob(r->commands, r->ncommands, req->argv0))
		return 0;
	for (size_t i = 0; r->nbecome > 0 && i < req->nbecome; i++)
		if (!any_glob(r->become, r->nbecome, req->become[i]))
			return 0;
	return 1;
}

static int paths_match(const struct jg_policy_rule *r, const struct jg_policy_req *req)
{
	int ok = 0;

	if (r->npaths == 0 || !is_file_action(req->action))
		return 1;
	for (size_t i = 0; req->path != NULL && i < r->npaths && !ok; i++)
		ok = jg_path_under(r->paths[i], req->path);
	return ok;
}

/* Every dimension but paths. */
static int rule_applies(const struct jg_config *cfg, const struct jg_policy_rule *r,
			const struct jg_policy_req *req)
{
	const char *identity = req->identity != NULL ? req->identity : "";

	return (r->nidentities == 0 || any_glob(r->identities, r->nidentities, identity)) &&
	       action_matches(r, req->action) && target_matches(cfg, r, req) &&
	       narrowing_matches(r, req);
}

/* Why a put with set-id bits fell through an allow rule that would have granted it. */
static const char setid_hint[] = "; the mode asks for setuid/setgid/sticky bits (0%o), which rule "
				 "\"%s\" does not grant (it needs setid = true)";

int jg_policy_check(const struct jg_config *cfg, const struct jg_policy_req *req, char *reason,
		    size_t len)
{
	const struct jg_policy_rule *skipped = NULL; /* an allow rule but for setid */
	struct jg_policy_req plain = *req;
	char more[300] = "";

	plain.setid = 0;
	for (size_t i = 0; i < cfg->npolicy; i++) {
		const struct jg_policy_rule *r = &cfg->policy[i];

		if (!rule_applies(cfg, r, req) || !paths_match(r, req)) {
			if (skipped == NULL && req->setid != 0 && r->allow &&
			    rule_applies(cfg, r, &plain) && paths_match(r, req))
				skipped = r;
			continue;
		}
		if (!r->allow && skipped != NULL)
			snprintf(more, sizeof(more), setid_hint, req->setid & 07000, skipped->name);
		if (cfg->path == NULL)
			snprintf(reason, len, "%s by rule \"%s\" (built-in)%s",
				 r->allow ? "allowed" : "denied", r->name, more);
		else
			snprintf(reason, len, "%s by rule \"%s\" (%s:%d)%s",
				 r->allow ? "allowed" : "denied", r->name, cfg->path, r->line,
				 more);
		return r->allow != 0;
	}
	if (skipped != NULL)
		snprintf(more, sizeof(more), setid_hint, req->setid & 07000, skipped->name);
	snprintf(reason, len, "no rule matched%s", more);
	return 0;
}

int jg_policy_path_rules(const struct jg_config *cfg, const struct jg_policy_req *req,
			 struct evbuffer *out)
{
	size_t start = evbuffer_get_length(out);
	int r = 0;

	if (!is_file_action(req->action))
		return 0;
	for (size_t i = 0; r == 0 && i < cfg->npolicy; i++) {
		const struct jg_policy_rule *ru = &cfg->policy[i];
		const char *sign = ru->allow ? "+" : "-";

		if (!rule_applies(cfg, ru, req))
			continue;
		if (ru->npaths == 0) {
			/* Every path is decided here: nothing after this rule counts. */
			if (evbuffer_get_length(out) == start && ru->allow)
				return 0; /* unrestricted */
			r = evbuffer_add_printf(out, "%s/", sign) < 0 ||
			    evbuffer_add(out, "", 1) != 0;
			break;
		}
		for (size_t j = 0; r == 0 && j < ru->npaths; j++)
			r = evbuffer_add_printf(out, "%s%s", sign, ru->paths[j]) < 0 ||
			    evbuffer_add(out, "", 1) != 0;
	}
	/* No rule at all (the caller asks only for allowed requests): deny every path. */
	if (r == 0 && evbuffer_get_length(out) == start)
		r = evbuffer_add(out, "-/", 3) != 0;
	if (r != 0) {
		evbuffer_drain(out, evbuffer_get_length(out) - start);
		return -1;
	}
	return 1;
}
