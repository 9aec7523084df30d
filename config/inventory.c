/* The inventory settings of jumpgated.conf: `targets` (names, methods and their options)
 * and `groups`.  Split from config.c, which parses everything else. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config/config.h"
#include "config/parse.h"
#include "config/target.h"
#include "relay/err.h"

#define MAX_TARGET_NAME 64

/* Why NAME is not a valid target name, or NULL.  Names appear in URLs and
 * in target specs, so the alphabet is small and nothing starts like an
 * option or a hidden/relative path. */
static const char *bad_target_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "must not be empty";
	if (len > MAX_TARGET_NAME)
		return "longer than 64 characters";
	if (name[0] == '-' || name[0] == '.')
		return "must not start with '-' or '.'";
	for (const char *q = name; *q != '\0'; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_' || *q == '.' || *q == '-'))
			return "may contain only letters, digits, '_', '.' and '-'";
	return NULL;
}

static int parse_method(struct jg_parser *p, const config_setting_t *s, const char *key,
			enum jg_method *out)
{
	const char *v = NULL;
	int r;

	if ((r = jg_parse_string(p, s, key, &v)) != 0)
		return r;
	if ((*out = jg_method_lookup(v, strlen(v))) == 0)
		return jg_parse_fail(p, s, key,
				     "unknown method \"%s\" (known: local, ssh, tunnel, sudo, su, "
				     "doas, lxc, lxd, docker, kubectl, setns)",
				     v);
	return 0;
}

/* The one key of a tunnel target besides name and method: the host the gateway
 * itself connects to, checked like an ssh host (it is never in an argv, but the
 * same strict grammar keeps messages and logs clean). */
static int parse_tunnel_host(struct jg_parser *p, const config_setting_t *e, const char *key,
			     struct jg_hop *hop)
{
	const char *v = NULL;
	char why[256];
	int r;

	if (strcmp(config_setting_name(e), "host") != 0)
		return jg_parse_fail(p, e, key,
				     "unknown key (a tunnel target takes name, method and host)");
	if ((r = jg_parse_string(p, e, key, &v)) != 0)
		return r;
	if (jg_target_check_host(v, why, sizeof(why)) != 0)
		return jg_parse_fail(p, e, key, "%s", why);
	free(hop->ssh.host);
	/* Brackets are for the grammar; the socket wants the bare address. */
	if (v[0] == '[')
		hop->ssh.host = strndup(v + 1, strlen(v) - 2);
	else
		hop->ssh.host = strdup(v);
	return hop->ssh.host == NULL ? JG_ERR_NOMEM : 0;
}

/* name and method first (the method decides which other keys are valid),
 * then the options.  An ssh target starts from ssh_defaults, which
 * parse_root() has parsed before any target. */
static int parse_target(struct jg_parser *p, const config_setting_t *g, int idx,
			const struct jg_config *c, struct jg_target *t)
{
	const config_setting_t *name_s, *method_s;
	const char *v = NULL, *why;
	char key[96];
	int r;

	snprintf(key, sizeof(key), "targets[%d]", idx);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return jg_parse_fail(p, g, key,
				     "must be a group { name = ...; method = ...; }, not %s",
				     jg_parse_type_name(config_setting_type(g)));
	name_s = config_setting_get_member(g, "name");
	method_s = config_setting_get_member(g, "method");
	if (name_s == NULL || method_s == NULL)
		return jg_parse_fail(p, g, key, "%s missing", name_s == NULL ? "name" : "method");

	snprintf(key, sizeof(key), "targets[%d].name", idx);
	if ((r = jg_parse_string(p, name_s, key, &v)) != 0)
		return r;
	if ((why = bad_target_name(v)) != NULL)
		return jg_parse_fail(p, name_s, key, "\"%s\" %s", v, why);
	if ((t->name = strdup(v)) == NULL)
		return JG_ERR_NOMEM;

	snprintf(key, sizeof(key), "targets[%d].method", idx);
	if ((r = parse_method(p, method_s, key, &t->hop.method)) != 0)
		return r;
	if (t->hop.method == JG_METHOD_SSH) {
		if ((r = jg_hop_copy(&t->hop, &c->ssh_defaults)) != 0)
			return r;
		t->hop.method = JG_METHOD_SSH;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *n = config_setting_name(e);

		if (e == name_s || e == method_s)
			continue;
		snprintf(key, sizeof(key), "targets[%d].%s", idx, n);
		if (t->hop.method == JG_METHOD_TUNNEL) {
			if ((r = parse_tunnel_host(p, e, key, &t->hop)) != 0)
				return r;
			continue;
		}
		if (t->hop.method == JG_METHOD_LOCAL)
			return jg_parse_fail(
			    p, e, key, "unknown key (a local target takes only name and method)");
		if (t->hop.method != JG_METHOD_SSH) {
			if ((r = jg_parse_method_key(p, e, key, &t->hop)) > 0)
				return jg_parse_fail(p, e, key,
						     "unknown key for a %s target (see "
						     "docs/methods.md and jumpgated.conf.example)",
						     jg_method_name(t->hop.method));
			if (r < 0)
				return r;
			continue;
		}
		if ((r = jg_parse_ssh_key(p, e, key, &t->hop.ssh)) < 0)
			return r;
		if (r > 0)
			return jg_parse_fail(
			    p, e, key,
			    "unknown key (see jumpgated.conf.example for the keys of "
			    "an ssh target)");
	}
	snprintf(key, sizeof(key), "targets[%d]", idx);
	if ((r = jg_parse_method_check(p, g, key, &t->hop)) != 0)
		return r;
	if ((t->hop.method == JG_METHOD_SSH || t->hop.method == JG_METHOD_TUNNEL) &&
	    t->hop.ssh.host == NULL) {
		snprintf(key, sizeof(key), "targets[%d]", idx);
		return jg_parse_fail(p, g, key, "host missing (%s target needs one)",
				     t->hop.method == JG_METHOD_SSH ? "an ssh" : "a tunnel");
	}
	return 0;
}

