/* Tests for relay/hop.c: the exact argv of every method as the last hop, chains of
 * several hops (stub stages, askpass order, the setns trampoline), the refusals of
 * jg_chain_check, jg_sh_join's words, and a property test of quoting at depth run
 * through a real /bin/sh: whatever bytes an argument holds, it arrives unchanged
 * after any number of shell layers. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay/argv.h"
#include "relay/err.h"
#include "relay/hop.h"
#include "relay/sh.h"
#include "relay/spawn.h"
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
#define RUN_MS 10000 /* bound of one shell run */

/* ---- building hops ---- */

static char *xdup(const char *s)
{
	char *d = strdup(s);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	return d;
}

/* A hop of method M; USER and NAME (either may be NULL) into o.user and o.name. */
static void mk(struct jg_hop *h, enum jg_method m, const char *user, const char *name)
{
	memset(h, 0, sizeof(*h));
	h->method = m;
	h->o.user = user != NULL ? xdup(user) : NULL;
	h->o.name = name != NULL ? xdup(name) : NULL;
}

static void mk_ssh(struct jg_hop *h, const char *host)
{
	memset(h, 0, sizeof(*h));
	h->method = JG_METHOD_SSH;
	h->ssh.host = xdup(host);
	h->ssh.check_host_keys = JG_HOSTKEYS_ENFORCE;
}

static void mk_setns_pid(struct jg_hop *h, long pid)
{
	mk(h, JG_METHOD_SETNS, NULL, NULL);
	h->o.setns_kind = JG_SETNS_PID;
	h->o.pid = pid;
}

static void clear_hops(struct jg_hop *hops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jg_hop_clear(&hops[i]);
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

	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	hops[1] = *h;
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, want);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1);
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);
}

/* ---- running shell text ---- */

/* Run ARGV (stdin at EOF, ENVP NULL: ours) and put its stdout in OUT (NUL-terminated, at
 * most CAP - 1 bytes).  Bounded by RUN_MS: past it the whole process group is killed.
 * Returns the length, or -1 when the run timed out or did not exit with status 0. */
static ssize_t run_capture(char *const *argv, char *const *envp, char *out, size_t cap)
{
	struct jg_spawn_opts o = {.argv = argv, .envp = envp};
	struct jg_child c;
	char err[512], ebuf[1024], scratch[4096];
	size_t len = 0, elen = 0;
	long end = tu_now_ms() + RUN_MS;
	int st = -1, timed_out = 0;
	pid_t w = 0;

	if (jg_spawn(&o, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "\ncannot spawn %s: %s\n", argv[0], err);
		return -1;
	}
	close(c.in_fd);
	c.in_fd = -1;
	while ((c.out_fd >= 0 || c.err_fd >= 0) && tu_now_ms() < end) {
		struct pollfd p[2] = {{c.out_fd, POLLIN, 0}, {c.err_fd, POLLIN, 0}};
		int *fds[2] = {&c.out_fd, &c.err_fd};

		if (poll(p, 2, 100) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			char *buf = i == 0 ? out + len : ebuf + elen;
			size_t room = i == 0 ? cap - 1 - len : sizeof(ebuf) - 1 - elen;
			ssize_t n;

			if (*fds[i] < 0 || p[i].revents == 0)
				continue;
			if (room == 0) { /* keep reading so the child never blocks */
				buf = scratch;
				room = sizeof(scratch);
			}
			n = read(*fds[i], buf, room);
			if (n > 0 && buf != scratch)
				*(i == 0 ? &len : &elen) += (size_t)n;
			else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				close(*fds[i]);
				*fds[i] = -1;
			}
		}
	}
	while ((w = waitpid(c.pid, &st, WNOHANG)) == 0 && tu_now_ms() < end)
		usleep(1000);
	if (w == 0) {
		timed_out = 1;
		kill(-c.pid, SIGKILL);
		st = tu_wait_child(c.pid);
	}
	tu_close_child(&c);
	out[len] = '\0';
	ebuf[elen] = '\0';
	if (timed_out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "\n%s: %s (status %d); stderr: %s\n", argv[0],
			timed_out ? "timed out" : "failed", st, ebuf);
		return -1;
	}
	return (ssize_t)len;
}

