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
#include "config/target.h"
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

static const char *RULES =
    "targets = ( { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; },\n"  /* 2 */
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
	struct jg_policy_req req = {.identity = "dba",
				    .action = "exec",
				    .target = "db1/sudo:x",
				    .key = "db1/sudo:x",
				    .argv0 = "psql"};
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

/* Resolve TEXT as the gateway does and judge ACTION on it for ID: 1, 0, or -1 when the
 * target itself is refused (a 400 before policy). */
static int check_resolved(const struct jg_config *c, const char *id, const char *action,
			  const char *text, const char *argv0, char *why, size_t len)
{
	const char *become[JG_CHAIN_MAX_HOPS];
	struct jg_policy_req req = {
	    .identity = id, .action = action, .target = text, .argv0 = argv0, .become = become};
	struct jg_chain *ch = NULL;
	int r;

	if (jg_target_resolve(c, text, &ch, why, len) != 0)
		return -1;
	req.key = ch->key;
	req.canon = ch->canon;
	req.nbecome = jg_chain_become(ch, become, JG_CHAIN_MAX_HOPS);
	r = jg_policy_check(c, &req, why, len);
	jg_chain_free(ch);
	return r;
}

/* Deny rules hold against every alias of what they name (issue 13, H1): each of three
 * identities is denied 127.0.1.3 one way, and allowed everything else. */
