/* `jumpgate targets [PATTERN]` and `jumpgate whoami`: what the gateway knows about its
 * inventory and about us.  Small requests (request.c), answers rendered as tables. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "client/batch.h"
#include "client/client.h"
#include "client/help.h"
#include "relay/pct.h"

/* GET PATH as JSON into *OUT.  0; 1 when refused with 403 (*OUT NULL, nothing said:
 * the caller decides whether that matters); or an exit status after saying why. */
static int get_json(struct jg_client *c, const char *what, const char *path, json_t **out)
{
	struct evbuffer *body = evbuffer_new();
	json_t *o = NULL, *reason;
	int status = 0, r;
	size_t len;

	*out = NULL;
	if (body == NULL)
		return JG_EXIT_FAILURE;
	if ((r = jg_client_request(c, "GET", path, &status, body)) != 0)
		goto out;
	len = evbuffer_get_length(body);
	o = json_loadb((const char *)evbuffer_pullup(body, (ssize_t)len), len, 0, NULL);
	if (status == 403) {
		r = 1;
	} else if (status != 200) {
		reason = json_object_get(o, "reason");
		if (json_is_string(reason))
			jg_client_fail("%s: %s", what, json_string_value(reason));
		else
			jg_client_fail("%s: the gateway answered HTTP %d", what, status);
		r = JG_EXIT_FAILURE;
	} else if (o == NULL) {
		jg_client_fail("%s: the gateway's answer is not JSON", what);
		r = JG_EXIT_FAILURE;
	} else {
		*out = o;
		o = NULL;
	}
out:
	json_decref(o);
	evbuffer_free(body);
	return r;
}

/* --json and -h/--help, then at most MAXPOS operands into POS.  0, -1 (help printed), or an
 * exit status. */
static int parse(const char *cmd, int argc, char **argv, void (*help)(void), int *as_json,
		 const char **pos, int maxpos)
{
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*as_json = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			help();
			return -1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return jg_client_usage("%s: unknown option %s", cmd, argv[i]);
		} else if (npos < maxpos) {
			pos[npos++] = argv[i];
		} else {
			return jg_client_usage("%s takes %s", cmd,
					       maxpos ? "one PATTERN at most" : "no arguments");
		}
	}
	return 0;
}

/* Does NAME (an inventory entry T) fall under PATTERN, read here as the gateway would (names,
 * globs, groups) for a caller not allowed to ask it (no admin action)? */
