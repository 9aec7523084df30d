/* auth/policy: rules from real configuration text, every dimension, first match wins,
 * default deny, and the built-in default. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include <event2/buffer.h>

#include "auth/policy.h"
#include "config/config.h"
#include "relay/pathrule.h"
#include "suites.h"

static char conf_path[32];

/* Load TEXT (state_dir set, so nothing is looked up) as a configuration. */
static struct jg_config *load(const char *text)
{
	char err[512] = "";
	struct jg_config *c = NULL;
	FILE *f;
	int fd;

	strcpy(conf_path, "/tmp/jgpol-XXXXXX");
	fd = mkstemp(conf_path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "state_dir = \"/tmp/jgpol-state\";\n%s", text);
	fclose(f);
	if (jg_config_load(conf_path, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "\n  config error: %s\n", err);
	unlink(conf_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static const char *
    RULES = "targets = ( { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; },\n"  /* 2 */
	    "            { name = \"web2\"; method = \"ssh\"; host = \"127.0.0.3\"; },\n"  /* 3 */
	    "            { name = \"db1\"; method = \"ssh\"; host = \"127.0.0.4\"; } );\n" /* 4 */
	    "groups = { web = [ \"web*\" ]; };\n"					   /* 5 */
	    "policy = (\n"								   /* 6 */
	    " { name = \"no-mallory\"; identities = [ \"mallory\" ]; allow = false; },\n"  /* 7 */
	    " { name = \"ops\"; identities = [ \"ops-*\" ]; targets = [ \"group:web\", "
	    "\"ssh:*@db*\" ];\n" /* 8 */
	    "   actions = [ \"exec\", \"put\", \"get\" ]; commands = [ \"systemctl\", "
	    "\"/usr/bin/*\" ];\n"
	    "   paths = [ \"/srv/\", \"/etc/app\" ]; allow = true; },\n"
	    " { name = \"ops-deny\"; identities = [ \"ops-*\" ]; allow = false; },\n" /* 11 */
	    " { name = \"admin\"; identities = [ \"root\" ]; actions = [ \"*\" ]; allow = true; }\n"
	    ");\n";

static int check(const struct jg_config *c, const char *id, const char *action, const char *target,
		 const char *key, const char *argv0, const char *path, char *reason, size_t len)
{
	struct jg_policy_req req = {.identity = id,
				    .action = action,
				    .target = target,
				    .key = key,
				    .argv0 = argv0,
				    .path = path};

	return jg_policy_check(c, &req, reason, len);
}

static void test_dimensions(void)
{
	struct jg_config *c = load(RULES);
	char why[300], want[300];

	/* identity glob, group target, exec with an allowed command */
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "exec", "web1", "web1", "systemctl", NULL, why, sizeof(why)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "allowed by rule \"ops\""));
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "exec", "web2", "web2", "/usr/bin/id", NULL, why, sizeof(why)), 1);
	/* a command outside the allow-list: "ops" does not match, "ops-deny" does */
	CU_ASSERT_EQUAL(check(c, "ops-ann", "exec", "web1", "web1", "rm", NULL, why, sizeof(why)),
			0);
	snprintf(want, sizeof(want), "denied by rule \"ops-deny\" (%s:11)", conf_path);
	CU_ASSERT_STRING_EQUAL(why, want);
	/* target: the spec pattern matches the resolved key; a target outside policy */
	CU_ASSERT_EQUAL(check(c, "ops-ann", "exec", "db1x", "ssh:deploy@db1x:22", "systemctl", NULL,
			      why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "exec", "db1", "db1", "systemctl", NULL, why, sizeof(why)), 0);
	/* group membership needs an inventory name: a spec named like a member is not one */
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "exec", "web9", "web9", "systemctl", NULL, why, sizeof(why)), 0);
	/* paths: prefixes on component boundaries; commands do not narrow put/get */
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "put", "web1", "web1", NULL, "/srv/app.tar", why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "get", "web1", "web1", NULL, "/etc/app", why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "get", "web1", "web1", NULL, "/etc/app/x.conf", why, sizeof(why)),
	    1);
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "get", "web1", "web1", NULL, "/etc/apps", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(
	    check(c, "ops-ann", "put", "web1", "web1", NULL, "/etc/passwd", why, sizeof(why)), 0);
	/* actions */
	CU_ASSERT_EQUAL(check(c, "ops-ann", "tunnel", "web1", "web1", NULL, NULL, why, sizeof(why)),
			0);
	CU_ASSERT_EQUAL(check(c, "root", "tunnel", "web1", "web1", NULL, NULL, why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(check(c, "root", "admin", NULL, NULL, NULL, NULL, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check(c, "root", "reset", "db1", "db1", NULL, NULL, why, sizeof(why)), 1);
	jg_config_free(c);
}

/* become narrows the accounts a chain's hops become: every one must match. */
static void test_become(void)
{
	struct jg_config *c = load(
	    "policy = (\n"
	    " { name = \"dba\"; identities = [ \"dba\" ]; become = [ \"postgres\", \"pg-*\" ];\n"
	    "   allow = true; },\n"
	    " { name = \"rest\"; allow = false; }\n"
	    ");\n");
	const char *pg[] = {"postgres"}, *two[] = {"pg-admin", "root"}, *none[] = {NULL};
	struct jg_policy_req req = {.identity = "dba", .action = "exec", .target = "db1/sudo:x",
				    .key = "db1/sudo:x", .argv0 = "psql"};
	char why[300];

	req.become = pg;
	req.nbecome = 1;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "allowed by rule \"dba\""));
	/* one hop outside the list is enough to fall through to the next rule */
	req.become = two;
	req.nbecome = 2;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "denied by rule \"rest\""));
	/* a chain that becomes no one is not narrowed */
	req.become = none;
	req.nbecome = 0;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	jg_config_free(c);
}