/* /bin/sh -c SCRIPT, stdout into OUT. */
static ssize_t run_sh(const char *script, char *const *envp, char *out, size_t cap)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

	return run_capture(argv, envp, out, cap);
}

/* ---- the last hop after local: every method's argv ---- */

static void t_sudo_argv(void)
{
	struct jg_hop h;

	mk(&h, JG_METHOD_SUDO, "jgx1", NULL);
	last_after_local(&h, (const char *const[]){TOOL("sudo"), "-n", "-H", "-u", "jgx1", "--",
						   "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
	/* A password: sudo reads it from stdin after a prompt naming the hop (index 1). */
	mk(&h, JG_METHOD_SUDO, "jgx1", NULL);
	h.o.password = xdup("pw");
	last_after_local(&h, (const char *const[]){
				 TOOL("sudo"), "-S", "-p", "jumpgate-sudo-password-1: ", "-H", "-u",
				 "jgx1", "--", "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
	/* login, preserve_env, SELinux, sudo_path; no user means root. */
	mk(&h, JG_METHOD_SUDO, NULL, NULL);
	h.o.login = 1;
	h.o.preserve_env = 1;
	h.o.role = xdup("webadm_r");
	h.o.type = xdup("webadm_t");
	h.o.tool_path = xdup("/usr/local/bin/sudo");
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
	mk_ssh(&hops[0], "h1");
	mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	hops[1].o.password = xdup("s3cret-a");
	mk(&hops[2], JG_METHOD_SUDO, "pg", NULL);
	hops[2].o.password = xdup("s3cret-b");
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
	clear_hops(hops, 3);
}

static void t_su_argv_runs_the_stub(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;
	char want[256], out[512];

	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_SU, "jgx2", NULL);
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
	clear_hops(hops, 2);

	/* login and su_path; no user means root. */
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_SU, NULL, NULL);
	hops[1].o.login = 1;
	hops[1].o.tool_path = xdup("/bin/su");
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){"/bin/su", "-l", "root", "-c", want, NULL});
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);
}

static void t_doas_argv(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;

	mk(&hops[0], JG_METHOD_DOAS, "x", NULL);
	last_after_local(&hops[0],
			 (const char *const[]){TOOL("doas"), "-n", "-u", "x", "--", "/bin/sh", "-c",
					       STUB, "jumpgate-stub", NULL});
	/* With a password: the gateway's own agent gives doas a terminal and reads the
	 * password (stage 0, hop 1) as its first stdin line. */
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_DOAS, "x", NULL);
	hops[1].o.password = xdup("pw");
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv,
		    (const char *const[]){AGENT, "--askpass-tty", "--", TOOL("doas"), "-u", "x",
					  "--", "/bin/sh", "-c", STUB, "jumpgate-stub", NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.askpass[0], 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT_EQUAL(cmd.askpass[1], -1); /* the stub's agent is the final one */
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);
}