static int pattern_covers(const char *pattern, const json_t *t)
{
	const char *name = json_string_value(json_object_get(t, "name"));
	char elem[256];

	for (const char *p = pattern; *p != '\0';) {
		size_t n = strcspn(p, ",");
		const json_t *g;
		size_t i;

		snprintf(elem, sizeof(elem), "%.*s", (int)(n < sizeof(elem) ? n : sizeof(elem) - 1),
			 p);
		if (name != NULL && fnmatch(elem, name, 0) == 0)
			return 1;
		json_array_foreach(json_object_get(t, "groups"), i, g)
		{
			if (json_is_string(g) && strcmp(json_string_value(g), elem) == 0)
				return 1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static const json_t *find_target(const json_t *all, const char *name)
{
	const json_t *t;
	size_t i;

	json_array_foreach(all, i, t)
	{
		const char *n = json_string_value(json_object_get(t, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return t;
	}
	return NULL;
}

/* The listing in PATTERN's order: the inventory entries it names, and a stand-in for each
 * name that is not one (a host name, a spec, SITE/TARGET).  A new array. */
static json_t *select_targets(const json_t *all, const json_t *names)
{
	json_t *sel = json_array(), *n;
	size_t i;

	json_array_foreach(names, i, n)
	{
		const char *name = json_string_value(n);
		const json_t *t = name != NULL ? find_target(all, name) : NULL;
		const char *slash = name != NULL ? strchr(name, '/') : NULL;

		if (t != NULL)
			json_array_append(sel, (json_t *)t);
		else if (name != NULL && slash != NULL && strchr(name, ':') == NULL)
			json_array_append_new(sel,
					      json_pack("{s:s, s:s, s:s+, s:[], s:n}", "name", name,
							"method", "site", "display", "at site ",
							name, "groups", "actions"));
		else if (name != NULL)
			json_array_append_new(
			    sel, json_pack("{s:s, s:n, s:s, s:[], s:n}", "name", name, "method",
					   "display", "not in the inventory", "groups", "actions"));
	}
	return sel;
}

/* "a,b" from a JSON array of strings; "-" when empty.  '*' marks "some" (exec:some). */
static void join(char *buf, size_t len, const json_t *a)
{
	const json_t *v;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v), *colon;
		int n;

		if (s == NULL)
			continue;
		colon = strchr(s, ':');
		n = snprintf(buf + off, len - off, "%s%.*s%s", off ? "," : "",
			     (int)(colon ? (size_t)(colon - s) : strlen(s)), s, colon ? "*" : "");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "-");
}

static void print_targets(const json_t *sel, const json_t *routes)
{
	const json_t *t, *r;
	size_t i;

	printf("%-20s %-8s %-16s %-30s %s\n", "NAME", "METHOD", "GROUPS", "MAY", "GOES TO");
	json_array_foreach(sel, i, t)
	{
		const char *method = json_string_value(json_object_get(t, "method"));
		const json_t *actions = json_object_get(t, "actions");
		char groups[256], may[128];

		join(groups, sizeof(groups), json_object_get(t, "groups"));
		if (json_is_array(actions))
			join(may, sizeof(may), actions);
		else
			snprintf(may, sizeof(may), "?"); /* decided where it is, when used */
		printf("%-20s %-8s %-16s %-30s %s\n", json_string_value(json_object_get(t, "name")),
		       method ? method : "-", groups, may,
		       json_string_value(json_object_get(t, "display")));
	}
	if (json_array_size(json_object_get(routes, "routes")) == 0)
		return;
	printf("\nsites (their targets are SITE/TARGET; jumpgate targets 'SITE/*'):\n");
	json_array_foreach(json_object_get(routes, "routes"), i, r)
	{
		const char *reason = json_string_value(json_object_get(r, "reason"));

		printf("  %-20s %s%s%s\n", json_string_value(json_object_get(r, "site")),
		       json_string_value(json_object_get(r, "state")), reason ? ": " : "",
		       reason ? reason : "");
	}
}

int jg_cmd_targets(struct jg_client *c, int argc, char **argv)
{
	const char *pattern = NULL;
	json_t *all = NULL, *names = NULL, *routes = NULL, *sel = NULL, *doc;
	char path[1200], enc[1024];
	int as_json = 0, r;

	if ((r = parse("targets", argc, argv, jg_help_targets, &as_json, &pattern, 1)) != 0)
		return r < 0 ? 0 : r;
	if (pattern != NULL &&
	    (pattern[0] == '\0' || jg_pct_encode(enc, sizeof(enc), pattern, NULL) != 0))
		return jg_client_usage("targets: PATTERN is empty or too long");
	if ((r = jg_client_setup(c)) != 0)
		return r;
	/* Without the admin action the gateway answers with our own targets, never 403. */
	if ((r = get_json(c, "targets", "/v1/targets", &all)) != 0) {
		if (r == 1)
			jg_client_fail("targets: the gateway refused to list its inventory");
		goto out;
	}
	if (pattern != NULL) {
		snprintf(path, sizeof(path), "/v1/targets?match=%s", enc);
		if ((r = get_json(c, "targets", path, &names)) > 1)
			goto out;
		if (r == 1) {
			/* No admin: the gateway will not expand lists for us; our own targets
			 * are what we can list, matched here. */
			const json_t *t;
			size_t i;

			names = json_array();
			json_array_foreach(all, i, t)
			{
				if (pattern_covers(pattern, t))
					json_array_append(names, json_object_get(t, "name"));
			}
		}
		sel = select_targets(all, names);
	} else {
		sel = json_incref(all);
	}
	/* Sites only for those who may see the routes; their absence is no error. */
	if ((r = get_json(c, "routes", "/v1/routes", &routes)) > 1)
		goto out;
	r = 0;
	if (as_json) {
		doc = json_pack("{s:O, s:O?}", "targets", sel, "sites",
				json_object_get(routes, "routes"));
		if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
			r = JG_EXIT_FAILURE;
		putchar('\n');
		json_decref(doc);
	} else {
		print_targets(sel, routes);
	}
	if (r == 0 && pattern != NULL && json_array_size(sel) == 0) {
		jg_client_fail("targets: \"%s\" names no target", pattern);
		r = 1;
	}
out:
	json_decref(all);
	json_decref(names);
	json_decref(routes);
	json_decref(sel);
	return r;
}

int jg_cmd_whoami(struct jg_client *c, int argc, char **argv)
{
	json_t *o = NULL;
	int as_json = 0, r;

	if ((r = parse("whoami", argc, argv, jg_help_whoami, &as_json, NULL, 0)) != 0)
		return r < 0 ? 0 : r;
	if ((r = jg_client_setup(c)) != 0)
		return r;
	if ((r = get_json(c, "whoami", "/v1/whoami", &o)) != 0) {
		if (r == 1)
			jg_client_fail("whoami: refused by the gateway");
		return r == 1 ? JG_EXIT_FAILURE : r;
	}
	if (as_json) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		const char *via = json_string_value(json_object_get(o, "via"));

		printf("identity: %s\n", json_string_value(json_object_get(o, "identity")));
		printf("known by: %s%s%s\n",
		       json_string_value(json_object_get(o, "authenticated_by")),
		       via ? " of site " : "", via ? via : "");
		printf("from:     %s\n", json_string_value(json_object_get(o, "peer")));
		printf("gateway:  %s\n", c->gateway);
		printf("admin:    %s\n", json_is_true(json_object_get(o, "admin"))
					     ? "yes (stats, routes, the whole inventory)"
					     : "no");
	}
	json_decref(o);
	return 0;
}
