/* `jumpgate rsh [ssh options] HOST COMMAND...`: an ssh stand-in for the tools that run
 * one (rsync -e, git's GIT_SSH_COMMAND, scp -S, Ansible's ssh plugin, Mitogen).
 *
 * client/rshargs.c turns ssh's argv into a target and ["/bin/sh", "-c", COMMAND]; this
 * file does the I/O around it (the environment for SendEnv, /dev/null for -n, the
 * version and -G answers) and runs the command through jg_client_run_exec(), the same
 * path as `jumpgate exec`: stdin streamed with the gateway's flow control and closed at
 * its end while the output keeps flowing, stdout nothing but the program's stdout.
 *
 * Like ssh, every failure of our own exits 255 (usage errors included: callers such as
 * rsync read 255 as "the connection failed"), with one line "jumpgate rsh: ..." on
 * stderr. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "client/rshargs.h"
#include "relay/log.h"

#define RSH_PROG "jumpgate rsh"

extern char **environ;

static void rsh_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void rsh_fail(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, RSH_PROG ": %s\n", line);
	fflush(stderr);
}

/* A name env(1) reads as a variable, never as an option or a command. */
static int rsh_env_name_ok(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv || (kv[0] >= '0' && kv[0] <= '9'))
		return 0;
	for (const char *p = kv; p < eq; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* The variables SendEnv and SetEnv ask for, "NAME=VALUE" (borrowed), into OUT (room for
 * every entry of environ plus every SetEnv).  Returns how many. */
static size_t rsh_env(const struct jg_rshargs *a, char **out)
{
	size_t n = 0;

	for (char **e = environ; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		char name[256];

		if (eq == NULL || (size_t)(eq - *e) >= sizeof(name) || !rsh_env_name_ok(*e))
			continue;
		memcpy(name, *e, (size_t)(eq - *e));
		name[eq - *e] = '\0';
		for (size_t i = 0; i < a->nsendenv; i++) {
			if (fnmatch(a->sendenv[i], name, 0) == 0) {
				out[n++] = *e;
				break;
			}
		}
	}
	for (size_t i = 0; i < a->nsetenv; i++) {
		if (rsh_env_name_ok(a->setenv[i]))
			out[n++] = a->setenv[i];
		else {
			char q[256];

			jg_rshargs_quote(q, sizeof(q), a->setenv[i], 60);
			jg_log_warn("SetEnv %s: not a variable name, ignored", q);
		}
	}
	return n;
}

/* Run the parsed command.  The environment goes through env(1) in front of the shell:
 * an exec spec's ENV replaces the whole environment, SendEnv only adds to it. */
static int rsh_run(struct jg_client *c, const struct jg_rshargs *a)
{
	size_t nenv = 0, n = 0;
	char **run;
	int tty, status;

	while (environ[nenv] != NULL)
		nenv++;
	if ((run = calloc(nenv + a->nsetenv + 5, sizeof(*run))) == NULL) {
		rsh_fail("out of memory");
		return JG_EXIT_FAILURE;
	}
	run[n++] = "/usr/bin/env";
	n += rsh_env(a, run + n);
	if (n == 1)
		n = 0; /* nothing to pass: the shell directly */
	run[n++] = a->argv[0];
	run[n++] = a->argv[1];
	run[n++] = a->argv[2];
	run[n] = NULL;

	switch (a->tty) {
	case JG_RSHARGS_TTY_FORCE:
		tty = JG_CLIENT_TTY_FORCE;
		break;
	case JG_RSHARGS_TTY_IF_TERMINAL:
		/* ssh -q says nothing about a terminal it cannot have: neither do we. */
		tty = a->quiet && !isatty(0) ? JG_CLIENT_TTY_NO : JG_CLIENT_TTY_IF_TERMINAL;
		break;
	case JG_RSHARGS_TTY_NO:
	default:
		tty = JG_CLIENT_TTY_NO;
		break;
	}
	jg_log_debug("target %s, command: %s", a->target, a->argv[2]);
	status = jg_client_run_exec(c, a->target, run, NULL, NULL,
				    tty | JG_CLIENT_EXEC_SOFT_EPIPE |
					jg_client_agent_flags(a->forward_agent));
	free(run);
	return status;
}

int jg_cmd_rsh(struct jg_client *c, int argc, char **argv)
{
	struct jg_rshargs a;
	char err[512];
	int status = JG_EXIT_FAILURE, fd;

	c->prog = RSH_PROG;
	jg_client_set_prog(RSH_PROG);
	jg_log_init(RSH_PROG, jg_log_get_level());
	if (jg_rshargs_parse(&a, argc - 1, argv + 1, err, sizeof(err)) != 0) {
		rsh_fail("%s; see 'jumpgate rsh --help'", err);
		goto out;
	}
	switch (a.action) {
	case JG_RSHARGS_HELP:
		jg_help_rsh();
		status = 0;
		goto out;
	case JG_RSHARGS_VERSION:
		/* On stderr, as ssh -V prints it. */
		fprintf(stderr, "jumpgate rsh %s (ssh-compatible front end of jumpgate)\n",
			PACKAGE_VERSION);
		status = 0;
		goto out;
	case JG_RSHARGS_CONFIG: {
		char qh[1300], qu[300];

		/* git runs "ssh -G HOST" and passes -p and SendEnv only when it succeeds.  The
		 * words quoted: a host given with -o HostName is not checked otherwise. */
		jg_rshargs_quote(qh, sizeof(qh), a.host, sizeof(a.host));
		jg_rshargs_quote(qu, sizeof(qu), a.user, sizeof(a.user));
		printf("host %s\nhostname %s\n", qh, qh);
		if (a.user[0] != '\0')
			printf("user %s\n", qu);
		printf("port %u\n", a.port != 0 ? a.port : 22);
		status = fflush(stdout) == 0 ? 0 : JG_EXIT_FAILURE;
		goto out;
	}
	case JG_RSHARGS_CTL_STOPPED:
		status = 0; /* there is no master connection to stop */
		goto out;
	case JG_RSHARGS_CTL_NONE:
		rsh_fail("no control master: jumpgate rsh keeps none (the gateway keeps the "
			 "connections to targets)");
		goto out;
	case JG_RSHARGS_RUN:
		break;
	}
	if (a.quiet)
		jg_log_set_level(JG_LOG_ERROR);
	else if (a.verbose > 0 && jg_log_get_level() < (a.verbose > 1 ? JG_LOG_DEBUG : JG_LOG_INFO))
		jg_log_set_level(a.verbose > 1 ? JG_LOG_DEBUG : JG_LOG_INFO);
	if (a.stdin_null) {
		if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0) {
			rsh_fail("cannot open /dev/null for -n: %s", strerror(errno));
			goto out;
		}
		if (fd != 0)
			close(fd);
	}
	/* jg_client_setup() reports its own errors; we keep ssh's 255 for all of them. */
	if (jg_client_setup(c) != 0)
		goto out;
	status = rsh_run(c, &a);
out:
	jg_rshargs_clear(&a);
	return status;
}
