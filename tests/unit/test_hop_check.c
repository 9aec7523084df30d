/* Tests for relay/hop.c beyond building argvs: what jg_chain_check refuses (local after
 * the first hop, tunnel targets, late ssh passwords, raw mode, 0 and 9 hops) and the
 * ssh refusals jg_chain_argv passes on; method names and lookup; deep copies of every
 * method's options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/argv.h"
#include "relay/err.h"
#include "relay/hop.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

#define AGENT "/opt/jg/jumpgate-agent"
/* Shaped like the real stub: one line, no single quote, ends by exec'ing with "$@". */
#define STUB "echo jumpgate-stub: hello;exec \"$f\" \"$@\""

/* ---- refusals ---- */

static void check_refused(const struct jg_hop *hops, size_t n, const char *want)
{
	char err[256] = "", err2[256] = "";
	struct jg_chain_cmd cmd;
	int r = jg_chain_check(hops, n, err, sizeof(err));

	if (r != JG_ERR_INVAL || strcmp(err, want) != 0)
		fprintf(stderr, "\nchain check: %d \"%s\"\n  want \"%s\"\n", r, err, want);
	CU_ASSERT_EQUAL(r, JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* jg_chain_argv refuses the same, and builds nothing. */
	CU_ASSERT_EQUAL(jg_chain_argv(hops, n, AGENT, STUB, &cmd, err2, sizeof(err2)),
			JG_ERR_INVAL);
	CU_ASSERT_STRING_EQUAL(err2, want);
	CU_ASSERT_PTR_NULL(cmd.argv);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
}

static void t_chain_check_refusals(void)
{
	struct jg_hop hops[JG_CHAIN_MAX_HOPS + 1];
	char err[256];

	/* local is a first hop only. */
	tu_hop_mk_ssh(&hops[0], "h1");
	tu_hop_mk(&hops[1], JG_METHOD_LOCAL, NULL, NULL);
	check_refused(hops, 2, "\"local\" can only be the first hop of a chain");
	tu_hops_clear(hops, 2);

	/* A tunnel target runs no agent: not a hop of a chain, wherever it is. */
	tu_hop_mk_ssh(&hops[0], "office");
	hops[0].method = JG_METHOD_TUNNEL;
	tu_hop_mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	check_refused(hops, 2,
		      "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	tu_hops_clear(hops, 2);
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk_ssh(&hops[1], "office");
	hops[1].method = JG_METHOD_TUNNEL;
	check_refused(hops, 2,
		      "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	tu_hops_clear(hops, 2);

	/* ssh passwords: the first hop (or the first after local) only. */
	tu_hop_mk_ssh(&hops[0], "h1");
	tu_hop_mk_ssh(&hops[1], "h2");
	hops[1].ssh.password = tu_xdup("pw");
	check_refused(hops, 2,
		      "hop 2 (ssh to h2): ssh passwords work on the first hop only (ssh reads "
		      "them from a terminal); use a key");
	tu_hops_clear(hops, 2);
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_SUDO, "x", NULL);
	tu_hop_mk_ssh(&hops[2], "h3");
	hops[2].ssh.password = tu_xdup("pw");
	check_refused(hops, 3,
		      "hop 3 (ssh to h3): ssh passwords work on the first hop only (ssh reads "
		      "them from a terminal); use a key");
	tu_hops_clear(hops, 3);
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk_ssh(&hops[1], "h2");
	hops[1].ssh.password = tu_xdup("pw");
	tu_hop_mk(&hops[2], JG_METHOD_SUDO, "x", NULL);
	CU_ASSERT_EQUAL(jg_chain_check(hops, 3, err, sizeof(err)), 0); /* local, then ssh: fine */
	tu_hops_clear(hops, 3);

	/* Raw ssh runs no agent: nothing can come after it. */
	tu_hop_mk_ssh(&hops[0], "h1");
	hops[0].ssh.raw = 1;
	tu_hop_mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	check_refused(hops, 2,
		      "hop 1 (ssh to h1): raw mode runs no agent, so it works for a target of one "
		      "ssh hop only");
	tu_hops_clear(hops, 2);

	/* 1 to 8 hops. */
	check_refused(hops, 0, "a chain has 1 to 8 hops");
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	for (size_t i = 1; i < JG_CHAIN_MAX_HOPS + 1; i++)
		tu_hop_mk(&hops[i], JG_METHOD_SUDO, "root", NULL);
	check_refused(hops, JG_CHAIN_MAX_HOPS + 1, "a chain has 1 to 8 hops");
	CU_ASSERT_EQUAL(jg_chain_check(hops, JG_CHAIN_MAX_HOPS, err, sizeof(err)), 0);
	tu_hops_clear(hops, JG_CHAIN_MAX_HOPS + 1);
}

static void t_chain_argv_passes_ssh_refusals_on(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;
	char err[256] = "";

	/* A hop jg_ssh_argv refuses (validation is config/target.c's, but ssh re-checks). */
	tu_hop_mk_ssh(&hops[0], "-oProxyCommand=x");
	tu_hop_mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	CU_ASSERT_EQUAL(jg_chain_argv(hops, 2, AGENT, STUB, &cmd, err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_PTR_NULL(cmd.argv);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "-oProxyCommand=x"));
	tu_hops_clear(hops, 2);
}

/* ---- names, copies ---- */

static void t_method_names(void)
{
	static const struct {
		const char *name;
		enum jg_method m;
	} known[] = {
	    {"local", JG_METHOD_LOCAL},	  {"ssh", JG_METHOD_SSH},
	    {"tunnel", JG_METHOD_TUNNEL}, {"sudo", JG_METHOD_SUDO},
	    {"su", JG_METHOD_SU},	  {"doas", JG_METHOD_DOAS},
	    {"lxc", JG_METHOD_LXC},	  {"lxd", JG_METHOD_LXD},
	    {"docker", JG_METHOD_DOCKER}, {"kubectl", JG_METHOD_KUBECTL},
	    {"setns", JG_METHOD_SETNS},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		CU_ASSERT_EQUAL(jg_method_lookup(known[i].name, strlen(known[i].name)), known[i].m);
		CU_ASSERT_STRING_EQUAL(jg_method_name(known[i].m), known[i].name);
	}
	/* LEN bytes exactly: a prefix of a longer word is that word's prefix only. */
	CU_ASSERT_EQUAL(jg_method_lookup("sudo:root", 4), JG_METHOD_SUDO);
	CU_ASSERT_EQUAL(jg_method_lookup("sudo", 2), JG_METHOD_SU);
	CU_ASSERT_EQUAL(jg_method_lookup("sud", 3), 0);
	CU_ASSERT_EQUAL(jg_method_lookup("sudoo", 5), 0);
	CU_ASSERT_EQUAL(jg_method_lookup("SUDO", 4), 0);
	CU_ASSERT_EQUAL(jg_method_lookup("", 0), 0);
	CU_ASSERT_EQUAL(jg_method_lookup("?", 1), 0);
	CU_ASSERT_STRING_EQUAL(jg_method_name(0), "?");
	CU_ASSERT_STRING_EQUAL(jg_method_name((enum jg_method)99), "?");
}

static void t_hop_copy_of_method_options(void)
{
	struct jg_hop a, b;

	tu_hop_mk(&a, JG_METHOD_KUBECTL, "u", "api-0");
	a.o.args = calloc(2, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.o.args);
	a.o.args[0] = tu_xdup("--kubeconfig=/k");
	a.o.container = tu_xdup("c");
	a.o.kube_ns = tu_xdup("ns");
	a.o.context = tu_xdup("ctx");
	a.o.tool_path = tu_xdup("/bin/kubectl");
	a.o.lxc_dir = tu_xdup("/d");
	a.o.role = tu_xdup("r");
	a.o.type = tu_xdup("t");
	a.o.password = tu_xdup("secret");
	a.o.login = 1;
	a.o.preserve_env = 1;
	a.o.setns_kind = JG_SETNS_LXC;
	a.o.pid = 7;
	CU_ASSERT_EQUAL_FATAL(jg_hop_copy(&b, &a), 0);
	CU_ASSERT_PTR_NOT_EQUAL(b.o.args, a.o.args);
	CU_ASSERT_PTR_NOT_EQUAL(b.o.password, a.o.password);
	jg_hop_clear(&a);
	CU_ASSERT_EQUAL(b.method, JG_METHOD_KUBECTL);
	CU_ASSERT_STRING_EQUAL(b.o.user, "u");
	CU_ASSERT_STRING_EQUAL(b.o.name, "api-0");
	CU_ASSERT_STRING_EQUAL(b.o.args[0], "--kubeconfig=/k");
	CU_ASSERT_PTR_NULL(b.o.args[1]);
	CU_ASSERT_STRING_EQUAL(b.o.container, "c");
	CU_ASSERT_STRING_EQUAL(b.o.kube_ns, "ns");
	CU_ASSERT_STRING_EQUAL(b.o.context, "ctx");
	CU_ASSERT_STRING_EQUAL(b.o.tool_path, "/bin/kubectl");
	CU_ASSERT_STRING_EQUAL(b.o.lxc_dir, "/d");
	CU_ASSERT_STRING_EQUAL(b.o.role, "r");
	CU_ASSERT_STRING_EQUAL(b.o.type, "t");
	CU_ASSERT_STRING_EQUAL(b.o.password, "secret");
	CU_ASSERT_EQUAL(b.o.login, 1);
	CU_ASSERT_EQUAL(b.o.preserve_env, 1);
	CU_ASSERT_EQUAL(b.o.setns_kind, JG_SETNS_LXC);
	CU_ASSERT_EQUAL(b.o.pid, 7);
	CU_ASSERT_PTR_NULL(b.ssh.host);
	jg_hop_clear(&b);
	CU_ASSERT_PTR_NULL(b.o.password);
}

int jg_test_register_hop_check(void)
{
	static const struct tu_test tests[] = {
	    {"chain check: local, tunnel, ssh password, raw, 0 and 9 hops", t_chain_check_refusals},
	    {"chain argv: an ssh refusal is passed on", t_chain_argv_passes_ssh_refusals_on},
	    {"method names and lookup", t_method_names},
	    {"hop copy: every method option, deep", t_hop_copy_of_method_options},
	};

	return tu_add_suite("hop_check", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
