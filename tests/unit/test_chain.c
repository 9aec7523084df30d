/* Tests for chains of hops ("ssh:u@h/lxc:pg/sudo:postgres"): every method's spec as a
 * hop (config/target.c), inventory entries of any method as later hops, injection in
 * every part refused naming it, the accounts a chain becomes and its canonical form
 * (config/chain.c); against the inventory of tests/unit/test_target.c (tu_target_cfg,
 * tests/unit/testutil.h). */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/target.h"
#include "relay/err.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* TEXT must resolve to a chain of N hops with KEY and DISPLAY. */
static struct jg_chain *chain_ok(const char *text, size_t n, const char *key, const char *display)
{
	char err[256] = "";
	struct jg_chain *c = NULL;
	int r = jg_target_resolve(tu_target_cfg, text, &c, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "\n  %s: unexpected error %d: %s\n", text, r, err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (c->nhops != n || strcmp(c->key, key) != 0 || strcmp(c->display, display) != 0)
		fprintf(stderr, "\n  %s: %zu hops, key %s, display %s\n", text, c->nhops, c->key,
			c->display);
	CU_ASSERT_EQUAL_FATAL(c->nhops, n);
	CU_ASSERT_STRING_EQUAL(c->key, key);
	CU_ASSERT_STRING_EQUAL(c->display, display);
	return c;
}

#define STR_OR_NULL(a, b)                                                                          \
	do {                                                                                       \
		if ((b) == NULL)                                                                   \
			CU_ASSERT_PTR_NULL(a)                                                      \
		else if ((a) == NULL)                                                              \
			CU_FAIL(#a " is NULL")                                                     \
		else                                                                               \
			CU_ASSERT_STRING_EQUAL(a, b)                                               \
	} while (0)

/* Hop H is METHOD with USER and NAME (NULL: unset). */
static void hop_is(const struct jg_hop *h, enum jg_method m, const char *user, const char *name)
{
	CU_ASSERT_EQUAL(h->method, m);
	STR_OR_NULL(h->o.user, user);
	STR_OR_NULL(h->o.name, name);
}

static void test_chain_specs(void)
{
	struct jg_chain *c;

	c = chain_ok("local/sudo:jgx1", 2, "local/sudo:jgx1", "local/sudo:jgx1");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_LOCAL);
	hop_is(&c->hops[1], JG_METHOD_SUDO, "jgx1", NULL);
	CU_ASSERT_PTR_NULL(c->hops[1].o.password);
	CU_ASSERT_EQUAL(c->hops[1].o.login, 0);
	jg_chain_free(c);

	c = chain_ok("web1/docker:app@ct", 2, "web1/docker:app@ct",
		     "web1 (ssh deploy@127.0.0.2:2222)/docker:app@ct");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "127.0.0.2");
	CU_ASSERT_EQUAL(c->hops[0].ssh.port, 2222);
	hop_is(&c->hops[1], JG_METHOD_DOCKER, "app", "ct");
	jg_chain_free(c);
	c = chain_ok("local/docker:ct", 2, "local/docker:ct", "local/docker:ct");
	hop_is(&c->hops[1], JG_METHOD_DOCKER, NULL, "ct");
	jg_chain_free(c);