static void t_container_argvs(void)
{
	struct jg_hop h;

	mk(&h, JG_METHOD_DOCKER, "app", "ct");
	/* No "--": docker stops parsing options at the container. */
	last_after_local(&h, (const char *const[]){"docker", "exec", "-i", "-u", "app", "ct", "sh",
						   "-c", STUB, "jumpgate-stub", NULL});
	mk(&h, JG_METHOD_DOCKER, NULL, "ct");
	h.o.tool_path = xdup("/usr/local/bin/docker");
	last_after_local(&h, (const char *const[]){"/usr/local/bin/docker", "exec", "-i", "ct",
						   "sh", "-c", STUB, "jumpgate-stub", NULL});

	mk(&h, JG_METHOD_KUBECTL, NULL, "api-0");
	h.o.args = calloc(3, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.o.args);
	h.o.args[0] = xdup("--kubeconfig=/k/config");
	h.o.args[1] = xdup("--request-timeout=5s");
	h.o.context = xdup("prod-eu");
	h.o.kube_ns = xdup("shop");
	h.o.container = xdup("app");
	last_after_local(&h, (const char *const[]){"kubectl", "--kubeconfig=/k/config",
						   "--request-timeout=5s", "--context", "prod-eu",
						   "-n", "shop", "exec", "-i", "api-0", "-c", "app",
						   "--", "sh", "-c", STUB, "jumpgate-stub", NULL});
	mk(&h, JG_METHOD_KUBECTL, NULL, "api-0");
	last_after_local(&h, (const char *const[]){"kubectl", "exec", "-i", "api-0", "--", "sh",
						   "-c", STUB, "jumpgate-stub", NULL});

	mk(&h, JG_METHOD_LXC, NULL, "pg");
	h.o.lxc_dir = xdup("/srv/lxc");
	last_after_local(&h, (const char *const[]){"lxc-attach", "--clear-env", "-P", "/srv/lxc",
						   "-n", "pg", "--", "sh", "-c", STUB,
						   "jumpgate-stub", NULL});
	mk(&h, JG_METHOD_LXC, NULL, "pg");
	h.o.tool_path = xdup("/opt/lxc/bin/lxc-attach");
	last_after_local(&h,
			 (const char *const[]){"/opt/lxc/bin/lxc-attach", "--clear-env", "-n", "pg",
					       "--", "sh", "-c", STUB, "jumpgate-stub", NULL});

	mk(&h, JG_METHOD_LXD, NULL, "c1");
	last_after_local(&h, (const char *const[]){"lxc", "exec", "--mode=non-interactive", "c1",
						   "--", "sh", "-c", STUB, "jumpgate-stub", NULL});
	mk(&h, JG_METHOD_LXD, NULL, "c1");
	h.o.tool_path = xdup("/snap/bin/lxc");
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

	mk(&h, JG_METHOD_LOCAL, NULL, NULL);
	build(&h, 1, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 0);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	jg_argv_free(cmd.argv);
	jg_hop_clear(&h);

	mk_ssh(&h, "web1");
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

	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_setns_pid(&hops[1], 42);
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=pid:42", NULL});
	CU_ASSERT_EQUAL(cmd.direct_agent, 1);
	CU_ASSERT_EQUAL(cmd.nstubs, 0);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);

	/* By container name, as a user, with the inspect tool's path. */
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_SETNS, "www", "web");
	hops[1].o.setns_kind = JG_SETNS_DOCKER;
	hops[1].o.tool_path = xdup("/usr/bin/docker");
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=docker:web", "--setns-user=www",
						    "--setns-tool-path=/usr/bin/docker", NULL});
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);

	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_SETNS, NULL, "m1");
	hops[1].o.setns_kind = JG_SETNS_MACHINECTL;
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=machinectl:m1", NULL});
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);

	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_SETNS, NULL, "pg");
	hops[1].o.setns_kind = JG_SETNS_LXC;
	build(hops, 2, STUB, &cmd);
	assert_argv(cmd.argv, (const char *const[]){AGENT, "--setns=lxc:pg", NULL});
	jg_argv_free(cmd.argv);
	clear_hops(hops, 2);
}

static void t_ssh_then_setns_gives_the_stub_agent_args(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;
	char want[256], out[512];
	size_t n;

	mk_ssh(&hops[0], "h1");
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
	clear_hops(hops, 2);
}

static void t_setns_then_sudo_wraps_the_rest(void)
{
	struct jg_hop hops[3];
	struct jg_chain_cmd cmd;
	char out[1024], want[1024];

	/* local -> setns -> sudo: the gateway's agent enters, then execs sudo and its stub. */
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_setns_pid(&hops[1], 42);
	mk(&hops[2], JG_METHOD_SUDO, "root", NULL);
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
	mk_ssh(&hops[0], "h1");
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
	clear_hops(hops, 3);

	/* local -> setns -> doas (pw): inside the namespaces only a stub can start the
	 * askpass agent (the gateway's binary is not there), and that stage reads hop 2's
	 * password. */
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_setns_pid(&hops[1], 42);
	mk(&hops[2], JG_METHOD_DOAS, "x", NULL);
	hops[2].o.password = xdup("pw");
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
	clear_hops(hops, 3);
}

/* ---- stages and askpass order ---- */