static void test_first_match_and_default_deny(void)
{
	struct jg_config *c = load(RULES);
	char why[300], want[300];

	/* mallory would match "admin" if it were root; the first rule denies first */
	CU_ASSERT_EQUAL(
	    check(c, "mallory", "exec", "web1", "web1", "systemctl", NULL, why, sizeof(why)), 0);
	snprintf(want, sizeof(want), "denied by rule \"no-mallory\" (%s:7)", conf_path);
	CU_ASSERT_STRING_EQUAL(why, want);
	CU_ASSERT_EQUAL(check(c, "nobody", "exec", "web1", "web1", "id", NULL, why, sizeof(why)),
			0);
	CU_ASSERT_STRING_EQUAL(why, "no rule matched");
	CU_ASSERT_EQUAL(check(c, "", "admin", NULL, NULL, NULL, NULL, why, sizeof(why)), 0);
	jg_config_free(c);

	/* a file without a policy key denies everything */
	c = load("log_level = \"info\";\n");
	CU_ASSERT_EQUAL(c->npolicy, 0);
	CU_ASSERT_EQUAL(check(c, "root", "exec", "local", "local", "id", NULL, why, sizeof(why)),
			0);
	CU_ASSERT_STRING_EQUAL(why, "no rule matched");
	jg_config_free(c);
}

