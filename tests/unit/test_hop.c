/* Tests for relay/hop.c: the exact argv of every method as the last hop, and chains of
 * several hops (stub stages, askpass order, the setns trampoline), some run through a
 * real /bin/sh.  The refusals of jg_chain_check, method names and hop copies are in
 * tests/unit/test_hop_check.c; quoting at depth in tests/unit/test_hop_quoting.c. */
#include "config.h" /* _GNU_SOURCE */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay/argv.h"
#include "relay/hop.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"

/* sudo, su and doas with no *_path: from /usr/bin or /bin, never by PATH (relay/hop.h) */
#define TOOL(name) "/bin/sh", "-c", JG_HOP_TOOL_SEARCH, name
#define TOOL_SH(name) "/bin/sh -c '" JG_HOP_TOOL_SEARCH "' " name
#define AGENT "/opt/jg/jumpgate-agent"
/* Shaped like the real stub: one line, no single quote, ends by exec'ing with "$@". */
#define STUB "echo jumpgate-stub: hello;exec \"$f\" \"$@\""
/* A stub that can run: prints its $0 and arguments, each in brackets. */
#define RSTUB "printf \"[%s]\" \"$0\" \"$@\""

/* ---- building hops ---- */

static void mk_setns_pid(struct jg_hop *h, long pid)
{
	tu_hop_mk(h, JG_METHOD_SETNS, NULL, NULL);
	h->o.setns_kind = JG_SETNS_PID;
	h->o.pid = pid;
}

static size_t argc_of(char *const *argv)
{
	size_t n = 0;

	while (argv[n] != NULL)
		n++;
	return n;
}

/* Compare ARGV with the NULL-terminated WANT, element by element. */
static void assert_argv(char *const *argv, const char *const *want)
{
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(argv);
	for (i = 0; want[i] != NULL && argv[i] != NULL; i++) {
		if (strcmp(argv[i], want[i]) != 0)
			fprintf(stderr, "\nargv[%zu] = \"%s\", want \"%s\"\n", i, argv[i], want[i]);
		CU_ASSERT_STRING_EQUAL(argv[i], want[i]);
	}
	if (want[i] != NULL || argv[i] != NULL)
		fprintf(stderr, "\nargv has %zu words, want %zu\n", argc_of(argv),
			argc_of((char *const *)want));
	CU_ASSERT_PTR_NULL(want[i]);
	CU_ASSERT_PTR_NULL(argv[i]);
}

/* jg_chain_argv must succeed for HOPS; the command in *CMD (free its argv). */
static void build(const struct jg_hop *hops, size_t n, const char *stub, struct jg_chain_cmd *cmd)
{
	char err[256] = "";
	int r = jg_chain_argv(hops, n, AGENT, stub, cmd, err, sizeof(err));

	if (r != 0)
		fprintf(stderr, "\njg_chain_argv: %d %s\n", r, err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd->argv);
}

/* HOPS is {local, H}: H's argv must be WANT, run by one stub, no agent on the gateway. */
static void last_after_local(struct jg_hop *h, const char *const *want)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;

	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	hops[1] = *h;
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, want);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1);
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);
}

/* ---- running shell text ---- */

/* /bin/sh -c SCRIPT, stdout into OUT. */
static ssize_t run_sh(const char *script, char *const *envp, char *out, size_t cap)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

	return tu_run_capture(argv, envp, out, cap);
}

/* ---- the last hop after local: every method's argv ---- */