static void t_two_doas_passwords_in_stage_order(void)
{
	struct jg_hop hops[3];
	struct jg_chain_cmd cmd;

	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_DOAS, "a", NULL);
	hops[1].o.password = xdup("pa");
	mk(&hops[2], JG_METHOD_DOAS, "b", NULL);
	hops[2].o.password = xdup("pb");
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
	mk_ssh(&hops[0], "h1");
	build(hops, 3, STUB, &cmd);
	CU_ASSERT_EQUAL(cmd.direct_agent, 0);
	CU_ASSERT_EQUAL(cmd.nstubs, 3);
	CU_ASSERT_EQUAL(cmd.askpass[0], -1);
	CU_ASSERT_EQUAL(cmd.askpass[1], 1);
	CU_ASSERT_EQUAL(cmd.askpass[2], 2);
	CU_ASSERT_EQUAL(cmd.askpass[3], -1);
	jg_argv_free(cmd.argv);
	clear_hops(hops, 3);
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

	mk_ssh(&hops[0], "h1");
	/* su_path: PATH is never searched for su */
	mk(&hops[1], JG_METHOD_SU, "a", NULL);
	hops[1].o.tool_path = xdup(su);
	mk(&hops[2], JG_METHOD_SU, "b", NULL);
	hops[2].o.tool_path = xdup(su);
	hops[2].o.login = 1;
	mk(&hops[3], JG_METHOD_LXC, NULL, "pg");
	build(hops, 4, RSTUB, &cmd);
	CU_ASSERT_EQUAL(cmd.nstubs, 1);
	CU_ASSERT(run_sh(cmd.argv[argc_of(cmd.argv) - 1], envp, out, sizeof(out)) > 0);
	snprintf(want, sizeof(want), "<lxc>[jumpgate-stub]");
	CU_ASSERT_STRING_EQUAL(out, want);
	jg_argv_free(cmd.argv);
	clear_hops(hops, 4);
	free(su);
	free(lxc);
	tu_tmpdir_free(dir);
}

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
	mk_ssh(&hops[0], "h1");
	mk(&hops[1], JG_METHOD_LOCAL, NULL, NULL);
	check_refused(hops, 2, "\"local\" can only be the first hop of a chain");
	clear_hops(hops, 2);

	/* A tunnel target runs no agent: not a hop of a chain, wherever it is. */
	mk_ssh(&hops[0], "office");
	hops[0].method = JG_METHOD_TUNNEL;
	mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	check_refused(hops, 2,
		      "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	clear_hops(hops, 2);
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_ssh(&hops[1], "office");
	hops[1].method = JG_METHOD_TUNNEL;
	check_refused(hops, 2,
		      "a tunnel target carries tunnels only: it cannot be a hop of a chain");
	clear_hops(hops, 2);

	/* ssh passwords: the first hop (or the first after local) only. */
	mk_ssh(&hops[0], "h1");
	mk_ssh(&hops[1], "h2");
	hops[1].ssh.password = xdup("pw");
	check_refused(hops, 2,
		      "hop 2 (ssh to h2): ssh passwords work on the first hop only (ssh reads "
		      "them from a terminal); use a key");
	clear_hops(hops, 2);
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk(&hops[1], JG_METHOD_SUDO, "x", NULL);
	mk_ssh(&hops[2], "h3");
	hops[2].ssh.password = xdup("pw");
	check_refused(hops, 3,
		      "hop 3 (ssh to h3): ssh passwords work on the first hop only (ssh reads "
		      "them from a terminal); use a key");
	clear_hops(hops, 3);
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	mk_ssh(&hops[1], "h2");
	hops[1].ssh.password = xdup("pw");
	mk(&hops[2], JG_METHOD_SUDO, "x", NULL);
	CU_ASSERT_EQUAL(jg_chain_check(hops, 3, err, sizeof(err)), 0); /* local, then ssh: fine */
	clear_hops(hops, 3);

	/* Raw ssh runs no agent: nothing can come after it. */
	mk_ssh(&hops[0], "h1");
	hops[0].ssh.raw = 1;
	mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	check_refused(hops, 2,
		      "hop 1 (ssh to h1): raw mode runs no agent, so it works for a target of one "
		      "ssh hop only");
	clear_hops(hops, 2);

	/* 1 to 8 hops. */
	check_refused(hops, 0, "a chain has 1 to 8 hops");
	mk(&hops[0], JG_METHOD_LOCAL, NULL, NULL);
	for (size_t i = 1; i < JG_CHAIN_MAX_HOPS + 1; i++)
		mk(&hops[i], JG_METHOD_SUDO, "root", NULL);
	check_refused(hops, JG_CHAIN_MAX_HOPS + 1, "a chain has 1 to 8 hops");
	CU_ASSERT_EQUAL(jg_chain_check(hops, JG_CHAIN_MAX_HOPS, err, sizeof(err)), 0);
	clear_hops(hops, JG_CHAIN_MAX_HOPS + 1);
}

