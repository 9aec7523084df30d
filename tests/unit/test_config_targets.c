/* Tests for the inventory half of jumpgated.conf (config/inventory.c, config/ssh_opts.c,
 * config/config.c): target entries and their errors, every ssh option of a target and of
 * ssh_defaults (inherited and overridden), the pool, child_nofile and agents; each
 * validation error with the line it must name.  The rest of the file's keys are in
 * tests/unit/test_config.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "relay/err.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

static void test_ssh_ciphers_key(void)
{
	char path[32];
	struct jg_config *c;

	c = tu_load_ok("ssh_defaults = { ciphers = \"aes256-gcm@openssh.com,aes128-ctr\"; };\n"
		       "targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\"; "
		       "ciphers = \"\"; } );\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->ssh_defaults.ssh.ciphers, "aes256-gcm@openssh.com,aes128-ctr");
	/* "" leaves the choice to ssh_config, also against an inherited list. */
	for (size_t i = 0; i < c->ntargets; i++)
		if (strcmp(c->targets[i].name, "w") == 0) {
			CU_ASSERT_PTR_NULL(c->targets[i].hop.ssh.ciphers);
		}
	jg_config_free(c);
	tu_expect_error(
	    "ssh_defaults = { ciphers = \"aes128-ctr -oProxyCommand=x\"; };\n", JG_ERR_CONFIG, 1,
	    "ssh_defaults.ciphers: \"aes128-ctr -oProxyCommand=x\" is not a cipher list");
}