static void t_sudo_argv(void)
{
	struct jg_hop h;

	tu_hop_mk(&h, JG_METHOD_SUDO, "jgx1", NULL);
	last_after_local(&h, (const char *const[]){TOOL("sudo"), "-n", "-H", "-u", "jgx1", "--",
						   "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
	/* A password: sudo reads it from stdin after a prompt naming the hop (index 1). */
	tu_hop_mk(&h, JG_METHOD_SUDO, "jgx1", NULL);
	h.o.password = tu_xdup("pw");
	last_after_local(&h, (const char *const[]){
				 TOOL("sudo"), "-S", "-p", "jumpgate-sudo-password-1: ", "-H", "-u",
				 "jgx1", "--", "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
	/* login, preserve_env, SELinux, sudo_path; no user means root. */
	tu_hop_mk(&h, JG_METHOD_SUDO, NULL, NULL);
	h.o.login = 1;
	h.o.preserve_env = 1;
	h.o.role = tu_xdup("webadm_r");
	h.o.type = tu_xdup("webadm_t");
	h.o.tool_path = tu_xdup("/usr/local/bin/sudo");
	last_after_local(&h, (const char *const[]){"/usr/local/bin/sudo", "-n", "-i", "-u", "root",
						   "-E", "-r", "webadm_r", "-t", "webadm_t", "--",
						   "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
}

static void t_sudo_prompt_names_the_hop_index(void)
{
	char buf[64];
	struct jg_hop hops[4];
	struct jg_chain_cmd cmd;

	jg_sudo_prompt(3, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "jumpgate-sudo-password-3: ");
	/* ssh -> sudo (pw) -> sudo (pw): each sudo has its own prompt, by chain index. */
	tu_hop_mk_ssh(&hops[0], "h1");
	tu_hop_mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	hops[1].o.password = tu_xdup("s3cret-a");
	tu_hop_mk(&hops[2], JG_METHOD_SUDO, "pg", NULL);
	hops[2].o.password = tu_xdup("s3cret-b");
	build(hops, 3, STUB, &cmd);
	{
		const char *last = cmd.argv[argc_of(cmd.argv) - 1];

		CU_ASSERT_PTR_NOT_NULL(
		    strstr(last, "-p 'jumpgate-sudo-password-1: ' -H -u root --"));
		CU_ASSERT_PTR_NOT_NULL(strstr(last, "-p 'jumpgate-sudo-password-2: ' -H -u pg --"));
		/* The passwords themselves never appear in an argv. */
		for (char **p = cmd.argv; *p != NULL; p++)
			CU_ASSERT_PTR_NULL(strstr(*p, "s3cret"));
	}
	CU_ASSERT_EQUAL(cmd.nstubs, 1); /* sudo passes an argv on: one stub, innermost */
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 3);
}

static void t_su_argv_runs_the_stub(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;
	char want[256], out[512];

	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_SU, "jgx2", NULL);
	build(hops, 2, STUB, &cmd);
	snprintf(want, sizeof(want), "/bin/sh -c '%s' jumpgate-stub", STUB);
	assert_argv(cmd.argv, (const char *const[]){TOOL("su"), "jgx2", "-c", want, NULL});
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	jg_argv_free(cmd.argv);

	/* What su gives to sh: run it, the stub's $0 is jumpgate-stub and it has no args. */
	build(hops, 2, RSTUB, &cmd);
	CU_ASSERT_EQUAL_FATAL(argc_of(cmd.argv), 7);
	CU_ASSERT_EQUAL(run_sh(cmd.argv[6], NULL, out, sizeof(out)), 15);
	CU_ASSERT_STRING_EQUAL(out, "[jumpgate-stub]");
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);

	/* login and su_path; no user means root. */
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_SU, NULL, NULL);
	hops[1].o.login = 1;
	hops[1].o.tool_path = tu_xdup("/bin/su");
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){"/bin/su", "-l", "root", "-c", want, NULL});
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);
}

static void t_doas_argv(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;

	tu_hop_mk(&hops[0], JG_METHOD_DOAS, "x", NULL);
	last_after_local(&hops[0],
			 (const char *const[]){TOOL("doas"), "-n", "-u", "x", "--", "/bin/sh", "-c",
					       STUB, "jumpgate-stub", NULL});
	/* With a password: the gateway's own agent gives doas a terminal and reads the
	 * password (stage 0, hop 1) as its first stdin line. */
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_DOAS, "x", NULL);
	hops[1].o.password = tu_xdup("pw");
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv,
		    (const char *const[]){AGENT, "--askpass-tty", "--", TOOL("doas"), "-u", "x",
					  "--", "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.askpass[0], 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1); /* the stub's agent is the final one */
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);
}

