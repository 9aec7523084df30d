/* Policy rules, first match wins, default deny: see policy.h for the contract. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/policy.h"
#include "config/config.h"
#include "config/target.h"
#include "relay/pathrule.h"

static int any_glob(char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return 1;
	return 0;
}

/* Is inventory target NAME a member of group GROUP?  Members are names or globs,
 * expanded against the inventory as gateway/ops/targets.c does. */
static int in_group(const struct jg_config *cfg, const char *group, const char *name)
{
	const struct jg_group *g = jg_config_find_group(cfg, group);

	if (g == NULL || name == NULL || jg_config_find_target(cfg, name) == NULL)
		return 0;
	return any_glob(g->members, g->nmembers, name);
}

/* Glob T over S, and when PREFIXES over each leading part of S that ends at a hop
 * boundary ('/'): "t3" matches "t3/sudo:root" that way. */
static int glob_hits(const char *t, const char *s, int prefixes)
{
	char buf[JG_CHAIN_MAX_HOPS * JG_HOP_CANON_MAX];
	const char *slash;

	if (s == NULL)
		return 0;
	if (fnmatch(t, s, 0) == 0)
		return 1;
	for (slash = strchr(s, '/'); prefixes && slash != NULL; slash = strchr(slash + 1, '/')) {
		size_t n = (size_t)(slash - s);

		if (n >= sizeof(buf))
			break;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (fnmatch(t, buf, 0) == 0)
			return 1;
	}
	return 0;
}

/* CANON without its leading "local/" hops: the bastion sees the network the gateway sees,
 * so "local/ssh:root@h:22" goes where "ssh:root@h:22" goes. */
static const char *past_local(const char *canon)
{
	while (canon != NULL && strncmp(canon, "local/", 6) == 0)
		canon += 6;
	return canon;
}

/* The address the request's chain connects to first, from its canonical form: the first
 * hop after any "local" ones (the bastion sees the network the gateway sees), when that
 * is "ssh:USER@HOST:PORT" (HOST:PORT) or "tunnel:HOST" (HOST, *PORT 0).  0 when none. */
static int first_addr(const char *canon, char *host, size_t hlen, unsigned *port)
{
	const char *p = past_local(canon), *end, *colon;
	size_t n;

	if (p == NULL)
		return 0;
	end = p + strcspn(p, "/");
	if (strncmp(p, "tunnel:", 7) == 0) {
		p += 7;
		*port = 0;
		colon = end;
	} else if (strncmp(p, "ssh:", 4) == 0 && (p = memchr(p, '@', (size_t)(end - p))) != NULL) {
		p++;
		for (colon = end; colon > p && colon[-1] != ':'; colon--)
			;
		if (colon == p)
			return 0;
		*port = (unsigned)strtoul(colon, NULL, 10);
		colon--;
	} else {
		return 0;
	}
	n = (size_t)(colon - p);
	if (n >= hlen)
		return 0;
	memcpy(host, p, n);
	host[n] = '\0';
	return 1;
}

/* Deny rules hold against aliases: does glob (or "group:NAME") T name an inventory
 * target that connects to the address the request connects to first?  The same
 * HOST:PORT, or the same HOST where either is a tunnel target (any port of it). */
static int names_same_address(const struct jg_config *cfg, const char *t,
			      const struct jg_policy_req *req)
{
	char host[300], thost[300];
	unsigned port, tport;

	if (req->canon == NULL || !first_addr(req->canon, host, sizeof(host), &port))
		return 0;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct jg_target *tg = &cfg->targets[i];
		int named = strncmp(t, "group:", 6) == 0 ? in_group(cfg, t + 6, tg->name)
							 : fnmatch(t, tg->name, 0) == 0;

		if (named && jg_hop_addr(&tg->hop, thost, sizeof(thost), &tport) == 0 &&
		    strcmp(host, thost) == 0 && (port == tport || port == 0 || tport == 0))
			return 1;
	}
	return 0;
}

/* The first element of TARGET ("web1" of "web1/sudo:root") into BUF. */
static const char *first_element(const char *target, char *buf, size_t len)
{
	size_t n = strcspn(target, "/");

	if (n >= len)
		n = len - 1;
	memcpy(buf, target, n);
	buf[n] = '\0';
	return buf;
}

/* Allow rules match the target as typed, its key or its canonical chain.  Deny rules
 * match more, so that no alias slips past them: also every leading part of those chains
 * (a rule for "t3" denies "t3/sudo:root"), and any destination whose first address is
 * that of an inventory target the rule names (another name, or a raw spec, for the same
 * host). */
/* Does the request run on the bastion itself (a chain starting with local, whatever the
 * inventory calls it)? */
static int is_local(const struct jg_policy_req *req)
{
	const char *s = req->canon != NULL ? req->canon : req->target;

	return s != NULL && strncmp(s, "local", 5) == 0 && (s[5] == '\0' || s[5] == '/');
}

