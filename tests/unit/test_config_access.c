/* Tests for config/config.c's access-control settings: inventory groups, tunnels
 * (allow rules and tunnel targets) and the per-identity and buffer limits, each
 * validation error with the line it must name; and the inventory keys of every onward
 * method (config/method_opts.c). */
#include <stdio.h>
#include <string.h>
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

/* ---- inventory entries of the onward methods (config/method_opts.c) ---- */

static void test_method_keys(void)
{
	const struct jg_target *t;
	struct jg_config *c;
	char path[32];

	c = tu_load_ok(
	    "targets = (\n"
	    "  { name = \"s1\"; method = \"sudo\"; user = \"pg\"; password = \"pw\"; login = "
	    "true;\n"
	    "    preserve_env = true; selinux_role = \"webadm_r\"; selinux_type = \"webadm_t\";\n"
	    "    sudo_path = \"/usr/local/bin/sudo\"; },\n"
	    "  { name = \"s2\"; method = \"su\"; user = \"root\"; su_path = \"/bin/su\";\n"
	    "    login = true; },\n"
	    "  { name = \"d1\"; method = \"doas\"; doas_path = \"/usr/bin/doas\"; password = "
	    "\"x\"; },\n"
	    "  { name = \"l1\"; method = \"lxc\"; container = \"pg\"; lxc_path = \"/srv/lxc\";\n"
	    "    lxc_attach_path = \"/opt/bin/lxc-attach\"; },\n"
	    "  { name = \"x1\"; method = \"lxd\"; container = \"c1\"; lxc_path = "
	    "\"/snap/bin/lxc\"; },\n"
	    "  { name = \"k1\"; method = \"docker\"; container = \"web\"; user = \"app\";\n"
	    "    docker_path = \"/usr/local/bin/docker\"; },\n"
	    "  { name = \"p1\"; method = \"kubectl\"; pod = \"api-0\"; container = \"app\";\n"
	    "    namespace = \"shop\"; context = \"prod-eu\"; kubectl_path = \"/opt/kubectl\";\n"
	    "    kubectl_args = [ \"--kubeconfig=/k/c\", \"--request-timeout=5s\" ]; },\n"
	    "  { name = \"n1\"; method = \"setns\"; pid = 42; user = \"www\"; },\n"
	    "  { name = \"n2\"; method = \"setns\"; kind = \"docker\"; container = \"web\";\n"
	    "    docker_path = \"/d/docker\"; },\n"
	    "  { name = \"n3\"; method = \"setns\"; container = \"m1\"; kind = \"machinectl\";\n"
	    "    machinectl_path = \"/bin/machinectl\"; }\n"
	    ");\n",
	    path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "s1"));
	CU_ASSERT_EQUAL(t->hop.method, JG_METHOD_SUDO);
	CU_ASSERT_STRING_EQUAL(t->hop.o.user, "pg");
	CU_ASSERT_STRING_EQUAL(t->hop.o.password, "pw");
	CU_ASSERT_EQUAL(t->hop.o.login, 1);
	CU_ASSERT_EQUAL(t->hop.o.preserve_env, 1);
	CU_ASSERT_STRING_EQUAL(t->hop.o.role, "webadm_r");
	CU_ASSERT_STRING_EQUAL(t->hop.o.type, "webadm_t");
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/usr/local/bin/sudo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "s2"));
	CU_ASSERT_EQUAL(t->hop.method, JG_METHOD_SU);
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/bin/su");
	CU_ASSERT_EQUAL(t->hop.o.login, 1);
	CU_ASSERT_PTR_NULL(t->hop.o.password);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "d1"));
	CU_ASSERT_PTR_NULL(t->hop.o.user); /* root */
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/usr/bin/doas");
	/* lxc_path: lxc-attach's -P for lxc, the lxc client itself for lxd. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "l1"));
	CU_ASSERT_STRING_EQUAL(t->hop.o.name, "pg");
	CU_ASSERT_STRING_EQUAL(t->hop.o.lxc_dir, "/srv/lxc");
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/opt/bin/lxc-attach");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "x1"));
	CU_ASSERT_STRING_EQUAL(t->hop.o.name, "c1");
	CU_ASSERT_PTR_NULL(t->hop.o.lxc_dir);
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/snap/bin/lxc");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "k1"));
	CU_ASSERT_STRING_EQUAL(t->hop.o.name, "web");
	CU_ASSERT_STRING_EQUAL(t->hop.o.user, "app");
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/usr/local/bin/docker");
	/* kubectl: "container" is -c, the pod is the name. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "p1"));
	CU_ASSERT_STRING_EQUAL(t->hop.o.name, "api-0");
	CU_ASSERT_STRING_EQUAL(t->hop.o.container, "app");
	CU_ASSERT_STRING_EQUAL(t->hop.o.kube_ns, "shop");
	CU_ASSERT_STRING_EQUAL(t->hop.o.context, "prod-eu");
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/opt/kubectl");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->hop.o.args);
	CU_ASSERT_STRING_EQUAL(t->hop.o.args[0], "--kubeconfig=/k/c");
	CU_ASSERT_STRING_EQUAL(t->hop.o.args[1], "--request-timeout=5s");
	CU_ASSERT_PTR_NULL(t->hop.o.args[2]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "n1"));
	CU_ASSERT_EQUAL(t->hop.o.setns_kind, JG_SETNS_PID);
	CU_ASSERT_EQUAL(t->hop.o.pid, 42);
	CU_ASSERT_STRING_EQUAL(t->hop.o.user, "www");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "n2"));
	CU_ASSERT_EQUAL(t->hop.o.setns_kind, JG_SETNS_DOCKER);
	CU_ASSERT_STRING_EQUAL(t->hop.o.name, "web");
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/d/docker");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t = jg_config_find_target(c, "n3"));
	CU_ASSERT_EQUAL(t->hop.o.setns_kind, JG_SETNS_MACHINECTL);
	CU_ASSERT_STRING_EQUAL(t->hop.o.tool_path, "/bin/machinectl");
	jg_config_free(c);
	unlink(path);
}

/* "targets = ( { name = "t"; method = "METHOD"; BODY } );" must fail at line 1 with WHAT. */
static void method_error(const char *method, const char *body, const char *what)
{
	char text[1024];

	snprintf(text, sizeof(text), "targets = ( { name = \"t\"; method = \"%s\"; %s } );\n",
		 method, body);
	tu_expect_error(text, JG_ERR_CONFIG, 1, what);
}