static void t_container_argvs(void)
{
	struct jg_hop h;

	tu_hop_mk(&h, JG_METHOD_DOCKER, "app", "ct");
	/* No "--": docker stops parsing options at the container. */
	last_after_local(&h, (const char *const[]){"docker", "exec", "-i", "-u", "app", "ct", "sh",
						   "-c", STUB, "jumpgate-stub", NULL});
	tu_hop_mk(&h, JG_METHOD_DOCKER, NULL, "ct");
	h.o.tool_path = tu_xdup("/usr/local/bin/docker");
	last_after_local(&h, (const char *const[]){"/usr/local/bin/docker", "exec", "-i", "ct",
						   "sh", "-c", STUB, "jumpgate-stub", NULL});

	tu_hop_mk(&h, JG_METHOD_KUBECTL, NULL, "api-0");
	h.o.args = calloc(3, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.o.args);
	h.o.args[0] = tu_xdup("--kubeconfig=/k/config");
	h.o.args[1] = tu_xdup("--request-timeout=5s");
	h.o.context = tu_xdup("prod-eu");
	h.o.kube_ns = tu_xdup("shop");
	h.o.container = tu_xdup("app");
	last_after_local(&h, (const char *const[]){"kubectl", "--kubeconfig=/k/config",
						   "--request-timeout=5s", "--context", "prod-eu",
						   "-n", "shop", "exec", "-i", "api-0", "-c", "app",
						   "--", "sh", "-c", STUB, "jumpgate-stub", NULL});
	tu_hop_mk(&h, JG_METHOD_KUBECTL, NULL, "api-0");
	last_after_local(&h, (const char *const[]){"kubectl", "exec", "-i", "api-0", "--", "sh",
						   "-c", STUB, "jumpgate-stub", NULL});

	tu_hop_mk(&h, JG_METHOD_LXC, NULL, "pg");
	h.o.lxc_dir = tu_xdup("/srv/lxc");
	last_after_local(&h, (const char *const[]){"lxc-attach", "--clear-env", "-P", "/srv/lxc",
						   "-n", "pg", "--", "sh", "-c", STUB,
						   "jumpgate-stub", NULL});
	tu_hop_mk(&h, JG_METHOD_LXC, NULL, "pg");
	h.o.tool_path = tu_xdup("/opt/lxc/bin/lxc-attach");
	last_after_local(&h,
			 (const char *const[]){"/opt/lxc/bin/lxc-attach", "--clear-env", "-n", "pg",
					       "--", "sh", "-c", STUB, "jumpgate-stub", NULL});

	tu_hop_mk(&h, JG_METHOD_LXD, NULL, "c1");
	last_after_local(&h, (const char *const[]){"lxc", "exec", "--mode=non-interactive", "c1",
						   "--", "sh", "-c", STUB, "jumpgate-stub", NULL});
	tu_hop_mk(&h, JG_METHOD_LXD, NULL, "c1");
	h.o.tool_path = tu_xdup("/snap/bin/lxc");
	last_after_local(&h, (const char *const[]){"/snap/bin/lxc", "exec",
						   "--mode=non-interactive", "c1", "--", "sh", "-c",
						   STUB, "jumpgate-stub", NULL});
}

static void t_local_and_ssh_alone(void)
{
	struct jg_hop h;
	struct jg_chain_cmd cmd;
	char want[256];
	size_t n;

	tu_hop_mk(&h, JG_METHOD_LOCAL, NULL, NULL);
	build(&h, 1, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 0);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	jg_argv_free(cmd.argv);
	jg_hop_clear(&h);

	tu_hop_mk_ssh(&h, "web1");
	build(&h, 1, STUB, &cmd);
	n = argc_of(cmd.argv);
	snprintf(want, sizeof(want), "sh -c '%s' jumpgate-stub", STUB);
	CU_ASSERT_FATAL(n >= 4);
	CU_ASSERT_STRING_EQUAL(cmd.argv[0], "ssh");
	CU_ASSERT_STRING_EQUAL(cmd.argv[n - 3], "--");
	CU_ASSERT_STRING_EQUAL(cmd.argv[n - 2], "web1");
	CU_ASSERT_STRING_EQUAL(cmd.argv[n - 1], want);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	jg_argv_free(cmd.argv);
	jg_hop_clear(&h);
}

/* ---- setns: the agent's own trampoline ---- */

static void t_setns_last_is_the_agent_itself(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;

	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_setns_pid(&hops[1], 42);
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=pid:42", NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 0);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);

	/* By container name, as a user, with the inspect tool's path. */
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_SETNS, "www", "web");
	hops[1].o.setns_kind = JG_SETNS_DOCKER;
	hops[1].o.tool_path = tu_xdup("/usr/bin/docker");
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=docker:web", "--setns-user=www",
						    "--setns-tool-path=/usr/bin/docker", NULL});
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);

	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_SETNS, NULL, "m1");
	hops[1].o.setns_kind = JG_SETNS_MACHINECTL;
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=machinectl:m1", NULL});
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);

	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_SETNS, NULL, "pg");
	hops[1].o.setns_kind = JG_SETNS_LXC;
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=lxc:pg", NULL});
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);
}