/* A target pattern that grants local names it: it begins with the literal "local". */
static int names_local(const char *t)
{
	return strncmp(t, "local", 5) == 0;
}

static int target_matches(const struct jg_config *cfg, const struct jg_policy_rule *r,
			  const struct jg_policy_req *req)
{
	int deny = !r->allow, local = r->allow && is_local(req);
	char first[256];

	/* A request without a target is about the gateway itself (admin): only rules not
	 * scoped to targets speak about it, allow and deny alike. */
	if (req->target == NULL)
		return r->ntargets == 0;
	if (r->ntargets == 0)
		return 1;
	for (size_t i = 0; i < r->ntargets; i++) {
		const char *t = r->targets[i];

		/* local runs as the gateway's own account (it can read ca.key and mint any
		 * identity): "*" or "group:all" must not grant it by accident. */
		if (local && !names_local(t))
			continue;

		if (strncmp(t, "group:", 6) == 0) {
			if (in_group(cfg, t + 6, req->target) ||
			    (deny && in_group(cfg, t + 6,
					      first_element(req->target, first, sizeof(first)))))
				return 1;
		} else if (glob_hits(t, req->target, deny) || glob_hits(t, req->key, deny) ||
			   glob_hits(t, req->canon, deny) ||
			   (deny && glob_hits(t, past_local(req->canon), deny))) {
			return 1;
		}
		if (deny && names_same_address(cfg, t, req))
			return 1;
	}
	return 0;
}

/* Where the identity comes from: its own connection ("-"), or a site that asserted it. */
static int via_matches(const struct jg_policy_rule *r, const struct jg_policy_req *req)
{
	if (r->nvia == 0)
		return req->via == NULL || req->identity == NULL ||
		       strncmp(req->identity, "unix:", 5) != 0;
	for (size_t i = 0; i < r->nvia; i++)
		if (req->via == NULL ? strcmp(r->via[i], "-") == 0
				     : fnmatch(r->via[i], req->via, 0) == 0)
			return 1;
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

/* Is argv[0] A spelt the one way `commands` can judge: not empty, no "." or ".."
 * component, no repeated or trailing '/'?  ("/usr/bin/../../bin/sh" is not.) */
static int argv0_normal(const char *a)
{
	const char *p;

	if (a == NULL || a[0] == '\0' || strstr(a, "//") != NULL || a[strlen(a) - 1] == '/')
		return 0;
	for (p = a; p != NULL; p = strchr(p, '/') != NULL ? strchr(p, '/') + 1 : NULL) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
	}
	return 1;
}

/* Do R's `commands` cover argv[0]?  An allow rule: argv[0] must be normal and match a glob
 * with FNM_PATHNAME ("/usr/bin/<star>" covers "/usr/bin/id", never "/usr/bin/x/y").  A deny
 * rule judges broadly: any argv[0] that is not normal, and globs whose '*' crosses '/'. */
static int commands_match(const struct jg_policy_rule *r, const char *argv0)
{
	if (!argv0_normal(argv0))
		return !r->allow;
	for (size_t i = 0; i < r->ncommands; i++)
		if (fnmatch(r->commands[i], argv0, r->allow ? FNM_PATHNAME : 0) == 0)
			return 1;
	return 0;
}

/* commands, become and setid (paths apart: see paths_match). */
static int narrowing_matches(const struct jg_policy_rule *r, const struct jg_policy_req *req)
{
	if (r->allow && !r->setid && (req->setid & 07000) != 0 && strcmp(req->action, "put") == 0)
		return 0;
	if (r->allow && req->agent == JG_POLICY_AGENT_GATEWAY && !r->forward_agent &&
	    !r->forward_agent_to_target)
		return 0;
	if (r->allow && req->agent == JG_POLICY_AGENT_TARGET && !r->forward_agent_to_target)
		return 0;
	if (r->ncommands > 0 && strcmp(req->action, "exec") == 0 && !commands_match(r, req->argv0))
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
	       via_matches(r, req) && action_matches(r, req->action) &&
	       target_matches(cfg, r, req) && narrowing_matches(r, req);
}

/* Why a put with set-id bits, or a request forwarding the controller's ssh-agent, fell
 * through an allow rule that would have granted it otherwise: into MORE. */
static void skipped_hint(const struct jg_policy_req *req, const struct jg_policy_rule *r,
			 char *more, size_t len)
{
	if (req->agent != JG_POLICY_AGENT_NONE &&
	    !(req->agent == JG_POLICY_AGENT_GATEWAY ? r->forward_agent || r->forward_agent_to_target
						    : r->forward_agent_to_target))
		snprintf(more, len,
			 "; the request forwards the controller's ssh-agent%s, which rule \"%s\" "
			 "does not grant (it needs %s = true)",
			 req->agent == JG_POLICY_AGENT_TARGET ? " on to the target" : "", r->name,
			 req->agent == JG_POLICY_AGENT_TARGET ? "forward_agent_to_target"
							      : "forward_agent");
	else
		snprintf(more, len,
			 "; the mode asks for setuid/setgid/sticky bits (0%o), which rule \"%s\" "
			 "does not grant (it needs setid = true)",
			 req->setid & 07000, r->name);
}