static void test_method_key_errors(void)
{
	static const struct {
		const char *method, *key;
	} foreign[] = {
	    {"sudo", "container = \"x\";"},
	    {"sudo", "pid = 1;"},
	    {"su", "preserve_env = true;"},
	    {"su", "sudo_path = \"/x\";"},
	    {"doas", "login = true;"},
	    {"doas", "selinux_role = \"r\";"},
	    {"lxc", "user = \"u\";"},
	    {"lxc", "host = \"h\";"},
	    {"lxd", "lxc_attach_path = \"/x\";"},
	    {"lxd", "password = \"p\";"},
	    {"docker", "pod = \"p\";"},
	    {"docker", "namespace = \"n\";"},
	    {"kubectl", "user = \"u\";"},
	    {"kubectl", "docker_path = \"/x\";"},
	    {"setns", "password = \"p\";"},
	    {"setns", "pod = \"p\";"},
	};
	char what[256];

	/* A key of another method is refused, naming the method. */
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		snprintf(what, sizeof(what),
			 "targets[0].%.*s: unknown key for a %s target (see docs/methods.md and "
			 "jumpgated.conf.example)",
			 (int)strcspn(foreign[i].key, " "), foreign[i].key, foreign[i].method);
		method_error(foreign[i].method, foreign[i].key, what);
	}
	/* What each method needs. */
	tu_expect_error(
	    "targets = (\n  { name = \"t\";\n    method = \"lxc\"; lxc_path = \"/x\"; }\n);\n",
	    JG_ERR_CONFIG, 2, "targets[0]: container missing (a lxc target needs one)");
	method_error("lxd", "", "targets[0]: container missing (a lxd target needs one)");
	method_error("docker", "user = \"u\";",
		     "targets[0]: container missing (a docker target needs one)");
	method_error("kubectl", "container = \"c\";",
		     "targets[0]: pod missing (a kubectl target needs one)");
	{
		static const char *const bodies[] = {
		    "",
		    "user = \"u\";",
		    "container = \"web\";",
		    "kind = \"docker\";",
		    "pid = 5; container = \"web\";",
		    "pid = 5; kind = \"lxc\";",
		    /* pid and a container: which one?  (Refused in either order: a pid given
		     * first must not be dropped silently by the kind that follows.) */
		    "kind = \"docker\"; container = \"web\"; pid = 5;",
		    "pid = 5; kind = \"docker\"; container = \"web\";",
		};

		for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
			method_error(
			    "setns", bodies[i],
			    "targets[0]: a setns target needs either pid, or container and "
			    "kind (docker, lxc or machinectl)");
	}
	/* Values are checked as strictly as a target spec. */
	method_error("setns", "kind = \"podman\"; container = \"x\";",
		     "targets[0].kind: \"podman\": must be docker, lxc or machinectl");
	method_error("setns", "pid = 0;", "targets[0].pid: 0 out of range 1-4194304");
	method_error("setns", "pid = 4194305;", "targets[0].pid: 4194305 out of range 1-4194304");
	method_error("setns", "pid = \"42\";", "targets[0].pid: must be an integer, not a string");
	method_error(
	    "sudo", "user = \"-x\";",
	    "targets[0].user: user \"-x\": must not start with '-' (it would be read as an "
	    "option)");
	method_error("su", "user = \"a;b\";",
		     "targets[0].user: user \"a;b\": character ';' is not allowed");
	method_error("sudo", "password = \"\";", "targets[0].password: must not be empty");
	method_error("sudo", "selinux_role = \"x;y\";",
		     "targets[0].selinux_role: selinux_role \"x;y\": character ';' is not allowed");
	method_error("sudo", "login = \"yes\";", "targets[0].login: must be true or false");
	method_error("docker", "container = \"a b\";",
		     "targets[0].container: container \"a b\": whitespace is not allowed");
	method_error("lxc", "container = \"$(id)\";",
		     "targets[0].container: container \"$(id)\": character '$' is not allowed");
	method_error("kubectl", "pod = \"p\"; namespace = \"a;b\";",
		     "targets[0].namespace: namespace \"a;b\": character ';' is not allowed");
	method_error("kubectl", "pod = \"-it\";",
		     "targets[0].pod: pod \"-it\": must not start with '-' (it would be read as an "
		     "option)");
	method_error("kubectl", "pod = \"p\"; context = \"c\\nx\";",
		     "targets[0].context: context \"c\\x0ax\": control character \\x0a is not "
		     "allowed");
	method_error("setns", "pid = 1; user = \"r`id`\";",
		     "targets[0].user: user \"r`id`\": character '`' is not allowed");
	method_error("sudo", "sudo_path = \"\";", "targets[0].sudo_path: must not be empty");
	/* kubectl_args: long options only, nothing a shell or kubectl could read as more. */
	method_error(
	    "kubectl", "pod = \"p\"; kubectl_args = [ \"-v\" ];",
	    "targets[0].kubectl_args: \"-v\": must be a long option (\"--kubeconfig=/path\")");
	method_error(
	    "kubectl", "pod = \"p\"; kubectl_args = [ \"exec\" ];",
	    "targets[0].kubectl_args: \"exec\": must be a long option (\"--kubeconfig=/path\")");
	method_error(
	    "kubectl", "pod = \"p\"; kubectl_args = [ \"--Kube\" ];",
	    "targets[0].kubectl_args: \"--Kube\": must be a long option (\"--kubeconfig=/path\")");
	method_error(
	    "kubectl", "pod = \"p\"; kubectl_args = [ \"--\" ];",
	    "targets[0].kubectl_args: \"--\": must be a long option (\"--kubeconfig=/path\")");
	method_error("kubectl", "pod = \"p\"; kubectl_args = [ \"--ok=1\", \"--x;y\" ];",
		     "targets[0].kubectl_args: \"--x;y\": must not contain whitespace, control or "
		     "shell characters");
	method_error("kubectl", "pod = \"p\"; kubectl_args = [ \"--a b\" ];",
		     "targets[0].kubectl_args: \"--a b\": must not contain whitespace, control or "
		     "shell characters");
	method_error("kubectl", "pod = \"p\"; kubectl_args = [ \"--token=$(id)\" ];",
		     "targets[0].kubectl_args: \"--token=$(id)\": must not contain whitespace, "
		     "control or shell characters");
	method_error("kubectl", "pod = \"p\"; kubectl_args = [ 5 ];",
		     "targets[0].kubectl_args: element 0 must be a string");
	method_error("kubectl", "pod = \"p\"; kubectl_args = \"--v=1\";",
		     "targets[0].kubectl_args: must be an array of strings");
}

int jg_test_register_config_access(void)
{
	CU_pSuite s = CU_add_suite("config_access", NULL, NULL);

	if (s == NULL || CU_add_test(s, "inventory groups", test_groups) == NULL ||
	    CU_add_test(s, "tunnels and tunnel targets", test_tunnels) == NULL ||
	    CU_add_test(s, "limits and unix_socket", test_limits) == NULL ||
	    CU_add_test(s, "inventory keys of every method", test_method_keys) == NULL ||
	    CU_add_test(s, "method keys: foreign, missing, bad values", test_method_key_errors) ==
		NULL)
		return -1;
	return 0;
}