static void t_ssh_then_setns_gives_the_stub_agent_args(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;
	char want[256], out[512];
	size_t n;

	tu_hop_mk_ssh(&hops[0], "h1");
	mk_setns_pid(&hops[1], 42);
	build(hops, 2, STUB, &cmd);
	n = argc_of(cmd.argv);
	snprintf(want, sizeof(want), "sh -c '%s' jumpgate-stub --setns=pid:42", STUB);
	CU_ASSERT_STRING_EQUAL(cmd.argv[0], "ssh");
	CU_ASSERT_STRING_EQUAL(cmd.argv[n - 2], "h1");
	CU_ASSERT_STRING_EQUAL(cmd.argv[n - 1], want);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1);
	jg_argv_free(cmd.argv);

	/* The remote shell runs the stub with the agent's arguments after $0. */
	build(hops, 2, RSTUB, &cmd);
	CU_ASSERT(run_sh(cmd.argv[argc_of(cmd.argv) - 1], NULL, out, sizeof(out)) > 0);
	CU_ASSERT_STRING_EQUAL(out, "[jumpgate-stub][--setns=pid:42]");
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 2);
}

static void t_setns_then_sudo_wraps_the_rest(void)
{
	struct jg_hop hops[3];
	struct jg_chain_cmd cmd;
	char out[1024], want[1024];

	/* local -> setns -> sudo: the gateway's agent enters, then execs sudo and its stub. */
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_setns_pid(&hops[1], 42);
	tu_hop_mk(&hops[2], JG_METHOD_SUDO, "root", NULL);
	build(hops, 3, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=pid:42", "--", TOOL("sudo"),
						    "-n", "-H", "-u", "root", "--", "/bin/sh", "-c",
						    STUB, "jumpgate-stub", NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1);
	jg_argv_free(cmd.argv);
	jg_hop_clear(&hops[0]);

	/* ssh -> setns -> sudo: two stubs, the outer one starts the setns agent. */
	tu_hop_mk_ssh(&hops[0], "h1");
	build(hops, 3, STUB, &cmd);
	snprintf(want, sizeof(want),
		 "sh -c '%s' jumpgate-stub --setns=pid:42 -- " TOOL_SH(
		     "sudo") " -n -H -u root -- "
			     "/bin/sh -c '%s' jumpgate-stub",
		 STUB, STUB);
	CU_ASSERT_STRING_EQUAL(cmd.argv[argc_of(cmd.argv) - 1], want);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.nstubs, 2);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1);
	CU_ASSERT_EQUAL(cmd.askpass[2], -1);
	jg_argv_free(cmd.argv);

	/* Run by a shell, the outer stub gets the inner one back byte for byte. */
	build(hops, 3, RSTUB, &cmd);
	CU_ASSERT(run_sh(cmd.argv[argc_of(cmd.argv) - 1], NULL, out, sizeof(out)) > 0);
	snprintf(want, sizeof(want),
		 "[jumpgate-stub][--setns=pid:42][--][/bin/sh][-c][" JG_HOP_TOOL_SEARCH
		 "][sudo][-n]"
		 "[-H][-u][root][--][/bin/sh][-c][%s][jumpgate-stub]",
		 RSTUB);
	CU_ASSERT_STRING_EQUAL(out, want);
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 3);

	/* local -> setns -> doas (pw): inside the namespaces only a stub can start the
	 * askpass agent (the gateway's binary is not there), and that stage reads hop 2's
	 * password. */
	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_setns_pid(&hops[1], 42);
	tu_hop_mk(&hops[2], JG_METHOD_DOAS, "x", NULL);
	hops[2].o.password = tu_xdup("pw");
	build(hops, 3, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=pid:42", "--", "sh", "-c", STUB,
						    "jumpgate-stub", "--askpass-tty", "--",
						    TOOL("doas"), "-u", "x", "--", "/bin/sh", "-c",
						    STUB, "jumpgate-stub", NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 2);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], 2);
	CU_ASSERT_EQUAL(cmd.askpass[2], -1);
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 3);
}

/* ---- stages and askpass order ---- */

static void t_two_doas_passwords_in_stage_order(void)
{
	struct jg_hop hops[3];
	struct jg_chain_cmd cmd;

	tu_hop_mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	tu_hop_mk(&hops[1], JG_METHOD_DOAS, "a", NULL);
	hops[1].o.password = tu_xdup("pa");
	tu_hop_mk(&hops[2], JG_METHOD_DOAS, "b", NULL);
	hops[2].o.password = tu_xdup("pb");
	build(hops, 3, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT,
						    "--askpass-tty",
						    "--",
						    TOOL("doas"),
						    "-u",
						    "a",
						    "--",
						    "/bin/sh",
						    "-c",
						    STUB,
						    "jumpgate-stub",
						    "--askpass-tty",
						    "--",
						    TOOL("doas"),
						    "-u",
						    "b",
						    "--",
						    "/bin/sh",
						    "-c",
						    STUB,
						    "jumpgate-stub",
						    NULL});
	/* Stage 0 (the gateway's agent) answers doas to a; stage 1 (the outer stub's agent)
	 * answers doas to b; stage 2 is the final agent. */
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 2);
	CU_ASSERT_EQUAL(cmd.askpass[0], 1);
	CU_ASSERT_EQUAL(cmd.askpass[1], 2);
	CU_ASSERT_EQUAL(cmd.askpass[2], -1);
	jg_argv_free(cmd.argv);
	jg_hop_clear(&hops[0]);

	/* Behind ssh: three stubs, none on the gateway. */
	tu_hop_mk_ssh(&hops[0], "h1");
	build(hops, 3, STUB, &cmd);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.nstubs, 3);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], 1);
	CU_ASSERT_EQUAL(cmd.askpass[2], 2);
	CU_ASSERT_EQUAL(cmd.askpass[3], -1);
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 3);
}