int jg_policy_may(const struct jg_config *cfg, const struct jg_policy_req *req)
{
	int some = 0;

	for (size_t i = 0; i < cfg->npolicy; i++) {
		const struct jg_policy_rule *r = &cfg->policy[i];
		const char *identity = req->identity != NULL ? req->identity : "";
		int narrowed = (r->ncommands > 0 && strcmp(req->action, "exec") == 0) ||
			       (r->npaths > 0 && is_file_action(req->action));
		int become_ok = 1;

		for (size_t j = 0; r->nbecome > 0 && j < req->nbecome; j++)
			if (!any_glob(r->become, r->nbecome, req->become[j]))
				become_ok = 0;
		if (!((r->nidentities == 0 || any_glob(r->identities, r->nidentities, identity)) &&
		      via_matches(r, req) && action_matches(r, req->action) &&
		      target_matches(cfg, r, req) && become_ok))
			continue;
		if (r->allow)
			return narrowed || some ? JG_POLICY_MAY_SOME : JG_POLICY_MAY;
		if (!narrowed)
			return JG_POLICY_MAY_NOT;
		some = 1; /* denies some commands or paths; what the rest may do comes next */
	}
	return JG_POLICY_MAY_NOT;
}

int jg_policy_check(const struct jg_config *cfg, const struct jg_policy_req *req, char *reason,
		    size_t len)
{
	/* An allow rule but for setid or forward_agent. */
	const struct jg_policy_rule *skipped = NULL;
	struct jg_policy_req plain = *req;
	char more[300] = "";

	plain.setid = 0;
	plain.agent = JG_POLICY_AGENT_NONE;
	for (size_t i = 0; i < cfg->npolicy; i++) {
		const struct jg_policy_rule *r = &cfg->policy[i];

		if (!rule_applies(cfg, r, req) || !paths_match(r, req)) {
			if (skipped == NULL && (req->setid != 0 || req->agent != 0) && r->allow &&
			    rule_applies(cfg, r, &plain) && paths_match(r, req))
				skipped = r;
			continue;
		}
		if (!r->allow && skipped != NULL)
			skipped_hint(req, skipped, more, sizeof(more));
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
		skipped_hint(req, skipped, more, sizeof(more));
	snprintf(reason, len, "no rule matched%s", more);
	return 0;
}

/* Could rule R match exec on local?  Unscoped rules (no targets) and patterns naming it. */
static int grants_local_exec(const struct jg_policy_rule *r)
{
	int named = r->ntargets == 0;

	for (size_t i = 0; i < r->ntargets && !named; i++)
		named = names_local(r->targets[i]);
	return r->allow && named && action_matches(r, "exec");
}

void jg_policy_lint(const struct jg_config *cfg, const char *own,
		    void (*warn)(void *ud, const char *msg), void *ud)
{
	char msg[1024], unix_own[300];

	snprintf(unix_own, sizeof(unix_own), "unix:%s", own);
	if (cfg->path != NULL && cfg->npolicy == 0) {
		snprintf(msg, sizeof(msg),
			 "%s has no `policy`: every request will be refused (\"no rule matched\"), "
			 "the gateway's own client certificate included; add rules (see the policy "
			 "section of jumpgated.conf.example)",
			 cfg->path);
		warn(ud, msg);
	}
	for (size_t i = 0; cfg->path != NULL && i < cfg->npolicy; i++) {
		const struct jg_policy_rule *r = &cfg->policy[i];
		int others = r->nidentities == 0;
		size_t o;

		for (size_t j = 0; j < r->nidentities && !others; j++)
			others = strcmp(r->identities[j], own) != 0 &&
				 strcmp(r->identities[j], unix_own) != 0;
		if (!grants_local_exec(r) || !others)
			continue;
		o = (size_t)snprintf(
		    msg, sizeof(msg),
		    "%s:%d: policy rule \"%s\" grants exec on local -- the "
		    "bastion as the gateway's own account, which can read the CA key "
		    "and mint any identity -- to ",
		    cfg->path, r->line, r->name);
		if (r->nidentities == 0 && o < sizeof(msg))
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "EVERY identity");
		for (size_t j = 0; j < r->nidentities && o < sizeof(msg); j++)
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s\"%s\"", j ? ", " : "",
					      r->identities[j]);
		if (o < sizeof(msg))
			snprintf(msg + o, sizeof(msg) - o,
				 "; grant local to the operator's identity only (\"%s\")", own);
		warn(ud, msg);
	}
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