static void test_deny_aliases(void)
{
	struct jg_config *c = load(
	    "targets = ( { name = \"t3\"; method = \"ssh\"; host = \"127.0.1.3\"; port = 2222;\n"
	    "              user = \"jgeve\"; },\n"
	    "            { name = \"t3b\"; method = \"ssh\"; host = \"127.0.1.3\"; port = 2222;\n"
	    "              user = \"root\"; },\n"
	    "            { name = \"box3\"; method = \"tunnel\"; host = \"127.0.1.3\"; },\n"
	    "            { name = \"t4\"; method = \"ssh\"; host = \"127.0.1.4\"; port = 2222; } "
	    ");\n"
	    "groups = { three = [ \"t3\" ]; };\n"
	    "policy = (\n"
	    " { name = \"no-t3\"; identities = [ \"a\" ]; targets = [ \"t3\" ]; allow = false; },\n"
	    " { name = \"no-spec\"; identities = [ \"b\" ]; targets = [ \"ssh:*@127.0.1.3:*\" ];\n"
	    "   allow = false; },\n"
	    " { name = \"no-glob\"; identities = [ \"c\" ]; targets = [ \"*127.0.1.3*\" ];\n"
	    "   allow = false; },\n"
	    " { name = \"no-group\"; identities = [ \"d\" ]; targets = [ \"group:three\" ];\n"
	    "   allow = false; },\n"
	    " { name = \"rest\"; targets = [ \"*\", \"local*\" ]; allow = true; }\n"
	    ");\n");
	static const char *const ids[] = {"a", "b", "c", "d"};
	static const char *const same[] = {"t3",
					   "t3/sudo:root",
					   "t3b",
					   "t3b/sudo:root",
					   "ssh:root@127.0.1.3:2222",
					   "ssh:jgeve@127.0.1.3:2222",
					   "local/ssh:root@127.0.1.3:2222",
					   "ssh:root@[::ffff:127.0.1.3]:2222",
					   "local/t3b/su:root"};
	static const char *const numeric[] = {
	    "ssh:root@127.0.259:2222", "ssh:root@2130706691:2222", "ssh:root@0x7f.0.1.3:2222",
	    "ssh:root@0177.0.1.3:2222", "ssh:root@127.0.1.03:2222"};
	char why[300];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (size_t j = 0; j < sizeof(same) / sizeof(same[0]); j++) {
			int r = check_resolved(c, ids[i], "exec", same[j], "id", why, sizeof(why));

			if (r != 0 || strstr(why, "denied by rule \"no-") == NULL)
				fprintf(stderr, "\n  %s on %s: %d %s\n", ids[i], same[j], r, why);
			CU_ASSERT_EQUAL(r, 0);
		}
		for (size_t j = 0; j < sizeof(numeric) / sizeof(numeric[0]); j++)
			CU_ASSERT_EQUAL(
			    check_resolved(c, ids[i], "exec", numeric[j], "id", why, sizeof(why)),
			    -1);
		CU_ASSERT_EQUAL(check_resolved(c, ids[i], "exec", "t4", "id", why, sizeof(why)), 1);
		CU_ASSERT_EQUAL(check_resolved(c, ids[i], "exec", "ssh:root@127.0.1.4:2222", "id",
					       why, sizeof(why)),
				1);
	}
	/* a tunnel target for the host: any port of it is the host (the inventory rule) */
	CU_ASSERT_EQUAL(check_resolved(c, "a", "tunnel", "box3", NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(check_resolved(c, "c", "tunnel", "box3", NULL, why, sizeof(why)), 0);
	/* the same host, another port: a different sshd, not t3 */
	CU_ASSERT_EQUAL(
	    check_resolved(c, "a", "exec", "ssh:root@127.0.1.3:2223", "id", why, sizeof(why)), 1);
	jg_config_free(c);
}

/* local runs as the gateway's own account: only patterns beginning with "local" (or an
 * unscoped rule) grant it; deny rules still reach it (issue 13, H3). */
static void test_local_explicit(void)
{
	struct jg_config *c =
	    load("targets = ( { name = \"here\"; method = \"local\"; },\n"
		 "            { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; } );\n"
		 "groups = { all = [ \"*\" ]; };\n"
		 "policy = (\n"
		 " { name = \"no-eve\"; identities = [ \"eve\" ]; targets = [ \"*\" ]; allow = "
		 "false; },\n"
		 " { name = \"star\"; identities = [ \"ops\", \"eve\" ]; targets = [ \"*\", "
		 "\"group:all\" ];\n"
		 "   allow = true; },\n"
		 " { name = \"loc\"; identities = [ \"root\" ]; targets = [ \"local*\" ]; allow = "
		 "true; },\n"
		 " { name = \"any\"; identities = [ \"admin\" ]; allow = true; }\n"
		 ");\n");
	static const char *const locals[] = {"local", "here", "local/sudo:root",
					     "here/sudo:nobody"};
	char why[300];

	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		CU_ASSERT_EQUAL(check_resolved(c, "ops", "exec", locals[i], "id", why, sizeof(why)),
				0);
		CU_ASSERT_STRING_EQUAL(why, "no rule matched");
		CU_ASSERT_EQUAL(
		    check_resolved(c, "root", "exec", locals[i], "id", why, sizeof(why)), 1);
		CU_ASSERT_EQUAL(
		    check_resolved(c, "admin", "exec", locals[i], "id", why, sizeof(why)), 1);
		CU_ASSERT_EQUAL(check_resolved(c, "eve", "exec", locals[i], "id", why, sizeof(why)),
				0);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "denied by rule \"no-eve\""));
	}
	CU_ASSERT_EQUAL(check_resolved(c, "ops", "exec", "web1", "id", why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check_resolved(c, "ops", "exec", "web1/sudo:root", "id", why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(check_resolved(c, "root", "exec", "web1", "id", why, sizeof(why)), 0);
	jg_config_free(c);
}

static void collect(void *ud, const char *msg)
{
	char *buf = ud;

	strncat(buf, msg, 4000 - strlen(buf));
	strncat(buf, "\n", 4000 - strlen(buf));
}

/* The start-up warnings: no policy at all; local granted to other identities. */
static void test_lint(void)
{
	struct jg_config *c =
	    load("targets = ( { name = \"web1\"; method = \"ssh\"; host = \"h\"; } );\n");
	char got[4096] = "";

	jg_policy_lint(c, "root", collect, got);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "has no `policy`: every request will be refused"));
	jg_config_free(c);
	got[0] = '\0';
	c = load(
	    "policy = (\n"
	    " { name = \"mine\"; identities = [ \"root\", \"unix:root\" ]; allow = true; },\n"
	    " { name = \"web\"; identities = [ \"ops\" ]; targets = [ \"*\" ]; allow = true; },\n"
	    " { name = \"get\"; identities = [ \"ops\" ]; targets = [ \"local\" ];\n"
	    "   actions = [ \"get\" ]; allow = true; },\n"
	    " { name = \"opsl\"; identities = [ \"ops\" ]; targets = [ \"local/sudo:*\" ];\n"
	    "   allow = true; },\n"
	    " { name = \"all\"; allow = true; }\n"
	    ");\n");
	jg_policy_lint(c, "root", collect, got);
	CU_ASSERT_PTR_NULL(strstr(got, "no `policy`"));
	CU_ASSERT_PTR_NULL(strstr(got, "\"mine\""));
	CU_ASSERT_PTR_NULL(strstr(got, "\"web\""));
	CU_ASSERT_PTR_NULL(strstr(got, "\"get\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, ":7: policy rule \"opsl\" grants exec on local"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(got, "to \"ops\"; grant local to the operator's identity only"));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, ":9: policy rule \"all\" grants exec on local"));
	if (strstr(got, "to EVERY identity") == NULL)
		fprintf(stderr, "\n%s", got);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "to EVERY identity"));
	jg_config_free(c);
}