static void test_builtin_default(void)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *saved = getenv("JUMPGATE_HOME");
	char *keep = saved ? strdup(saved) : NULL, why[300], err[300];
	struct jg_config *c = NULL;

	setenv("JUMPGATE_HOME", "/tmp/jgpol-home", 1);
	CU_ASSERT_EQUAL_FATAL(jg_config_default(&c, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	CU_ASSERT_EQUAL(
	    check(c, pw->pw_name, "exec", "local", "local", "sh", NULL, why, sizeof(why)), 1);
	CU_ASSERT_STRING_EQUAL(why, "allowed by rule \"built-in\" (built-in)");
	CU_ASSERT_EQUAL(
	    check(c, pw->pw_name, "tunnel", "local", "local", NULL, NULL, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(
	    check(c, "someone-else", "exec", "local", "local", "sh", NULL, why, sizeof(why)), 0);
	jg_config_free(c);
	if (keep != NULL)
		setenv("JUMPGATE_HOME", keep, 1);
	else
		unsetenv("JUMPGATE_HOME");
	free(keep);
}

/* Loading TEXT fails with a message naming WHAT. */
static void expect_bad(const char *text, const char *what)
{
	char path[32] = "/tmp/jgpol-XXXXXX", err[512] = "";
	struct jg_config *c = NULL;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	CU_ASSERT_NOT_EQUAL(jg_config_load(path, &c, err, sizeof(err)), 0);
	if (strstr(err, what) == NULL)
		fprintf(stderr, "\n  got: %s\n  want: ...%s...\n", err, what);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	jg_config_free(c);
	unlink(path);
}

static void test_bad_rules(void)
{
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; } );\n",
		   ":2: policy: rule \"a\": allow = true or false is required");
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { allow = true; } );\n",
		   "a rule needs a name");
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; actions = [\"rm\"]; "
		   "allow = true; } );\n",
		   "\"rm\" is not one of exec");
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; paths = [\"srv\"]; "
		   "allow = true; } );\n",
		   "\"srv\" is not an absolute path");
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; users = [\"x\"]; "
		   "allow = true; } );\n",
		   "unknown policy key");
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; setid = \"yes\"; "
		   "allow = true; } );\n",
		   "setid");
	expect_bad("state_dir=\"/tmp/x\";\nidentity = \"email\";\n", "is not one of cn, san-uri");
}

/* The rules an agent judges real paths by: first match over "+"/"-" prefixes. */
static void test_pathrule(void)
{
	static const char r[] = "-/srv/x/private\0+/srv/x/\0+/etc/app\0";
	char why[200];

	CU_ASSERT_EQUAL(jg_pathrule_valid(r, sizeof(r) - 1, why, sizeof(why)), 0);
	CU_ASSERT_NOT_EQUAL(jg_pathrule_valid("+/a", 3, why, sizeof(why)), 0); /* no NUL */
	CU_ASSERT_NOT_EQUAL(jg_pathrule_valid("/a", 3, why, sizeof(why)), 0);  /* no sign */
	CU_ASSERT_NOT_EQUAL(jg_pathrule_valid("+a", 3, why, sizeof(why)), 0);  /* relative */
	CU_ASSERT_NOT_EQUAL(jg_pathrule_valid("", 0, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/srv/x"), 1);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/srv/x/a/b"), 1);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/srv/x/private"), 0);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/srv/x/private/s"), 0);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/srv/x/privatex"), 1);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/srv/xy"), 0);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/etc/shadow"), 0);
	CU_ASSERT_EQUAL(jg_pathrule_allows(r, sizeof(r) - 1, "/etc/app/c"), 1);

	static const struct {
		const char *dir, *target, *want;
	} lex[] = {
	    {"/srv/x", "a", "/srv/x/a"},
	    {"/srv/x", "../../etc", "/etc"},
	    {"/srv/x", "/etc/shadow", "/etc/shadow"},
	    {"/srv/x", "./a//b/", "/srv/x/a/b"},
	    {"/", "../../..", "/"},
	    {"/srv/x", "..", "/srv"},
	    {"/srv/x", "/srv/x/../../secret", "/secret"},
	};
	for (size_t i = 0; i < sizeof(lex) / sizeof(lex[0]); i++) {
		char *got = jg_path_lexical(lex[i].dir, lex[i].target);

		CU_ASSERT_PTR_NOT_NULL_FATAL(got);
		if (strcmp(got, lex[i].want) != 0)
			fprintf(stderr, "\n  %s + %s: got %s, want %s\n", lex[i].dir, lex[i].target,
				got, lex[i].want);
		CU_ASSERT_STRING_EQUAL(got, lex[i].want);
		free(got);
	}
}

