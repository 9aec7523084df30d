/* Access-control settings of jumpgated.conf: `tunnels`, `identity`, `policy`, and the
 * built-in default policy.  Split from config.c, which parses everything else. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/parse.h"
#include "config/target.h"
#include "relay/err.h"

/* One glob of a tunnels.allow entry into *OUT: not empty, no whitespace or
 * control characters (they cannot match anything a request carries). */
static int tunnel_glob(struct jg_parser *p, const config_setting_t *s, const char *key,
		       const char *what, const char *v, size_t len, char **out)
{
	if (len == 0)
		return jg_parse_fail(p, s, key, "\"%s\": empty %s", config_setting_get_string(s),
				     what);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
			return jg_parse_fail(p, s, key,
					     "\"%s\": %s has a space or control "
					     "character",
					     config_setting_get_string(s), what);
	return (*out = strndup(v, len)) == NULL ? JG_ERR_NOMEM : 0;
}

/* "TARGET:PORT" or "TARGET:HOST:PORT", split from the right: PORT after the
 * last ':', HOST (a bracketed IPv6 address allowed) before it, TARGET the
 * rest, which may itself hold ':' ("ssh:db7:localhost:22"). */
static int parse_tunnel_rule(struct jg_parser *p, const config_setting_t *s, const char *key,
			     struct jg_tunnel_rule *rule)
{
	const char *v = NULL, *pc, *hc = NULL;
	char *end;
	unsigned long n;
	int r;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if ((pc = strrchr(v, ':')) == NULL)
		return jg_parse_fail(p, s, key,
				     "\"%s\" is not TARGET:PORT or TARGET:HOST:PORT (as in "
				     "\"web*:22\" or \"db1:10.0.0.7:5432\")",
				     v);
	/* "[v6]" as a host, unless the brackets are a glob's ("10.0.0.[1-5]"). */
	if (pc > v && pc[-1] == ']') {
		for (hc = pc - 1; hc > v && *hc != '['; hc--)
			;
		hc = hc > v && hc[-1] == ':' ? hc - 1 : NULL;
	}
	if (hc == NULL) {
		for (hc = pc - 1; hc >= v && *hc != ':'; hc--)
			;
		if (hc < v)
			hc = NULL;
	}
	if ((r = tunnel_glob(p, s, key, "port", pc + 1, strlen(pc + 1), &rule->port)) != 0)
		return r;
	if (strpbrk(rule->port, "*?[") == NULL) {
		n = strtoul(rule->port, &end, 10);
		if (*end != '\0' || rule->port[0] < '0' || rule->port[0] > '9' || n < 1 ||
		    n > 65535)
			return jg_parse_fail(p, s, key, "\"%s\": port \"%s\" is not 1-65535", v,
					     rule->port);
	}
	if (hc != NULL)
		r = tunnel_glob(p, s, key, "host", hc + 1, (size_t)(pc - hc - 1), &rule->host);
	else
		r = (rule->host = strdup("localhost")) == NULL ? JG_ERR_NOMEM : 0;
	if (r != 0)
		return r;
	return tunnel_glob(p, s, key, "target", v, (size_t)((hc != NULL ? hc : pc) - v),
			   &rule->target);
}

/* tunnels = { allow = [ "web1:22", "db*:5432", "web1:10.0.0.7:80" ]; }: once
 * the key is there, only what allow lists may be tunnelled to. */