static void t_chain_argv_passes_ssh_refusals_on(void)
{
	struct jg_hop hops[2];
	struct jg_chain_cmd cmd;
	char err[256] = "";

	/* A hop jg_ssh_argv refuses (validation is config/target.c's, but ssh re-checks). */
	mk_ssh(&hops[0], "-oProxyCommand=x");
	mk(&hops[1], JG_METHOD_SUDO, "root", NULL);
	CU_ASSERT_EQUAL(jg_chain_argv(hops, 2, AGENT, STUB, &cmd, err, sizeof(err)), JG_ERR_INVAL);
	CU_ASSERT_PTR_NULL(cmd.argv);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "-oProxyCommand=x"));
	clear_hops(hops, 2);
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

	mk(&a, JG_METHOD_KUBECTL, "u", "api-0");
	a.o.args = calloc(2, sizeof(char *));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.o.args);
	a.o.args[0] = xdup("--kubeconfig=/k");
	a.o.container = xdup("c");
	a.o.kube_ns = xdup("ns");
	a.o.context = xdup("ctx");
	a.o.tool_path = xdup("/bin/kubectl");
	a.o.lxc_dir = xdup("/d");
	a.o.role = xdup("r");
	a.o.type = xdup("t");
	a.o.password = xdup("secret");
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

/* ---- jg_sh_join ---- */

static void join_is(char *const *argv, const char *want)
{
	char *s = jg_sh_join(argv);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	if (strcmp(s, want) != 0)
		fprintf(stderr, "\njg_sh_join: [%s]\n      want [%s]\n", s, want);
	CU_ASSERT_STRING_EQUAL(s, want);
	free(s);
}

#define JOIN_IS(want, ...) join_is((char *const[]){__VA_ARGS__, NULL}, want)

static void t_sh_join_words(void)
{
	/* Words only of characters no shell treats specially stay as they are. */
	JOIN_IS("sudo -n -H -u jgx1 -- sh", "sudo", "-n", "-H", "-u", "jgx1", "--", "sh");
	JOIN_IS("--setns=pid:42 u@h:22 /a/b_c.d +x,y%z", "--setns=pid:42", "u@h:22", "/a/b_c.d",
		"+x,y%z");
	/* Anything else is single-quoted; an empty word is ''. */
	JOIN_IS("'' a ''", "", "a", "");
	JOIN_IS("'a b' '$x' '`id`' '~' '*' 'a;b' 'a\nb' '\\'", "a b", "$x", "`id`", "~", "*", "a;b",
		"a\nb", "\\");
	JOIN_IS("'\xc3\xa9t\xc3\xa9'", "\xc3\xa9t\xc3\xa9");
	/* A quote: close, an escaped quote, reopen. */
	JOIN_IS("'it'\\''s'", "it's");
	JOIN_IS("''\\'''", "'");
	JOIN_IS("''\\'''\\'''", "''");
	join_is((char *const[]){NULL}, "");
}

/* ---- property: quoting at depth, through a real /bin/sh ---- */

static uint64_t rng;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1DULL) >> 32);
}