static void test_target_errors(void)
{
	tu_expect_error("targets = (\n  { name = \"-web\"; method = \"local\"; }\n);\n",
			JG_ERR_CONFIG, 2,
			"targets[0].name: \"-web\" must not start with '-' or '.'");
	tu_expect_error("targets = (\n  { name = \".web\"; method = \"local\"; }\n);\n",
			JG_ERR_CONFIG, 2,
			"targets[0].name: \".web\" must not start with '-' or '.'");
	tu_expect_error("targets = ( { name = \"web 1\"; method = \"local\"; } );\n", JG_ERR_CONFIG,
			1, "targets[0].name: \"web 1\" may contain only letters");
	tu_expect_error("targets = ( { name = \"web/1\"; method = \"local\"; } );\n", JG_ERR_CONFIG,
			1, "targets[0].name: \"web/1\" may contain only letters");
	tu_expect_error("targets = ( { name = \"\"; method = \"local\"; } );\n", JG_ERR_CONFIG, 1,
			"targets[0].name: \"\" must not be empty");
	tu_expect_error("targets = ( { name = \"a123456789b123456789c123456789d123456789e123456789"
			"f123456789g1234\"; method = \"local\"; } );\n",
			JG_ERR_CONFIG, 1, "targets[0].name: \"a123456789");
	tu_expect_error("targets = (\n"
			"  { name = \"a\"; method = \"local\"; },\n"
			"  { name = \"b\"; method = \"local\"; },\n"
			"  { name = \"a\";\n"
			"    method = \"local\"; }\n"
			");\n",
			JG_ERR_CONFIG, 4,
			"targets[2].name: duplicate target \"a\" (first defined at line 2)");
	tu_expect_error("targets = (\n  { name = \"web\";\n    method = \"ssh\"; }\n);\n",
			JG_ERR_CONFIG, 2, "targets[0]: host missing (an ssh target needs one)");
	tu_expect_error("targets = (\n  { name = \"web\";\n    method = \"telnet\"; }\n);\n",
			JG_ERR_CONFIG, 3,
			"targets[0].method: unknown method \"telnet\" (known: local, ssh, tunnel, "
			"sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
	tu_expect_error("targets = (\n  { name = \"web\"; }\n);\n", JG_ERR_CONFIG, 2,
			"targets[0]: method missing");
	tu_expect_error("targets = (\n  { method = \"local\"; }\n);\n", JG_ERR_CONFIG, 2,
			"targets[0]: name missing");
	tu_expect_error("targets = ( { name = 5; method = \"local\"; } );\n", JG_ERR_CONFIG, 1,
			"targets[0].name: must be a string, not an integer");

	/* 64 characters is the limit, not over it. */
	char path[32];
	struct jg_config *c =
	    tu_load_ok("targets = ( { name = \"a123456789b123456789c123456789d123456789e123456789"
		       "f123456789g123\"; method = \"local\"; } );\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL(c);
	jg_config_free(c);
	unlink(path);
}

/* The directory a tu_load_ok() file is in, as the parser resolves it. */
static void tmp_dir(char *buf, size_t len)
{
	char real[PATH_MAX];

	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath("/tmp", real));
	snprintf(buf, len, "%s", real);
}

static void test_ssh_target(void)
{
	char *home = tu_swap_env("HOME", "/home/gw");
	char path[32], dir[PATH_MAX], want[PATH_MAX + 64];
	const struct jg_ssh_opts *o;
	struct jg_config *c;

	tmp_dir(dir, sizeof(dir));
	c = tu_load_ok(
	    "targets = (\n"
	    "  { name = \"web1\"; method = \"ssh\"; host = \"127.0.0.2\";\n"
	    "    user = \"deploy\"; port = 2222; identity_file = \"~/.ssh/id_ed25519\";\n"
	    "    check_host_keys = \"accept\"; known_hosts = \"kh/known_hosts\";\n"
	    "    connect_timeout = 5; keepalive_interval = 7; keepalive_count = 9;\n"
	    "    compression = true; ssh_args = [ \"-o\", \"Ciphers=aes128-ctr\" ];\n"
	    "    ssh_path = \"/usr/bin/ssh\"; identities_only = true;\n"
	    "    ssh_debug_level = 3; password = \"pw 'x\"; raw = true; },\n"
	    "  { name = \"v6\"; method = \"ssh\"; host = \"[::1]\"; ssh_path = \"ssh\"; },\n"
	    "  { name = \"home\"; method = \"ssh\"; host = \"h\"; identity_file = \"~\"; }\n"
	    ");\n",
	    path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->ntargets, 4);
	CU_ASSERT_EQUAL(c->targets[0].hop.method, JG_METHOD_SSH);
	o = &c->targets[0].hop.ssh;
	CU_ASSERT_STRING_EQUAL(o->host, "127.0.0.2");
	CU_ASSERT_STRING_EQUAL(o->user, "deploy");
	CU_ASSERT_EQUAL(o->port, 2222);
	CU_ASSERT_STRING_EQUAL(o->identity_file, "/home/gw/.ssh/id_ed25519");
	CU_ASSERT_EQUAL(o->check_host_keys, JG_HOSTKEYS_ACCEPT);
	snprintf(want, sizeof(want), "%s/kh/known_hosts", dir);
	CU_ASSERT_STRING_EQUAL(o->known_hosts, want);
	CU_ASSERT_EQUAL(o->connect_timeout_s, 5);
	CU_ASSERT_EQUAL(o->keepalive_interval_s, 7);
	CU_ASSERT_EQUAL(o->keepalive_count, 9);
	CU_ASSERT_EQUAL(o->compression, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o->ssh_args);
	CU_ASSERT_STRING_EQUAL(o->ssh_args[0], "-o");
	CU_ASSERT_STRING_EQUAL(o->ssh_args[1], "Ciphers=aes128-ctr");
	CU_ASSERT_PTR_NULL(o->ssh_args[2]);
	CU_ASSERT_STRING_EQUAL(o->ssh_path, "/usr/bin/ssh");
	CU_ASSERT_EQUAL(o->identities_only, 1);
	CU_ASSERT_EQUAL(o->debug_level, 3);
	CU_ASSERT_STRING_EQUAL(o->password, "pw 'x");
	CU_ASSERT_EQUAL(o->raw, 1);
	/* IPv6 in brackets in the file, bare in the options (as ssh wants it);
	 * a bare ssh_path is left to PATH. */
	o = &c->targets[1].hop.ssh;
	CU_ASSERT_STRING_EQUAL(o->host, "::1");
	CU_ASSERT_STRING_EQUAL(o->ssh_path, "ssh");
	/* Unset options are ssh_defaults' defaults. */
	CU_ASSERT_PTR_NULL(o->user);
	CU_ASSERT_EQUAL(o->port, 0);
	CU_ASSERT_EQUAL(o->check_host_keys, JG_HOSTKEYS_ENFORCE);
	CU_ASSERT_EQUAL(o->connect_timeout_s, 10);
	CU_ASSERT_EQUAL(o->keepalive_interval_s, 15);
	CU_ASSERT_EQUAL(o->keepalive_count, 3);
	CU_ASSERT_PTR_NULL(o->identity_file);
	CU_ASSERT_PTR_NULL(o->password);
	CU_ASSERT_STRING_EQUAL(c->targets[2].hop.ssh.identity_file, "/home/gw");
	CU_ASSERT_EQUAL(c->targets[3].hop.method, JG_METHOD_LOCAL);
	jg_config_free(c);
	unlink(path);

	/* Relative identity_file: against the file's directory. */
	c = tu_load_ok("ssh_defaults = { identity_file = \"keys/id\"; };\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	snprintf(want, sizeof(want), "%s/keys/id", dir);
	CU_ASSERT_STRING_EQUAL(c->ssh_defaults.ssh.identity_file, want);
	jg_config_free(c);
	unlink(path);
	tu_restore_env("HOME", home);
}

/* A test config sets check_host_keys, known_hosts and identity_file once;
 * every target inherits them, and may override each one. */
static void test_ssh_inheritance(void)
{
	char path[32];
	const struct jg_ssh_opts *a, *b;
	struct jg_config *c;

	/* ssh_defaults after the targets: it still applies. */
	c = tu_load_ok(
	    "targets = (\n"
	    "  { name = \"a\"; method = \"ssh\"; host = \"10.0.0.1\"; },\n"
	    "  { name = \"b\"; method = \"ssh\"; host = \"10.0.0.2\"; user = \"root\";\n"
	    "    check_host_keys = \"enforce\"; compression = false; ssh_args = [];\n"
	    "    keepalive_interval = 0; password = \"other\"; }\n"
	    ");\n"
	    "ssh_defaults = {\n"
	    "  user = \"deploy\"; port = 2200; check_host_keys = \"ignore\";\n"
	    "  known_hosts = \"/dev/null\"; identity_file = \"/k/id\";\n"
	    "  compression = true; ssh_args = [ \"-4\" ]; keepalive_interval = 30;\n"
	    "  password = \"pw\"; raw = true; identities_only = true; ssh_debug_level = 1;\n"
	    "};\n",
	    path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	a = &jg_config_find_target(c, "a")->hop.ssh;
	b = &jg_config_find_target(c, "b")->hop.ssh;
	CU_ASSERT_STRING_EQUAL(a->host, "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(a->user, "deploy");
	CU_ASSERT_EQUAL(a->port, 2200);
	CU_ASSERT_EQUAL(a->check_host_keys, JG_HOSTKEYS_IGNORE);
	CU_ASSERT_STRING_EQUAL(a->known_hosts, "/dev/null");
	CU_ASSERT_STRING_EQUAL(a->identity_file, "/k/id");
	CU_ASSERT_EQUAL(a->compression, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a->ssh_args);
	CU_ASSERT_STRING_EQUAL(a->ssh_args[0], "-4");
	CU_ASSERT_EQUAL(a->keepalive_interval_s, 30);
	CU_ASSERT_EQUAL(a->keepalive_count, 3);
	CU_ASSERT_STRING_EQUAL(a->password, "pw");
	CU_ASSERT_EQUAL(a->raw, 1);
	CU_ASSERT_EQUAL(a->identities_only, 1);
	CU_ASSERT_EQUAL(a->debug_level, 1);
	/* Overrides, including back to "off" and an empty list. */
	CU_ASSERT_STRING_EQUAL(b->user, "root");
	CU_ASSERT_EQUAL(b->port, 2200);
	CU_ASSERT_EQUAL(b->check_host_keys, JG_HOSTKEYS_ENFORCE);
	CU_ASSERT_STRING_EQUAL(b->known_hosts, "/dev/null");
	CU_ASSERT_EQUAL(b->compression, 0);
	CU_ASSERT_PTR_NULL(b->ssh_args);
	CU_ASSERT_EQUAL(b->keepalive_interval_s, 0);
	CU_ASSERT_STRING_EQUAL(b->password, "other");
	/* The defaults themselves, and no copy shared with a target. */
	CU_ASSERT_PTR_NULL(c->ssh_defaults.ssh.host);
	CU_ASSERT_STRING_EQUAL(c->ssh_defaults.ssh.user, "deploy");
	CU_ASSERT_PTR_NOT_EQUAL(c->ssh_defaults.ssh.user, a->user);
	CU_ASSERT_PTR_NOT_EQUAL(c->ssh_defaults.ssh.ssh_args, a->ssh_args);
	jg_config_free(c);
	unlink(path);
}

static void test_pool_and_agents(void)
{
	char path[32], dir[PATH_MAX], want[PATH_MAX + 64];
	struct jg_config *c;

	tmp_dir(dir, sizeof(dir));
	c = tu_load_ok("pool = { idle_timeout = 60; connect_timeout = 2.5;\n"
		       "  keepalive_interval = 0.25; };\n"
		       "child_nofile = 64;\n"
		       "agents = [ \"/opt/jg/agent-aarch64\", \"agents/agent-armv7l\" ];\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->pool_idle_timeout_ms, 60000);
	CU_ASSERT_EQUAL(c->connect_timeout_ms, 2500);
	CU_ASSERT_EQUAL(c->keepalive_interval_ms, 250);
	CU_ASSERT_EQUAL(c->child_nofile, 64);
	CU_ASSERT_EQUAL_FATAL(c->nagent_paths, 2);
	CU_ASSERT_STRING_EQUAL(c->agent_paths[0], "/opt/jg/agent-aarch64");
	snprintf(want, sizeof(want), "%s/agents/agent-armv7l", dir);
	CU_ASSERT_STRING_EQUAL(c->agent_paths[1], want);
	CU_ASSERT_PTR_NULL(c->agent_paths[2]);
	jg_config_free(c);
	unlink(path);

	c = tu_load_ok("child_nofile = 1048576;\nagents = [];\npool = { };\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->child_nofile, 1048576);
	CU_ASSERT_EQUAL(c->nagent_paths, 0);
	CU_ASSERT_EQUAL(c->pool_idle_timeout_ms, 300000);
	jg_config_free(c);
	unlink(path);

	tu_expect_error("pool = {\n  idle_timeout = 0;\n};\n", JG_ERR_CONFIG, 2,
			"pool.idle_timeout: 0 seconds out of range: must be > 0 and <= 3600");
	tu_expect_error("pool = {\n\n  idle = 5;\n};\n", JG_ERR_CONFIG, 3,
			"pool.idle: unknown key (pool takes idle_timeout, connect_timeout and "
			"keepalive_interval)");
	tu_expect_error("pool = { connect_timeout = \"5\"; };\n", JG_ERR_CONFIG, 1,
			"pool.connect_timeout: must be a number of seconds, not a string");
	tu_expect_error("pool = 5;\n", JG_ERR_CONFIG, 1, "pool: must be a group");
	tu_expect_error("\nchild_nofile = 63;\n", JG_ERR_CONFIG, 2,
			"child_nofile: 63 out of range 64-1048576");
	tu_expect_error("child_nofile = 1048577;\n", JG_ERR_CONFIG, 1,
			"child_nofile: 1048577 out of range 64-1048576");
	tu_expect_error("agents = \"/opt/a\";\n", JG_ERR_CONFIG, 1,
			"agents: must be a list of strings");
	tu_expect_error("agents = [ 1, 2 ];\n", JG_ERR_CONFIG, 1,
			"agents[0]: must be a string, not an integer");
	/* libconfig numbers a list's last scalar by the token after it, so the
	 * closing parenthesis shares its line here. */
	tu_expect_error("agents = (\n  \"a\",\n  \"\" );\n", JG_ERR_CONFIG, 3,
			"agents[1]: must not be empty");
}

static void test_ssh_errors(void)
{
	char *home = tu_swap_env("HOME", "/home/gw");

	/* Injection through the inventory is refused like through a request. */
	tu_expect_error("targets = (\n  { name = \"w\"; method = \"ssh\";\n"
			"    host = \"-oProxyCommand=x\"; }\n);\n",
			JG_ERR_CONFIG, 3,
			"targets[0].host: host \"-oProxyCommand=x\": must not start with '-'");
	tu_expect_error("targets = ( { name = \"w\"; method = \"ssh\"; host = \"a;b\"; } );\n",
			JG_ERR_CONFIG, 1,
			"targets[0].host: host \"a;b\": character ';' is not allowed");
	tu_expect_error("targets = ( { name = \"w\"; method = \"ssh\"; host = \"::1\"; } );\n",
			JG_ERR_CONFIG, 1,
			"targets[0].host: host \"::1\": an IPv6 address goes in brackets");
	tu_expect_error("targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\";\n"
			"  user = \"a b\"; } );\n",
			JG_ERR_CONFIG, 2,
			"targets[0].user: user \"a b\": whitespace is not allowed");
	tu_expect_error(
	    "targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\";\n\n"
	    "  check_host_keys = \"yes\"; } );\n",
	    JG_ERR_CONFIG, 3,
	    "targets[0].check_host_keys: \"yes\" is not one of enforce, accept, ignore");
	tu_expect_error("targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\";\n"
			"  port = 0; } );\n",
			JG_ERR_CONFIG, 2, "targets[0].port: 0 out of range 1-65535");
	tu_expect_error(
	    "targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\"; port = 65536; } );\n",
	    JG_ERR_CONFIG, 1, "targets[0].port: 65536 out of range 1-65535");
	tu_expect_error(
	    "targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\"; port = \"22\"; } );\n",
	    JG_ERR_CONFIG, 1, "targets[0].port: must be an integer, not a string");
	tu_expect_error("targets = (\n  { name = \"w\"; method = \"ssh\"; host = \"h\";\n"
			"    prot = 22; }\n);\n",
			JG_ERR_CONFIG, 3, "targets[0].prot: unknown key");
	tu_expect_error("targets = (\n  { name = \"w\"; method = \"local\";\n"
			"    host = \"h\"; }\n);\n",
			JG_ERR_CONFIG, 3,
			"targets[0].host: unknown key (a local target takes only name and method)");
	tu_expect_error("targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\";\n"
			"  identity_file = \"~root/.ssh/id\"; } );\n",
			JG_ERR_CONFIG, 2,
			"targets[0].identity_file: \"~root/.ssh/id\": \"~user\" is not supported");
	tu_expect_error("ssh_defaults = {\n  known_hosts = \"\";\n};\n", JG_ERR_CONFIG, 2,
			"ssh_defaults.known_hosts: must not be empty");
	tu_expect_error("ssh_defaults = {\n  host = \"h\";\n};\n", JG_ERR_CONFIG, 2,
			"ssh_defaults.host: not allowed (the host comes from the target spec)");
	tu_expect_error("ssh_defaults = {\n  name = \"h\";\n};\n", JG_ERR_CONFIG, 2,
			"ssh_defaults.name: unknown key");
	tu_expect_error("ssh_defaults = \"x\";\n", JG_ERR_CONFIG, 1,
			"ssh_defaults: must be a group");
	tu_expect_error("ssh_defaults = { compression = 1; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.compression: must be true or false, not an integer");
	tu_expect_error("ssh_defaults = { ssh_debug_level = 4; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.ssh_debug_level: 4 out of range 0-3");
	tu_expect_error("ssh_defaults = { connect_timeout = 3601; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.connect_timeout: 3601 out of range 0-3600");
	tu_expect_error("ssh_defaults = { password = \"\"; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.password: must not be empty");
	tu_expect_error("ssh_defaults = { password = \"a\\nb\"; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.password: must not be empty or contain a line break");
	tu_expect_error("ssh_defaults = {\n  ssh_args = ( \"-v\",\n  3 );\n};\n", JG_ERR_CONFIG, 3,
			"ssh_defaults.ssh_args[1]: must be a string, not an integer");
	tu_expect_error("ssh_defaults = { ssh_args = [ \"\" ]; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.ssh_args[0]: must not be empty");
	tu_expect_error("ssh_defaults = { ssh_args = \"-v\"; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.ssh_args: must be a list of strings");
	tu_expect_error("ssh_defaults = { ssh_path = \"-ssh\"; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.ssh_path: \"-ssh\" must not start with '-'");
	/* An error in ssh_defaults is reported even when a target comes first. */
	tu_expect_error("targets = ( { name = \"w\"; method = \"ssh\"; host = \"h\"; } );\n"
			"ssh_defaults = { user = \"-x\"; };\n",
			JG_ERR_CONFIG, 2,
			"ssh_defaults.user: user \"-x\": must not start with '-'");

	/* "~/" needs HOME; the gateway never looks the user up instead. */
	unsetenv("HOME");
	tu_expect_error("ssh_defaults = { identity_file = \"~/.ssh/id\"; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.identity_file: \"~/.ssh/id\": HOME is not set");
	setenv("HOME", "relative", 1);
	tu_expect_error("ssh_defaults = { known_hosts = \"~/kh\"; };\n", JG_ERR_CONFIG, 1,
			"ssh_defaults.known_hosts: \"~/kh\": HOME is not an absolute path");
	tu_restore_env("HOME", home);
}

int jg_test_register_config_targets(void)
{
	static const struct tu_test tests[] = {
	    {"ssh ciphers key", test_ssh_ciphers_key},
	    {"target errors", test_target_errors},
	    {"ssh target, every option", test_ssh_target},
	    {"ssh_defaults inherited and overridden", test_ssh_inheritance},
	    {"pool, child_nofile, agents", test_pool_and_agents},
	    {"ssh option errors", test_ssh_errors},
	};

	return tu_add_suite("config_targets", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
