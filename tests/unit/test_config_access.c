/* Tests for config/config.c's access-control settings: inventory groups, tunnels
 * (allow rules and tunnel targets) and the per-identity and buffer limits, each
 * validation error with the line it must name. */
#include <stdio.h>
#include <unistd.h>

#include "config/config.h"
#include "relay/err.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* groups = { ... }: members checked against the inventory wherever the targets are written;
 * globs kept as written; every error names its line. */
static void test_groups(void)
{
	const struct jg_group *g;
	struct jg_config *c;
	char path[32];

	c = tu_load_ok("groups = {\n"
		       "  web = [ \"web1\", \"web2\" ];\n"
		       "  db = ( \"db*\", \"local\" );\n"
		       "  none = [];\n"
		       "};\n"
		       "targets = ( { name = \"web1\"; method = \"local\"; },\n"
		       "  { name = \"web2\"; method = \"local\"; } );\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->ngroups, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g = jg_config_find_group(c, "web"));
	CU_ASSERT_EQUAL(g->nmembers, 2);
	CU_ASSERT_STRING_EQUAL(g->members[1], "web2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g = jg_config_find_group(c, "db"));
	CU_ASSERT_STRING_EQUAL(g->members[0], "db*");
	CU_ASSERT_STRING_EQUAL(g->members[1], "local");
	CU_ASSERT_EQUAL(jg_config_find_group(c, "none")->nmembers, 0);
	CU_ASSERT_PTR_NULL(jg_config_find_group(c, "web1"));
	jg_config_free(c);
	unlink(path);

	tu_expect_error("targets = ( { name = \"web1\"; method = \"local\"; } );\n"
			"groups = {\n  web = [ \"web1\",\n    \"web9\" ];\n};\n",
			JG_ERR_CONFIG, 4,
			"groups.web[1]: \"web9\" is not an inventory target (members are target "
			"names or globs over them)");
	tu_expect_error("groups = {\n  web = \"web1\";\n};\n", JG_ERR_CONFIG, 2,
			"groups.web: must be an array");
	tu_expect_error("groups = {\n  web = [ 1 ];\n};\n", JG_ERR_CONFIG, 2,
			"groups.web[0]: must be a string, not an integer");
	tu_expect_error("groups = {\n  local = [ \"local\" ];\n};\n", JG_ERR_CONFIG, 2,
			"groups.local: \"local\" is already an inventory target");
	tu_expect_error("groups = {\n  web = [ \"ssh:web*\" ];\n};\n", JG_ERR_CONFIG, 2,
			"groups.web[0]: glob \"ssh:web*\": ':' cannot match an inventory name");
	tu_expect_error("groups = [ \"web\" ];\n", JG_ERR_CONFIG, 1, "groups: must be a group");
	/* libconfig allows '*' in setting names; target names do not. */
	tu_expect_error("groups = {\n  w* = [ \"local\" ];\n};\n", JG_ERR_CONFIG, 2,
			"groups.w*: group name \"w*\" may contain only letters");
}

/* tunnels.allow entries split into globs; tunnel targets need a valid host. */
static void test_tunnels(void)
{
	char path[32];
	struct jg_config *c;

	c = tu_load_ok(
	    "targets = ( { name = \"office\"; method = \"tunnel\"; host = \"[::1]\"; } );\n"
	    "tunnels = { allow = [ \"web*:22\", \"db1:10.0.0.7:5432\", \"x:[::1]:*\",\n"
	    "  \"ssh:db7:localhost:2?\" ]; };\n",
	    path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->tunnel_policy, JG_TUNNELS_LIST);
	CU_ASSERT_EQUAL_FATAL(c->ntunnel_rules, 4);
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[0].target, "web*");
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[0].host, "localhost");
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[0].port, "22");
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[1].host, "10.0.0.7");
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[2].host, "[::1]");
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[2].port, "*");
	CU_ASSERT_STRING_EQUAL(c->tunnel_rules[3].target, "ssh:db7");
	CU_ASSERT_EQUAL(jg_config_find_target(c, "office")->hop.method, JG_METHOD_TUNNEL);
	CU_ASSERT_STRING_EQUAL(jg_config_find_target(c, "office")->hop.ssh.host, "::1");
	jg_config_free(c);
	unlink(path);

	c = tu_load_ok("tunnels = { };\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->tunnel_policy, JG_TUNNELS_LIST);
	CU_ASSERT_EQUAL(c->ntunnel_rules, 0);
	jg_config_free(c);
	unlink(path);
	c = tu_load_ok("log_level = \"info\";\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->tunnel_policy, JG_TUNNELS_DEFAULT);
	jg_config_free(c);
	unlink(path);

	tu_expect_error("tunnels = [ \"a:1\" ];\n", JG_ERR_CONFIG, 1, "tunnels: must be a group");
	tu_expect_error("tunnels = { deny = [ ]; };\n", JG_ERR_CONFIG, 1,
			"tunnels.deny: unknown key");
	tu_expect_error("tunnels = {\n allow = [ \"web1\" ]; };\n", JG_ERR_CONFIG, 2,
			"tunnels.allow[0]: \"web1\" is not TARGET:PORT");
	tu_expect_error("tunnels = { allow = [ \"web1:0\" ]; };\n", JG_ERR_CONFIG, 1,
			"tunnels.allow[0]: \"web1:0\": port \"0\" is not 1-65535");
	tu_expect_error("tunnels = { allow = [ \"web1:ssh\" ]; };\n", JG_ERR_CONFIG, 1,
			"tunnels.allow[0]: \"web1:ssh\": port \"ssh\"");
	tu_expect_error("tunnels = { allow = [ \":22\" ]; };\n", JG_ERR_CONFIG, 1,
			"tunnels.allow[0]: \":22\": empty target");
	tu_expect_error("tunnels = { allow = [ \"a::22\" ]; };\n", JG_ERR_CONFIG, 1,
			"tunnels.allow[0]: \"a::22\": empty host");
	tu_expect_error("tunnels = { allow = [ \"a b:22\" ]; };\n", JG_ERR_CONFIG, 1,
			"tunnels.allow[0]: \"a b:22\": target has a space");
	tu_expect_error("targets = ( { name = \"o\"; method = \"tunnel\"; } );\n", JG_ERR_CONFIG, 1,
			"targets[0]: host missing (a tunnel target needs one)");
	tu_expect_error("targets = ( { name = \"o\"; method = \"tunnel\"; host = \"-oX\"; } );\n",
			JG_ERR_CONFIG, 1, "targets[0].host: host \"-oX\": must not start with '-'");
	tu_expect_error(
	    "targets = ( { name = \"o\"; method = \"tunnel\"; host = \"h\"; port = 2; } );\n",
	    JG_ERR_CONFIG, 1, "targets[0].port: unknown key (a tunnel target takes");
	tu_expect_error("targets = ( { name = \"o\"; method = \"nope\"; } );\n", JG_ERR_CONFIG, 1,
			"targets[0].method: unknown method \"nope\" (known: local, ssh, tunnel, "
			"sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
}

/* Limits and the Unix socket: defaults, values, ranges, a 64-bit budget. */
static void test_limits(void)
{
	char path[32], err[512];
	struct jg_config *c = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_config_default(&c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c->max_connections_per_identity, 64);
	CU_ASSERT_EQUAL(c->max_header_list_size, 65536);
	CU_ASSERT_EQUAL(c->buffer_budget, 268435456);
	CU_ASSERT_PTR_NULL(c->unix_socket);
	jg_config_free(c);

	c = tu_load_ok("max_connections_per_identity = 0;\n"
		       "max_header_list_size = 1024;\n"
		       "buffer_budget = 68719476736L;\n"
		       "unix_socket = \"/run/jumpgate/jumpgated.sock\";\n",
		       path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->max_connections_per_identity, 0);
	CU_ASSERT_EQUAL(c->max_header_list_size, 1024);
	CU_ASSERT_EQUAL(c->buffer_budget, 68719476736ULL);
	CU_ASSERT_STRING_EQUAL(c->unix_socket, "/run/jumpgate/jumpgated.sock");
	jg_config_free(c);
	unlink(path);

	c = tu_load_ok("buffer_budget = 1048576;\n", path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->buffer_budget, 1048576);
	jg_config_free(c);
	unlink(path);

	tu_expect_error("max_connections_per_identity = -1;\n", JG_ERR_CONFIG, 1,
			"max_connections_per_identity: -1 out of range 0-100000");
	tu_expect_error("\nmax_header_list_size = 1023;\n", JG_ERR_CONFIG, 2,
			"max_header_list_size: 1023 out of range 1024-1048576");
	tu_expect_error("max_header_list_size = 1048577;\n", JG_ERR_CONFIG, 1,
			"max_header_list_size: 1048577 out of range 1024-1048576");
	tu_expect_error("buffer_budget = 1048575;\n", JG_ERR_CONFIG, 1,
			"buffer_budget: 1048575 out of range 1048576 (1 MiB)");
	tu_expect_error("buffer_budget = 68719476737L;\n", JG_ERR_CONFIG, 1,
			"buffer_budget: 68719476737 out of range");
	tu_expect_error("buffer_budget = \"256M\";\n", JG_ERR_CONFIG, 1,
			"buffer_budget: must be an integer (bytes), not a string");
	tu_expect_error("unix_socket = \"run/jg.sock\";\n", JG_ERR_CONFIG, 1,
			"unix_socket: \"run/jg.sock\" is not an absolute path");
	tu_expect_error(
	    "unix_socket = "
	    "\"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\";\n",
	    JG_ERR_CONFIG, 1, "unix_socket: path longer than 107 bytes");
	tu_expect_error("unix_socket = 3;\n", JG_ERR_CONFIG, 1, "unix_socket: must be a string");
}

int jg_test_register_config_access(void)
{
	CU_pSuite s = CU_add_suite("config_access", NULL, NULL);

	if (s == NULL || CU_add_test(s, "inventory groups", test_groups) == NULL ||
	    CU_add_test(s, "tunnels and tunnel targets", test_tunnels) == NULL ||
	    CU_add_test(s, "limits and unix_socket", test_limits) == NULL)
		return -1;
	return 0;
}