	c = chain_ok("ssh:u@h/lxc:pg/sudo:postgres", 3, "ssh:u@h/lxc:pg/sudo:postgres",
		     "ssh:u@h/lxc:pg/sudo:postgres");
	CU_ASSERT_EQUAL(c->hops[0].method, JG_METHOD_SSH);
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.host, "h");
	CU_ASSERT_STRING_EQUAL(c->hops[0].ssh.user, "u");
	tu_check_ssh_defaults(&c->hops[0].ssh);
	hop_is(&c->hops[1], JG_METHOD_LXC, NULL, "pg");
	CU_ASSERT_PTR_NULL(c->hops[1].o.lxc_dir);
	hop_is(&c->hops[2], JG_METHOD_SUDO, "postgres", NULL);
	jg_chain_free(c);

	c = chain_ok("db8/lxd:c1/su:www-data/doas:_svc", 4, "ssh:db8/lxd:c1/su:www-data/doas:_svc",
		     "db8/lxd:c1/su:www-data/doas:_svc");
	hop_is(&c->hops[1], JG_METHOD_LXD, NULL, "c1");
	hop_is(&c->hops[2], JG_METHOD_SU, "www-data", NULL);
	hop_is(&c->hops[3], JG_METHOD_DOAS, "_svc", NULL);
	jg_chain_free(c);

	/* kubectl: [namespace:]pod[:container] */
	c = chain_ok("local/kubectl:ns:pod:c", 2, "local/kubectl:ns:pod:c",
		     "local/kubectl:ns:pod:c");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "pod");
	STR_OR_NULL(c->hops[1].o.kube_ns, "ns");
	STR_OR_NULL(c->hops[1].o.container, "c");
	jg_chain_free(c);
	c = chain_ok("local/kubectl:ns:pod", 2, "local/kubectl:ns:pod", "local/kubectl:ns:pod");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "pod");
	STR_OR_NULL(c->hops[1].o.kube_ns, "ns");
	CU_ASSERT_PTR_NULL(c->hops[1].o.container);
	jg_chain_free(c);
	c = chain_ok("local/kubectl:pod", 2, "local/kubectl:pod", "local/kubectl:pod");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "pod");
	CU_ASSERT_PTR_NULL(c->hops[1].o.kube_ns);
	jg_chain_free(c);

	/* setns: a PID, pid:N, or a container by kind; as a user. */
	c = chain_ok("local/setns:42", 2, "local/setns:42", "local/setns:42");
	hop_is(&c->hops[1], JG_METHOD_SETNS, NULL, NULL);
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_PID);
	CU_ASSERT_EQUAL(c->hops[1].o.pid, 42);
	jg_chain_free(c);
	c = chain_ok("local/setns:root@pid:42", 2, "local/setns:root@pid:42",
		     "local/setns:root@pid:42");
	hop_is(&c->hops[1], JG_METHOD_SETNS, "root", NULL);
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_PID);
	CU_ASSERT_EQUAL(c->hops[1].o.pid, 42);
	jg_chain_free(c);
	c = chain_ok("local/setns:docker:web", 2, "local/setns:docker:web",
		     "local/setns:docker:web");
	hop_is(&c->hops[1], JG_METHOD_SETNS, NULL, "web");
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_DOCKER);
	jg_chain_free(c);
	c = chain_ok("local/setns:www@lxc:pg", 2, "local/setns:www@lxc:pg",
		     "local/setns:www@lxc:pg");
	hop_is(&c->hops[1], JG_METHOD_SETNS, "www", "pg");
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_LXC);
	jg_chain_free(c);
	c = chain_ok("local/setns:machinectl:m1", 2, "local/setns:machinectl:m1",
		     "local/setns:machinectl:m1");
	CU_ASSERT_EQUAL(c->hops[1].o.setns_kind, JG_SETNS_MACHINECTL);
	jg_chain_free(c);
	c = chain_ok("ssh:h/setns:4194304", 2, "ssh:h/setns:4194304", "ssh:h/setns:4194304");
	CU_ASSERT_EQUAL(c->hops[1].o.pid, 4194304);
	jg_chain_free(c);

	/* A method hop alone is a chain of one (run from the gateway). */
	c = tu_resolve_ok("sudo:jgx1", "sudo:jgx1", "sudo:jgx1");
	hop_is(&c->hops[0], JG_METHOD_SUDO, "jgx1", NULL);
	jg_chain_free(c);

	/* Eight hops is the most. */
	c = chain_ok("local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g", 8,
		     "local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g",
		     "local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g");
	hop_is(&c->hops[7], JG_METHOD_SUDO, "g", NULL);
	jg_chain_free(c);
}