/* What the gateway hands an agent for a path-restricted identity (and nothing for one
 * without `paths`). */
static void test_path_rules(void)
{
	struct jg_config *c = load(RULES);
	struct jg_policy_req req = {
	    .identity = "ops-ann", .action = "get", .target = "web1", .key = "web1"};
	struct evbuffer *b = evbuffer_new();
	static const char want_ops[] = "+/srv/\0+/etc/app\0-/\0";

	CU_ASSERT_EQUAL(jg_policy_path_rules(c, &req, b), 1);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), sizeof(want_ops) - 1);
	CU_ASSERT(memcmp(evbuffer_pullup(b, -1), want_ops, sizeof(want_ops) - 1) == 0);
	evbuffer_drain(b, evbuffer_get_length(b));
	/* root's rule has no paths and allows: unrestricted, nothing added */
	req.identity = "root";
	CU_ASSERT_EQUAL(jg_policy_path_rules(c, &req, b), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), 0);
	/* not a file action */
	req.identity = "ops-ann";
	req.action = "exec";
	CU_ASSERT_EQUAL(jg_policy_path_rules(c, &req, b), 0);
	evbuffer_free(b);
	jg_config_free(c);
}

/* L5: setuid/setgid/sticky bits in a put need an allow rule with setid = true; deny
 * rules match such puts as any other. */
static void test_setid(void)
{
	struct jg_config *c =
	    load("policy = (\n"
		 " { name = \"no-eve\"; identities = [ \"eve\" ]; allow = false; },\n"
		 " { name = \"ci\"; identities = [ \"ci\" ]; allow = true; },\n"
		 " { name = \"root\"; identities = [ \"root\" ]; setid = true; "
		 "allow = true; },\n"
		 " { name = \"all\"; setid = true; allow = true; }\n"
		 ");\n");
	struct jg_policy_req req = {
	    .identity = "ci", .action = "put", .target = "web1", .path = "/srv/a", .setid = 04000};
	char why[400];

	/* ci's rule lacks setid: it does not match; "all" does (setid = true) */
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "rule \"all\""));
	jg_config_free(c);

	c = load("policy = (\n"
		 " { name = \"ci\"; identities = [ \"ci\" ]; allow = true; },\n"
		 " { name = \"root\"; identities = [ \"root\" ]; setid = true; allow = true; },\n"
		 " { name = \"no-eve\"; identities = [ \"eve\" ]; allow = false; },\n"
		 " { name = \"eve\"; identities = [ \"eve\" ]; setid = true; allow = true; }\n"
		 ");\n");
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no rule matched"));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "rule \"ci\" does not grant (it needs setid = true)"));
	req.setid = 01000; /* sticky */
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	req.setid = 0;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	req.setid = 02000;
	req.action = "get"; /* only puts carry a mode */
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	req.action = "put";
	req.identity = "root";
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	/* a deny rule matches a set-id put as any other put */
	req.identity = "eve";
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "denied by rule \"no-eve\""));
	jg_config_free(c);
}

int jg_test_register_policy(void)
{
	CU_pSuite s = CU_add_suite("policy", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "every dimension; narrowing falls through", test_dimensions) == NULL ||
	    CU_add_test(s, "become narrows the accounts of a chain", test_become) == NULL ||
	    CU_add_test(s, "first match wins, default deny", test_first_match_and_default_deny) ==
		NULL ||
	    CU_add_test(s, "built-in default: own identity only", test_builtin_default) == NULL ||
	    CU_add_test(s, "bad rules named with file:line", test_bad_rules) == NULL ||
	    CU_add_test(s, "path rules judge real paths (relay/pathrule)", test_pathrule) == NULL ||
	    CU_add_test(s, "path rules handed to the agent", test_path_rules) == NULL ||
	    CU_add_test(s, "set-id bits need setid = true", test_setid) == NULL)
		return -1;
	return 0;
}