int jg_parse_tunnels(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	const config_setting_t *a;
	char key[64];
	int n, r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return jg_parse_fail(p, s, "tunnels",
				     "must be a group { allow = [ \"web1:22\", ... ]; }, not %s",
				     jg_parse_type_name(config_setting_type(s)));
	for (int i = 0; i < config_setting_length(s); i++) {
		a = config_setting_get_elem(s, (unsigned)i);
		if (strcmp(config_setting_name(a), "allow") != 0) {
			snprintf(key, sizeof(key), "tunnels.%s", config_setting_name(a));
			return jg_parse_fail(p, a, key, "unknown key (tunnels takes allow)");
		}
	}
	c->tunnel_policy = JG_TUNNELS_LIST;
	if ((a = config_setting_get_member(s, "allow")) == NULL)
		return 0;
	if (config_setting_type(a) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(a) != CONFIG_TYPE_LIST)
		return jg_parse_fail(p, a, "tunnels.allow",
				     "must be a list of strings [ \"web1:22\", ... ], not %s",
				     jg_parse_type_name(config_setting_type(a)));
	n = config_setting_length(a);
	if (n == 0)
		return 0;
	if ((c->tunnel_rules = calloc((size_t)n, sizeof(*c->tunnel_rules))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		/* Counted first so that jg_config_free() frees a half-parsed one. */
		c->ntunnel_rules++;
		snprintf(key, sizeof(key), "tunnels.allow[%d]", i);
		if ((r = parse_tunnel_rule(p, config_setting_get_elem(a, (unsigned)i), key,
					   &c->tunnel_rules[i])) != 0)
			return r;
	}
	return 0;
}

/* A list of non-empty strings (policy rule members) into a new array of *N strings. */
static int parse_strings(struct jg_parser *p, const config_setting_t *s, const char *key,
			 char ***out, size_t *n)
{
	int len = config_setting_length(s);

	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return jg_parse_fail(p, s, key, "expected a list of strings");
	if ((*out = calloc((size_t)len + 1, sizeof(**out))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < len; i++) {
		const char *v = config_setting_get_string_elem(s, i);

		if (v == NULL || v[0] == '\0')
			return jg_parse_fail(p, s, key, "element %d is not a non-empty string",
					     i + 1);
		if (((*out)[i] = strdup(v)) == NULL)
			return JG_ERR_NOMEM;
		(*n)++;
	}
	return 0;
}

static int parse_policy_rule(struct jg_parser *p, const config_setting_t *e,
			     struct jg_policy_rule *rule)
{
	static const char *const actions[] = {"exec",  "put",	"get", "tunnel",
					      "reset", "admin", "*"};
	const char *v;
	int r = 0, have_allow = 0;

	rule->line = config_setting_source_line(e);
	if (!config_setting_is_group(e))
		return jg_parse_fail(p, e, "policy", "each rule is a group { name = ...; ... }");
	for (int i = 0; i < config_setting_length(e) && r == 0; i++) {
		const config_setting_t *s = config_setting_get_elem(e, (unsigned)i);
		const char *k = config_setting_name(s);

		if (strcmp(k, "name") == 0) {
			if ((r = jg_parse_string(p, s, k, &v)) == 0 &&
			    (rule->name = strdup(v)) == NULL)
				r = JG_ERR_NOMEM;
		} else if (strcmp(k, "identities") == 0)
			r = parse_strings(p, s, k, &rule->identities, &rule->nidentities);
		else if (strcmp(k, "targets") == 0)
			r = parse_strings(p, s, k, &rule->targets, &rule->ntargets);
		else if (strcmp(k, "actions") == 0) {
			r = parse_strings(p, s, k, &rule->actions, &rule->nactions);
			for (size_t j = 0; r == 0 && j < rule->nactions; j++) {
				size_t a = 0;

				while (a < 7 && strcmp(actions[a], rule->actions[j]) != 0)
					a++;
				if (a == 7)
					r = jg_parse_fail(p, s, k,
							  "\"%s\" is not one of exec, put, get, "
							  "tunnel, reset, admin, *",
							  rule->actions[j]);
			}
		} else if (strcmp(k, "commands") == 0)
			r = parse_strings(p, s, k, &rule->commands, &rule->ncommands);
		else if (strcmp(k, "become") == 0)
			r = parse_strings(p, s, k, &rule->become, &rule->nbecome);
		else if (strcmp(k, "paths") == 0) {
			r = parse_strings(p, s, k, &rule->paths, &rule->npaths);
			for (size_t j = 0; r == 0 && j < rule->npaths; j++)
				if (rule->paths[j][0] != '/')
					r = jg_parse_fail(p, s, k, "\"%s\" is not an absolute path",
							  rule->paths[j]);
		} else if (strcmp(k, "via") == 0) {
			r = parse_strings(p, s, k, &rule->via, &rule->nvia);
		} else if (strcmp(k, "allow") == 0) {
			r = jg_parse_bool(p, s, k, &rule->allow);
			have_allow = 1;
		} else if (strcmp(k, "setid") == 0)
			r = jg_parse_bool(p, s, k, &rule->setid);
		else if (strcmp(k, "forward_agent") == 0)
			r = jg_parse_bool(p, s, k, &rule->forward_agent);
		else if (strcmp(k, "forward_agent_to_target") == 0)
			r = jg_parse_bool(p, s, k, &rule->forward_agent_to_target);
		else
			r = jg_parse_fail(p, s, k,
					  "unknown policy key (name, identities, targets, actions, "
					  "commands, become, paths, setid, forward_agent, "
					  "forward_agent_to_target, via, allow)");
	}
	if (r == 0 && rule->name == NULL)
		r = jg_parse_fail(p, e, "policy", "a rule needs a name");
	for (size_t j = 0; r == 0 && rule->ntargets > 0 && j < rule->nactions; j++)
		if (strcmp(rule->actions[j], "admin") == 0)
			r = jg_parse_fail(p, e, "policy",
					  "rule \"%s\": \"admin\" is about the gateway itself, "
					  "not a target: grant it in a rule without targets",
					  rule->name);
	if (r == 0 && !have_allow)
		r = jg_parse_fail(p, e, "policy", "rule \"%s\": allow = true or false is required",
				  rule->name);
	return r;
}

int jg_parse_policy(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	int n = config_setting_length(s), r = 0;

	if (!config_setting_is_list(s))
		return jg_parse_fail(p, s, "policy", "expected a list of rules: ( { ... }, ... )");
	if ((c->policy = calloc((size_t)n + 1, sizeof(*c->policy))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n && r == 0; i++) {
		c->npolicy++;
		r = parse_policy_rule(p, config_setting_get_elem(s, (unsigned)i), &c->policy[i]);
	}
	return r;
}

int jg_parse_identity(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	const char *v;
	int r = jg_parse_string(p, s, "identity", &v);

	if (r != 0)
		return r;
	if (strcmp(v, "cn") == 0)
		c->identity = JG_IDENTITY_CN;
	else if (strcmp(v, "san-uri") == 0)
		c->identity = JG_IDENTITY_SAN_URI;
	else if (strcmp(v, "san-dns") == 0)
		c->identity = JG_IDENTITY_SAN_DNS;
	else
		return jg_parse_fail(p, s, "identity", "\"%s\" is not one of cn, san-uri, san-dns",
				     v);
	return 0;
}

/* The built-in policy: everything, for the generated client certificate's CN, which is the
 * local account's name (gateway/main.c names it the same way).  The listener is loopback. */
const char *jg_config_own_identity(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *u = pw != NULL ? pw->pw_name : getenv("USER");

	if (u == NULL || u[0] == '\0')
		snprintf(buf, len, "uid%ld", (long)geteuid());
	else
		snprintf(buf, len, "%s", u);
	return buf;
}

int jg_config_builtin_policy(struct jg_config *c)
{
	char ubuf[256];
	const char *u = jg_config_own_identity(ubuf, sizeof(ubuf));

	if ((c->policy = calloc(1, sizeof(*c->policy))) == NULL)
		return JG_ERR_NOMEM;
	c->npolicy = 1;
	c->policy[0].allow = 1;
	c->policy[0].setid = 1; /* the gateway's own account: everything it could do itself */
	c->policy[0].forward_agent = c->policy[0].forward_agent_to_target = 1;
	if ((c->policy[0].name = strdup("built-in")) == NULL ||
	    (c->policy[0].identities = calloc(2, sizeof(char *))) == NULL ||
	    (c->policy[0].identities[0] = strdup(u)) == NULL)
		return JG_ERR_NOMEM;
	c->policy[0].nidentities = 1;
	return 0;
}