/* Inventory entries of any method as later hops, with the options a spec cannot carry. */
static void test_chain_inventory_hops(void)
{
	const struct jg_target *t = jg_config_find_target(tu_target_cfg, "asroot");
	struct jg_chain *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	c = chain_ok("web1/asroot", 2, "web1/asroot",
		     "web1 (ssh deploy@127.0.0.2:2222)/asroot (su)");
	hop_is(&c->hops[1], JG_METHOD_SU, "root", NULL);
	STR_OR_NULL(c->hops[1].o.password, "s3cret");
	CU_ASSERT_EQUAL(c->hops[1].o.login, 1);
	/* A copy: freeing the chain leaves the configuration's entry alone. */
	CU_ASSERT_PTR_NOT_EQUAL(c->hops[1].o.password, t->hop.o.password);
	jg_chain_free(c);
	CU_ASSERT_STRING_EQUAL(t->hop.o.password, "s3cret");

	c = chain_ok("local/pgct/asroot", 3, "local/pgct/asroot", "local/pgct (lxc)/asroot (su)");
	hop_is(&c->hops[1], JG_METHOD_LXC, NULL, "pg");
	STR_OR_NULL(c->hops[1].o.lxc_dir, "/srv/lxc");
	hop_is(&c->hops[2], JG_METHOD_SU, "root", NULL);
	jg_chain_free(c);

	c = chain_ok("ssh:h/kpod/sudo:x", 3, "ssh:h/kpod/sudo:x", "ssh:h/kpod (kubectl)/sudo:x");
	hop_is(&c->hops[1], JG_METHOD_KUBECTL, NULL, "api-0");
	STR_OR_NULL(c->hops[1].o.kube_ns, "shop");
	STR_OR_NULL(c->hops[1].o.container, "app");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->hops[1].o.args);
	CU_ASSERT_STRING_EQUAL(c->hops[1].o.args[0], "--kubeconfig=/k/config");
	CU_ASSERT_PTR_NULL(c->hops[1].o.args[1]);
	jg_chain_free(c);

	/* An entry of another method can start a chain too. */
	c = chain_ok("kpod/asroot", 2, "kpod/asroot", "kpod (kubectl)/asroot (su)");
	jg_chain_free(c);
	c = tu_resolve_ok("pgct", "pgct", "pgct (lxc)");
	STR_OR_NULL(c->hops[0].o.lxc_dir, "/srv/lxc");
	jg_chain_free(c);

	/* ssh with a password: the first hop, or the first after local, only. */
	c = chain_ok("local/pwhost", 2, "local/pwhost", "local/pwhost (ssh ops@10.0.0.9)");
	jg_chain_free(c);
	tu_resolve_err(
	    "web1/pwhost", JG_ERR_INVAL,
	    "hop 2 (ssh to 10.0.0.9): ssh passwords work on the first hop only (ssh reads "
	    "them from a terminal); use a key");
	/* Tunnel targets and raw ssh run no agent: never in a chain. */
	tu_resolve_err("local/office", JG_ERR_INVAL,
		       "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	tu_resolve_err("office/sudo:x", JG_ERR_INVAL,
		       "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	tu_resolve_err(
	    "rawhost/sudo:x", JG_ERR_INVAL,
	    "hop 1 (ssh to 10.0.0.8): raw mode runs no agent, so it works for a target of "
	    "one ssh hop only");
	c = tu_resolve_ok("rawhost", "rawhost", "rawhost (ssh ops@10.0.0.8)");
	CU_ASSERT_EQUAL(c->hops[0].ssh.raw, 1);
	jg_chain_free(c);
}