/* A rule scoped to targets never speaks about the gateway itself (issue 19): no admin
 * from it, and no deny either. */
static void test_admin_scope(void)
{
	struct jg_config *c = load(
	    "policy = (\n"
	    " { name = \"no-eve-web\"; identities = [ \"eve\" ]; targets = [ \"web*\" ];\n"
	    "   allow = false; },\n"
	    " { name = \"site-c\"; identities = [ \"mallory\", \"eve\" ]; targets = [ \"site-c/*\" "
	    "];\n"
	    "   allow = true; },\n"
	    " { name = \"stats\"; identities = [ \"eve\", \"ops\" ]; actions = [ \"admin\" ];\n"
	    "   allow = true; }\n"
	    ");\n");
	char why[300];

	CU_ASSERT_EQUAL(
	    check(c, "mallory", "admin", NULL, NULL, NULL, "/v1/stats", why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(why, "no rule matched");
	CU_ASSERT_EQUAL(
	    check(c, "mallory", "exec", "site-c/db1", NULL, "id", NULL, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check(c, "eve", "admin", NULL, NULL, NULL, "/v1/stats", why, sizeof(why)),
			1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "allowed by rule \"stats\""));
	CU_ASSERT_EQUAL(check(c, "ops", "admin", NULL, NULL, NULL, "/v1/targets", why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(check(c, "ops", "exec", "web1", "web1", "id", NULL, why, sizeof(why)), 0);
	jg_config_free(c);
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; targets = [\"web*\"];\n"
		   "actions = [\"exec\", \"admin\"]; allow = true; } );\n",
		   ":2: policy: rule \"a\": \"admin\" is about the gateway itself, not a target");
}

/* commands judge a normal argv[0] with FNM_PATHNAME (issue 19): "/usr/bin/<star>" is not a
 * way to anything through "..", "." or "//"; deny rules judge broadly. */
static void test_commands_normal(void)
{
	struct jg_config *c = load(
	    "policy = (\n"
	    " { name = \"no-sh\"; identities = [ \"ops\" ]; commands = [ \"*sh\" ]; allow = false; "
	    "},\n"
	    " { name = \"bin\"; commands = [ \"/usr/bin/*\", \"systemctl\" ]; allow = true; }\n"
	    ");\n");
	static const char *const refused[] = {
	    "/usr/bin/../../bin/sh", "/usr/bin/./id", "/usr/bin//id", "/usr/bin/", "/usr/bin/x/id",
	    "/usr/bin/..",	     "./systemctl",   "systemctl/",   ""};
	char why[300];

	CU_ASSERT_EQUAL(check(c, "ann", "exec", "t", "t", "/usr/bin/id", NULL, why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(check(c, "ann", "exec", "t", "t", "systemctl", NULL, why, sizeof(why)), 1);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CU_ASSERT_EQUAL(
		    check(c, "ann", "exec", "t", "t", refused[i], NULL, why, sizeof(why)), 0);
		CU_ASSERT_STRING_EQUAL(why, "no rule matched");
	}
	/* deny: '*' crosses '/', and an argv[0] that is not normal is denied outright */
	CU_ASSERT_EQUAL(check(c, "ops", "exec", "t", "t", "/usr/bin/bash", NULL, why, sizeof(why)),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "denied by rule \"no-sh\""));
	CU_ASSERT_EQUAL(check(c, "ops", "exec", "t", "t", "/usr/bin/./id", NULL, why, sizeof(why)),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "denied by rule \"no-sh\""));
	CU_ASSERT_EQUAL(check(c, "ops", "exec", "t", "t", "/usr/bin/id", NULL, why, sizeof(why)),
			1);
	jg_config_free(c);
}

/* become covers container hops that land as root (issue 19). */
static void test_become_containers(void)
{
	struct jg_config *c =
	    load("targets = ( { name = \"t4\"; method = \"ssh\"; host = \"127.0.1.4\"; },\n"
		 "            { name = \"ct\"; method = \"lxc\"; container = \"ctr\"; } );\n"
		 "policy = ( { name = \"eve\"; identities = [ \"eve\" ]; targets = [ \"t4*\" ];\n"
		 "   become = [ \"jgeve\", \"nobody\" ]; allow = true; } );\n");
	static const char *const refused[] = {
	    "t4/lxc:ctr",     "t4/docker:ctr",		"t4/ct",       "t4/lxd:ctr",
	    "t4/kubectl:pod", "t4/sudo:nobody/lxc:ctr", "t4/sudo:root"};
	char why[300];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CU_ASSERT_EQUAL(
		    check_resolved(c, "eve", "exec", refused[i], "id", why, sizeof(why)), 0);
		CU_ASSERT_STRING_EQUAL(why, "no rule matched");
	}
	CU_ASSERT_EQUAL(check_resolved(c, "eve", "exec", "t4", "id", why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check_resolved(c, "eve", "exec", "t4/sudo:nobody", "id", why, sizeof(why)),
			1);
	CU_ASSERT_EQUAL(
	    check_resolved(c, "eve", "exec", "t4/docker:jgeve@ctr", "id", why, sizeof(why)), 1);
	jg_config_free(c);
}

static int check_via(const struct jg_config *c, const char *id, const char *via, char *why,
		     size_t len)
{
	struct jg_policy_req req = {
	    .identity = id, .via = via, .action = "exec", .target = "t", .key = "t", .argv0 = "id"};

	return jg_policy_check(c, &req, why, len);
}

/* Rules tell asserted identities by the site that asserted them; another gateway's
 * "unix:" user is never this gateway's local user (issue 19, Low). */
static void test_via(void)
{
	struct jg_config *c = load(
	    "policy = (\n"
	    " { name = \"local-root\"; identities = [ \"unix:root\" ]; allow = true; },\n"
	    " { name = \"from-b\"; identities = [ \"ann\", \"unix:ann\" ]; via = [ \"site-b\" ];\n"
	    "   allow = true; },\n"
	    " { name = \"direct\"; identities = [ \"bob\" ]; via = [ \"-\" ]; allow = true; },\n"
	    " { name = \"anywhere\"; identities = [ \"cy\" ]; allow = true; }\n"
	    ");\n");
	char why[300];

	CU_ASSERT_EQUAL(check_via(c, "unix:root", NULL, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check_via(c, "unix:root", "site-b", why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(why, "no rule matched");
	CU_ASSERT_EQUAL(check_via(c, "ann", "site-b", why, sizeof(why)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "allowed by rule \"from-b\""));
	CU_ASSERT_EQUAL(check_via(c, "unix:ann", "site-b", why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check_via(c, "ann", NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(check_via(c, "ann", "site-c", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(check_via(c, "bob", NULL, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check_via(c, "bob", "site-b", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(check_via(c, "cy", NULL, why, sizeof(why)), 1);
	CU_ASSERT_EQUAL(check_via(c, "cy", "site-b", why, sizeof(why)), 1);
	jg_config_free(c);
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

/* Agent forwarding: a request forwarding the controller's ssh-agent needs an allow rule
 * with forward_agent = true (to the target: forward_agent_to_target = true); deny rules
 * match it as any other; the refusal names the rule that lacked the key. */
static void test_forward_agent(void)
{
	struct jg_config *c =
	    load("policy = (\n"
		 " { name = \"no-eve\"; identities = [ \"eve\" ]; allow = false; },\n"
		 " { name = \"ci\"; identities = [ \"ci\" ]; allow = true; },\n"
		 " { name = \"ops\"; identities = [ \"ops\" ]; forward_agent = true; "
		 "allow = true; },\n"
		 " { name = \"root\"; identities = [ \"root\" ]; "
		 "forward_agent_to_target = true; allow = true; },\n"
		 " { name = \"eve\"; identities = [ \"eve\" ]; forward_agent = true; "
		 "allow = true; }\n"
		 ");\n");
	struct jg_policy_req req = {.identity = "ci",
				    .action = "exec",
				    .target = "web1",
				    .argv0 = "true",
				    .agent = JG_POLICY_AGENT_GATEWAY};
	char why[400];

	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no rule matched"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(why, "rule \"ci\" does not grant (it needs forward_agent = true)"));
	req.agent = JG_POLICY_AGENT_NONE;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	req.identity = "ops";
	req.agent = JG_POLICY_AGENT_GATEWAY;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	req.agent = JG_POLICY_AGENT_TARGET; /* forward_agent alone does not go further */
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "(it needs forward_agent_to_target = true)"));
	req.identity = "root"; /* forward_agent_to_target implies forward_agent */
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	req.agent = JG_POLICY_AGENT_GATEWAY;
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 1);
	req.identity = "eve"; /* a deny rule matches a forwarding request as any other */
	CU_ASSERT_EQUAL(jg_policy_check(c, &req, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "denied by rule \"no-eve\""));
	jg_config_free(c);
	/* a key that is not a boolean: named */
	expect_bad("state_dir=\"/tmp/x\";\npolicy = ( { name = \"a\"; forward_agent = \"yes\"; "
		   "allow = true; } );\n",
		   "forward_agent");
}

static int may(const struct jg_config *c, const char *id, const char *action, const char *target)
{
	struct jg_policy_req req = {
	    .identity = id, .action = action, .target = target, .key = target};

	return jg_policy_may(c, &req);
}

/* jg_policy_may: the first rule decides as in jg_policy_check, but commands and paths are
 * not known: a narrowed allow is "some", a narrowed deny lets the next rules speak. */
static void test_may(void)
{
	struct jg_config *c = load(RULES);
	struct jg_config *d;

	CU_ASSERT_EQUAL(may(c, "ops-ann", "exec", "web1"), JG_POLICY_MAY_SOME);	 /* commands */
	CU_ASSERT_EQUAL(may(c, "ops-ann", "get", "web2"), JG_POLICY_MAY_SOME);	 /* paths */
	CU_ASSERT_EQUAL(may(c, "ops-ann", "tunnel", "web1"), JG_POLICY_MAY_NOT); /* ops-deny */
	CU_ASSERT_EQUAL(may(c, "ops-ann", "exec", "db1"), JG_POLICY_MAY_NOT);	 /* not in web */
	CU_ASSERT_EQUAL(may(c, "root", "exec", "db1"), JG_POLICY_MAY);
	CU_ASSERT_EQUAL(may(c, "root", "reset", "web1"), JG_POLICY_MAY);
	CU_ASSERT_EQUAL(may(c, "mallory", "exec", "web1"), JG_POLICY_MAY_NOT);
	CU_ASSERT_EQUAL(may(c, "stranger", "exec", "web1"), JG_POLICY_MAY_NOT); /* no rule */
	jg_config_free(c);

	d = load("targets = ( { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\"; } );\n"
		 "policy = ( { name = \"no-rm\"; actions = [ \"exec\" ]; commands = [ \"rm\" ];\n"
		 "    allow = false; },\n"
		 "  { name = \"all\"; allow = true; } );\n");
	CU_ASSERT_EQUAL(may(d, "ann", "exec", "web1"), JG_POLICY_MAY_SOME);
	CU_ASSERT_EQUAL(may(d, "ann", "put", "web1"), JG_POLICY_MAY);
	jg_config_free(d);
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
	    CU_add_test(s, "deny rules hold against aliases", test_deny_aliases) == NULL ||
	    CU_add_test(s, "local only for rules naming it", test_local_explicit) == NULL ||
	    CU_add_test(s, "start-up warnings", test_lint) == NULL ||
	    CU_add_test(s, "admin only from rules without targets", test_admin_scope) == NULL ||
	    CU_add_test(s, "commands judge a normal argv[0]", test_commands_normal) == NULL ||
	    CU_add_test(s, "become counts container hops as root", test_become_containers) ==
		NULL ||
	    CU_add_test(s, "via: asserted identities told by their site", test_via) == NULL ||
	    CU_add_test(s, "path rules judge real paths (relay/pathrule)", test_pathrule) == NULL ||
	    CU_add_test(s, "path rules handed to the agent", test_path_rules) == NULL ||
	    CU_add_test(s, "set-id bits need setid = true", test_setid) == NULL ||
	    CU_add_test(s, "agent forwarding needs forward_agent", test_forward_agent) == NULL ||
	    CU_add_test(s, "may: what a listing says an identity may do", test_may) == NULL)
		return -1;
	return 0;
}