/* ssh -> su -> su -> lxc: the argv really runs through a fake su (su USER -c STRING is
 * sh -c STRING), three levels of shell quoting deep, and the stub arrives intact. */
static void t_ssh_su_su_runs_through_a_fake_su(void)
{
	struct jg_hop hops[4];
	struct jg_chain_cmd cmd;
	char *dir = tu_tmpdir_new(), *su, *lxc, path[700], out[1024], want[512];
	char *envp[] = {path, NULL};

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	su = tu_join(dir, "su");
	lxc = tu_join(dir, "lxc-attach");
	tu_write_file(su, "#!/bin/sh\n[ \"$1\" = -l ] && shift\nshift\n"
			  "[ \"$1\" = -c ] || { echo \"fake su: $*\" >&2; exit 9; }\n"
			  "exec /bin/sh -c \"$2\"\n");
	/* lxc-attach --clear-env -n NAME -- ARGV */
	tu_write_file(lxc, "#!/bin/sh\nwhile [ \"$1\" != -- ]; do shift; done\nshift\n"
			   "printf \"<lxc>\"\nexec \"$@\"\n");
	CU_ASSERT(chmod(su, 0755) == 0 && chmod(lxc, 0755) == 0);
	snprintf(path, sizeof(path), "PATH=%s:/usr/bin:/bin", dir);

	tu_hop_mk_ssh(&hops[0], "h1");
	/* su_path: PATH is never searched for su */
	tu_hop_mk(&hops[1], JG_METHOD_SU, "a", NULL);
	hops[1].o.tool_path = tu_xdup(su);
	tu_hop_mk(&hops[2], JG_METHOD_SU, "b", NULL);
	hops[2].o.tool_path = tu_xdup(su);
	hops[2].o.login = 1;
	tu_hop_mk(&hops[3], JG_METHOD_LXC, NULL, "pg");
	build(hops, 4, RSTUB, &cmd);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT(run_sh(cmd.argv[argc_of(cmd.argv) - 1], envp, out, sizeof(out)) > 0);
	snprintf(want, sizeof(want), "<lxc>[jumpgate-stub]");
	CU_ASSERT_STRING_EQUAL(out, want);
	jg_argv_free(cmd.argv);
	tu_hops_clear(hops, 4);
	free(su);
	free(lxc);
	tu_tmpdir_free(dir);
}

int jg_test_register_hop(void)
{
	static const struct tu_test tests[] = {
	    {"sudo: -n, -S with the hop's prompt, -i -E -r -t, sudo_path", t_sudo_argv},
	    {"sudo: one prompt per hop index, no password in any argv",
	     t_sudo_prompt_names_the_hop_index},
	    {"su: the stub as one quoted string, run by sh", t_su_argv_runs_the_stub},
	    {"doas: -n, or the agent's --askpass-tty reading hop 1's password", t_doas_argv},
	    {"docker, kubectl, lxc, lxd: exact argv with every option", t_container_argvs},
	    {"local alone runs the agent; ssh alone runs one stub", t_local_and_ssh_alone},
	    {"setns last: the gateway's agent enters, no stub", t_setns_last_is_the_agent_itself},
	    {"ssh then setns: --setns=pid:42 as the stub's agent args",
	     t_ssh_then_setns_gives_the_stub_agent_args},
	    {"setns then sudo or doas: the agent execs the rest; two stubs behind ssh",
	     t_setns_then_sudo_wraps_the_rest},
	    {"two doas passwords: askpass per stage, outermost first",
	     t_two_doas_passwords_in_stage_order},
	    {"ssh/su/su/lxc run through fake tools: the stub arrives intact",
	     t_ssh_su_su_runs_through_a_fake_su},
	};

	return tu_add_suite("hop", NULL, NULL, tests, sizeof(tests) / sizeof(tests[0]));
}