/* Every part of every new method refuses what could become an option or shell text. */
static void test_chain_injection(void)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    /* sudo, su, doas: the user */
	    {"local/sudo:-u",
	     "user \"-u\": must not start with '-' (it would be read as an option)"},
	    {"local/sudo:a;b", "user \"a;b\": character ';' is not allowed"},
	    {"local/su:$(id)", "user \"$(id)\": character '$' is not allowed"},
	    {"local/doas:`id`", "user \"`id`\": character '`' is not allowed"},
	    {"local/sudo:a b", "user \"a b\": whitespace is not allowed"},
	    {"local/su:x\ny", "user \"x\\x0ay\": control character \\x0a is not allowed"},
	    {"local/doas:r\xc3\xb6t", "user \"r\\xc3\\xb6t\": non-ASCII byte \\xc3 is not allowed"},
	    {"local/sudo:", "user \"\": must not be empty"},
	    {"local/su:.x", "user \".x\": must start with a letter, a digit or '_'"},
	    {"local/sudo:a@b", "user \"a@b\": character '@' is not allowed"},
	    /* lxc, lxd: the container */
	    {"local/lxc:-n",
	     "container \"-n\": must not start with '-' (it would be read as an option)"},
	    {"local/lxd:a;b", "container \"a;b\": character ';' is not allowed"},
	    {"local/lxc:$(id)", "container \"$(id)\": character '$' is not allowed"},
	    {"local/lxd:c\n", "container \"c\\x0a\": control character \\x0a is not allowed"},
	    {"local/lxc:p\xc3\xa9",
	     "container \"p\\xc3\\xa9\": non-ASCII byte \\xc3 is not allowed"},
	    {"local/lxd:", "container \"\": must not be empty"},
	    /* docker: user and container */
	    {"local/docker:-u@ct",
	     "user \"-u\": must not start with '-' (it would be read as an option)"},
	    {"local/docker:a b@ct", "user \"a b\": whitespace is not allowed"},
	    {"local/docker:app@-ct",
	     "container \"-ct\": must not start with '-' (it would be read as "
	     "an option)"},
	    {"local/docker:app@`id`", "container \"`id`\": character '`' is not allowed"},
	    {"local/docker:app@ct@x", "container \"ct@x\": character '@' is not allowed"},
	    {"local/docker:--privileged", "container \"--privileged\": must not start with '-' (it "
					  "would be read as an option)"},
	    /* kubectl: namespace, pod, container */
	    {"local/kubectl:-n:pod",
	     "namespace \"-n\": must not start with '-' (it would be read as "
	     "an option)"},
	    {"local/kubectl:ns:$(id)", "pod \"$(id)\": character '$' is not allowed"},
	    {"local/kubectl:ns:pod:c;d", "container \"c;d\": character ';' is not allowed"},
	    {"local/kubectl:ns:pod:c\n",
	     "container \"c\\x0a\": control character \\x0a is not allowed"},
	    {"local/kubectl:n s:pod", "namespace \"n s\": whitespace is not allowed"},
	    {"local/kubectl:ns:p\xc3\xb6"
	     "d",
	     "pod \"p\\xc3\\xb6d\": non-ASCII byte \\xc3 is not allowed"},
	    {"local/kubectl:ns::c", "pod \"\": must not be empty"},
	    {"local/kubectl:-it",
	     "pod \"-it\": must not start with '-' (it would be read as an option)"},
	    {"local/kubectl:a:b:c:d", "kubectl \"a:b:c:d\": expected [namespace:]pod[:container]"},
	    /* setns: user, pid, container */
	    {"local/setns:-1", "pid \"-1\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:42;x", "pid \"42;x\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:$(id)", "pid \"$(id)\": must be a process ID (1-4194304)"},
	    {"local/setns:pid: 42", "pid \" 42\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:+42", "pid \"+42\": must be a process ID (1-4194304)"},
	    {"local/setns:pid:042", "pid \"042\": must be a process ID (1-4194304)"},
	    {"local/setns:4194305", "pid \"4194305\": must be a process ID (1-4194304)"},
	    {"local/setns:99999999999999999999",
	     "pid \"99999999999999999999\": must be a process ID "
	     "(1-4194304)"},
	    {"local/setns:", "pid \"\": must be a process ID (1-4194304)"},
	    {"local/setns:r;t@pid:1", "user \"r;t\": character ';' is not allowed"},
	    {"local/setns:-u@1",
	     "user \"-u\": must not start with '-' (it would be read as an option)"},
	    {"local/setns:docker:-x",
	     "container \"-x\": must not start with '-' (it would be read as "
	     "an option)"},
	    {"local/setns:lxc:a`b`", "container \"a`b`\": character '`' is not allowed"},
	    {"local/setns:machinectl:m 1", "container \"m 1\": whitespace is not allowed"},
	    {"local/setns:docker:w\xc3\xa9",
	     "container \"w\\xc3\\xa9\": non-ASCII byte \\xc3 is not "
	     "allowed"},
	    /* the chain itself */
	    {"local/", "empty target"},
	    {"local//sudo:x", "empty target"},
	    {"local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/sudo:g/sudo:h",
	     "target \"local/sudo:a/sudo:b/sudo:c/sudo:d/sudo:e/sudo:f/...\": a chain has at "
	     "most 8 hops"},
	    {"sudo:x/local", "\"local\" can only be the first hop of a chain"},
	    {"local/ssh:-oProxyCommand=x", "host \"-oProxyCommand=x\": must not start with '-' (it "
					   "would be read as an option)"},
	    {"local/sudo:x/b;c", "host \"b;c\": character ';' is not allowed"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tu_resolve_err(cases[i].text, JG_ERR_INVAL, cases[i].why);
	tu_resolve_err("local/podman:x", JG_ERR_NOTFOUND,
		       "unknown method \"podman\" "
		       "(known: local, ssh, sudo, su, doas, lxc, lxd, docker, kubectl, setns)");
}

static void test_chain_become(void)
{
	struct jg_chain *c =
	    chain_ok("ssh:u@h/sudo:pg/docker:app@ct/docker:ct2/setns:42/su:x/asroot", 7,
		     "ssh:u@h/sudo:pg/docker:app@ct/docker:ct2/setns:42/su:x/asroot",
		     "ssh:u@h/sudo:pg/docker:app@ct/docker:ct2/setns:42/su:x/asroot (su)");
	const char *who[8];

	CU_ASSERT_EQUAL_FATAL(jg_chain_become(c, who, 8), 6);
	CU_ASSERT_STRING_EQUAL(who[0], "pg");
	CU_ASSERT_STRING_EQUAL(who[1], "app");
	CU_ASSERT_STRING_EQUAL(who[2], "root"); /* docker:ct2, no user: the image's, root */
	CU_ASSERT_STRING_EQUAL(who[3], "root"); /* setns:42 */
	CU_ASSERT_STRING_EQUAL(who[4], "x");
	CU_ASSERT_STRING_EQUAL(who[5], "root");
	CU_ASSERT_EQUAL(jg_chain_become(c, who, 2), 2);
	jg_chain_free(c);
	/* container hops land as root (issue 19): lxc, lxd, kubectl, an inventory lxc hop */
	c = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_target_resolve(tu_target_cfg,
						"ssh:u@h/sudo:eve/lxc:ct/lxd:c2/kubectl:p/pgct", &c,
						NULL, 0),
			      0);
	CU_ASSERT_EQUAL_FATAL(jg_chain_become(c, who, 8), 5);
	CU_ASSERT_STRING_EQUAL(who[0], "eve");
	for (size_t i = 1; i < 5; i++)
		CU_ASSERT_STRING_EQUAL(who[i], "root");
	jg_chain_free(c);
}