/* 0-30 bytes from 1..255, the characters shells care about weighted in. */
static char *rand_word(void)
{
	static const char special[] = "'\"$`\\!\n *?~#;&|<>(){}";
	size_t len = rnd() % 31;
	char *w = malloc(len + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (size_t i = 0; i < len; i++)
		w[i] = rnd() % 2 ? special[rnd() % (sizeof(special) - 1)] : (char)(1 + rnd() % 255);
	w[len] = '\0';
	return w;
}

static void show_bytes(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "  %s (%zu):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, " %02x", (unsigned char)s[i]);
	fprintf(stderr, "\n");
}

/* WORDS wrapped DEPTH times (each layer is one string given to `sh -c`, as ssh and su
 * give it to the far side's shell) and run: the innermost program prints each word
 * NUL-terminated.  STUB_FORM: the innermost is `sh -c '<script>' jumpgate-stub WORDS`,
 * the shape the chain's stubs have.  1 when the output is the words, byte for byte. */
static int round_trip(char **words, size_t n, int depth, int stub_form)
{
	struct jg_argv b = {0};
	char **cur, out[8192], want[8192];
	size_t wlen = 0;
	ssize_t len;
	int ok;

	if (stub_form) {
		jg_argv_push(&b, "sh");
		jg_argv_push(&b, "-c");
		jg_argv_push(&b, "exec /usr/bin/printf \"%s\\0\" \"$@\"");
		jg_argv_push(&b, "jumpgate-stub");
	} else {
		jg_argv_push(&b, "/usr/bin/printf");
		jg_argv_push(&b, "%s\\0");
	}
	for (size_t i = 0; i < n; i++) {
		jg_argv_push(&b, words[i]);
		memcpy(want + wlen, words[i], strlen(words[i]) + 1);
		wlen += strlen(words[i]) + 1;
	}
	cur = jg_argv_take(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
	for (int d = 0; d < depth; d++) {
		char *s = jg_sh_join(cur);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		jg_argv_free(cur);
		jg_argv_push(&b, d == depth - 1 ? "/bin/sh" : "sh");
		jg_argv_push(&b, "-c");
		jg_argv_push_take(&b, s);
		cur = jg_argv_take(&b);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
	}
	len = run_capture(cur, NULL, out, sizeof(out));
	ok = len == (ssize_t)wlen && memcmp(out, want, wlen) == 0;
	if (!ok) {
		fprintf(stderr, "\nquoting at depth %d (%s form) lost bytes:\n", depth,
			stub_form ? "stub" : "printf");
		for (size_t i = 0; i < n; i++)
			show_bytes("word", words[i], strlen(words[i]));
		show_bytes("got", out, len < 0 ? 0 : (size_t)len);
		fprintf(stderr, "  command: %s\n", cur[2]);
	}
	jg_argv_free(cur);
	return ok;
}

static void t_quoting_property_at_depth(void)
{
	const char *env = getenv("JG_HOP_SEED");
	uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : 0x6a756d7067617465ULL;
	int failures = 0;

	rng = seed != 0 ? seed : 1;
	fprintf(stderr, "\n  quoting property: seed 0x%llx (JG_HOP_SEED to repeat)... ",
		(unsigned long long)seed);
	for (int i = 0; i < 300 && failures < 3; i++) {
		char *words[5];
		size_t n = 1 + rnd() % 5;

		for (size_t k = 0; k < n; k++)
			words[k] = rand_word();
		for (int depth = 1; depth <= 3; depth++)
			if (!round_trip(words, n, depth, i % 2)) {
				fprintf(stderr, "  (case %d, seed 0x%llx)\n", i,
					(unsigned long long)seed);
				failures++;
				CU_FAIL("an argument changed on its way through the shells");
			}
		for (size_t k = 0; k < n; k++)
			free(words[k]);
	}
}

int jg_test_register_hop(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
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
	    {"chain check: local, tunnel, ssh password, raw, 0 and 9 hops", t_chain_check_refusals},
	    {"chain argv: an ssh refusal is passed on", t_chain_argv_passes_ssh_refusals_on},
	    {"method names and lookup", t_method_names},
	    {"hop copy: every method option, deep", t_hop_copy_of_method_options},
	    {"sh_join: plain words bare, '' for empty, '\\'' for a quote", t_sh_join_words},
	    {"property: 300 random argvs survive 1-3 shell layers byte for byte",
	     t_quoting_property_at_depth},
	};
	CU_pSuite s = CU_add_suite("hop", NULL, NULL);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