int jg_parse_targets(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	int n = config_setting_length(s), r;

	/* An empty "[]" is an array to libconfig; anything else must be a list. */
	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0))
		return jg_parse_fail(
		    p, s, "targets",
		    "must be a list ( { name = ...; method = ...; }, ... ), not %s",
		    jg_parse_type_name(config_setting_type(s)));
	/* One spare slot: "local" is appended when the file does not name it. */
	if ((c->targets = calloc((size_t)n + 1, sizeof(*c->targets))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);

		/* Counted first so that jg_config_free() frees a half-parsed one. */
		c->ntargets++;
		if ((r = parse_target(p, g, i, c, &c->targets[i])) != 0)
			return r;
		for (int j = 0; j < i; j++) {
			const config_setting_t *prev = config_setting_get_member(
			    config_setting_get_elem(s, (unsigned)j), "name");
			char key[64];

			if (strcmp(c->targets[j].name, c->targets[i].name) != 0)
				continue;
			snprintf(key, sizeof(key), "targets[%d].name", i);
			return jg_parse_fail(p, config_setting_get_member(g, "name"), key,
					     "duplicate target \"%s\" (first defined at line %u)",
					     c->targets[i].name,
					     (unsigned)config_setting_source_line(prev));
		}
	}
	return 0;
}

/* groups = { web = [ "web1", "web2" ]; db = [ "db*" ]; }: after the targets (and "local"),
 * wherever it is written, since members are checked against the inventory.  A member
 * without glob characters must name an inventory target: a typo there would otherwise
 * shrink a fan-out silently.  A glob may match nothing yet. */
static int parse_group(struct jg_parser *p, const config_setting_t *e, struct jg_config *c,
		       struct jg_group *g)
{
	const char *name = config_setting_name(e), *why;
	int n = config_setting_length(e), type = config_setting_type(e);
	char key[160];

	snprintf(key, sizeof(key), "groups.%s", name);
	if ((why = bad_target_name(name)) != NULL)
		return jg_parse_fail(p, e, key, "group name \"%s\" %s", name, why);
	if (jg_config_find_target(c, name) != NULL)
		return jg_parse_fail(p, e, key,
				     "\"%s\" is already an inventory target (a group needs a name "
				     "of its own)",
				     name);
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return jg_parse_fail(p, e, key,
				     "must be an array [ \"name\", \"glob*\", ... ], not %s",
				     jg_parse_type_name(type));
	if ((g->name = strdup(name)) == NULL ||
	    (g->members = calloc((size_t)n + 1, sizeof(*g->members))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)i);
		const char *v;

		snprintf(key, sizeof(key), "groups.%s[%d]", name, i);
		if (config_setting_type(m) != CONFIG_TYPE_STRING)
			return jg_parse_fail(p, m, key, "must be a string, not %s",
					     jg_parse_type_name(config_setting_type(m)));
		v = config_setting_get_string(m);
		if (strpbrk(v, "*?[") != NULL) {
			/* Globs run over inventory names only: the same alphabet plus the glob
			 * syntax, so a spec ("ssh:x") cannot hide in one. */
			for (const char *q = v; *q != '\0'; q++)
				if (strchr("*?[]!^-_.", *q) == NULL &&
				    !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
				      (*q >= '0' && *q <= '9')))
					return jg_parse_fail(
					    p, m, key,
					    "glob \"%s\": '%c' cannot match an inventory name", v,
					    *q);
		} else if (jg_config_find_target(c, v) == NULL) {
			return jg_parse_fail(p, m, key,
					     "\"%s\" is not an inventory target (members are "
					     "target names or globs over them)",
					     v);
		}
		if ((g->members[i] = strdup(v)) == NULL)
			return JG_ERR_NOMEM;
		g->nmembers++;
	}
	return 0;
}

int jg_parse_groups(struct jg_parser *p, const config_setting_t *s, struct jg_config *c)
{
	int n = config_setting_length(s), r;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return jg_parse_fail(
		    p, s, "groups", "must be a group { web = [ \"web1\", \"web2\" ]; ... }, not %s",
		    jg_parse_type_name(config_setting_type(s)));
	if (n == 0)
		return 0;
	if ((c->groups = calloc((size_t)n, sizeof(*c->groups))) == NULL)
		return JG_ERR_NOMEM;
	for (int i = 0; i < n; i++) {
		/* Counted first so that jg_config_free() frees a half-parsed one. */
		c->ngroups++;
		if ((r = parse_group(p, config_setting_get_elem(s, (unsigned)i), c,
				     &c->groups[i])) != 0)
			return r;
	}
	return 0;
}