/* TEXT resolves to a chain whose canonical form is CANON. */
static void canon_is(const char *text, const char *canon)
{
	char err[256] = "";
	struct jg_chain *c = NULL;

	if (jg_target_resolve(tu_target_cfg, text, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "\n  %s: unexpected error: %s\n", text, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	if (c->canon == NULL || strcmp(c->canon, canon) != 0)
		fprintf(stderr, "\n  %s: canon %s, want %s\n", text, c->canon, canon);
	CU_ASSERT_STRING_EQUAL(c->canon, canon);
	jg_chain_free(c);
}

/* Every destination has one spelling for policy, and numeric hosts that the C library
 * reads differently from how they look are refused (issue 13, H1). */
static void test_canonical(void)
{
	const char *v4why = "a numeric IPv4 address must be four decimal numbers without "
			    "leading zeros (this one means 127.0.1.3: write that)";
	static const char *const aliases[] = {"127.0.259",  "2130706691", "0x7f.0.1.3",
					      "0177.0.1.3", "127.0.1.03", "127.0.0x1.3",
					      "0x7f000103"};
	char text[128], want[256];

	canon_is("web1", "ssh:deploy@127.0.0.2:2222");
	canon_is("ssh:deploy@127.0.0.2:2222", "ssh:deploy@127.0.0.2:2222");
	canon_is("web1/sudo:root", "ssh:deploy@127.0.0.2:2222/sudo:root");
	canon_is("web1/asroot/pgct", "ssh:deploy@127.0.0.2:2222/su:root/lxc:pg");
	canon_is("ssh:DB7.Example.COM", "ssh:ops@db7.example.com:22");
	canon_is("ssh:u@[::FFFF:127.0.1.3]:2222", "ssh:u@127.0.1.3:2222");
	canon_is("ssh:u@[0:0::1]", "ssh:u@[::1]:22");
	canon_is("v6", "ssh:ops@[::1]:22");
	canon_is("here", "local");
	canon_is("local/docker:app", "local/docker:app");
	canon_is("local/kpod", "local/kubectl:shop:api-0:app");
	canon_is("office", "tunnel:127.0.0.5");
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		snprintf(text, sizeof(text), "ssh:root@%s:2222", aliases[i]);
		snprintf(want, sizeof(want), "host \"%s\": %s", aliases[i], v4why);
		tu_resolve_err(text, JG_ERR_INVAL, want);
		snprintf(text, sizeof(text), "%s/sudo:root", aliases[i]);
		tu_resolve_err(text, JG_ERR_INVAL, want);
	}
	tu_resolve_err("ssh:1.2.3.4.5", JG_ERR_INVAL, "host \"1.2.3.4.5\": not an IPv4 address");
	tu_resolve_err("256.0.0.1", JG_ERR_INVAL, "host \"256.0.0.1\": not an IPv4 address");
	CU_ASSERT_EQUAL(jg_target_check_host("0x7f.0.0.1", NULL, 0), JG_ERR_INVAL);
	CU_ASSERT_EQUAL(jg_target_check_host("10.0.0.5", NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_target_check_host("cafe", NULL, 0), 0);
}

int jg_test_register_chain(void)
{
	static const struct tu_test tests[] = {
	    {"chains: every method's spec, fields", test_chain_specs},
	    {"chains: inventory entries as hops; no tunnel, raw or late ssh password",
	     test_chain_inventory_hops},
	    {"chains: injection in every part refused, naming it", test_chain_injection},
	    {"chains: the accounts a chain becomes", test_chain_become},
	    {"canonical chains; numeric aliases refused", test_canonical},
	};

	return tu_add_suite("chain", tu_target_setup, tu_target_teardown, tests,
			    sizeof(tests) / sizeof(tests[0]));
}
