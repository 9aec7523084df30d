/* The one-word stand-ins (see standin.h): which one argv[0] names, and the scp/sftp that
 * jumpgate-scp and jumpgate-sftp become. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "client/standin.h"
#include "relay/err.h"

enum jg_standin jg_standin_kind(const char *argv0)
{
	static const struct {
		const char *name;
		enum jg_standin kind;
	} names[] = {
	    {JG_STANDIN_SSH_NAME, JG_STANDIN_SSH},
	    {"jumpgate-scp", JG_STANDIN_SCP},
	    {"jumpgate-sftp", JG_STANDIN_SFTP},
	};
	const char *base;

	if (argv0 == NULL)
		return JG_STANDIN_NONE;
	base = strrchr(argv0, '/');
	base = base != NULL ? base + 1 : argv0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(base, names[i].name) == 0)
			return names[i].kind;
	return JG_STANDIN_NONE;
}

const char *jg_standin_program(enum jg_standin kind)
{
	switch (kind) {
	case JG_STANDIN_SCP:
		return "scp";
	case JG_STANDIN_SFTP:
		return "sftp";
	case JG_STANDIN_NONE:
	case JG_STANDIN_SSH:
		break;
	}
	return NULL;
}

int jg_standin_argv(enum jg_standin kind, const char *ssh, int argc, char *const *argv, char **out)
{
	const char *prog = jg_standin_program(kind);
	int n = 0;

	if (prog == NULL || ssh == NULL || argc < 1)
		return JG_ERR_INVAL;
	/* -S first: a -S the caller gives later wins, as scp and sftp keep the last one. */
	out[n++] = (char *)prog;
	out[n++] = "-S";
	out[n++] = (char *)ssh;
	for (int i = 1; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return 0;
}

/* DIR/NAME into BUF when it is an executable file. */
static int try_dir(const char *dir, size_t dlen, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.*s%s%s", (int)dlen, dir, dlen > 0 ? "/" : "",
			 JG_STANDIN_SSH_NAME);

	return n > 0 && (size_t)n < len && access(buf, X_OK) == 0 ? 0 : JG_ERR_NOTFOUND;
}

int jg_standin_find_ssh(const char *argv0, char *buf, size_t len)
{
	const char *slash = argv0 != NULL ? strrchr(argv0, '/') : NULL;
	const char *path = getenv("PATH"), *p, *colon;

	/* Installed side by side: the jumpgate-ssh of the same installation, whatever PATH
	 * says (a copy in /usr/local/bin must not pick up /usr/bin's). */
	if (slash != NULL)
		return try_dir(argv0, slash == argv0 ? 1 : (size_t)(slash - argv0), buf, len);
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = colon + 1) {
		size_t n;

		colon = strchr(p, ':');
		n = colon != NULL ? (size_t)(colon - p) : strlen(p);
		/* An empty PATH element is the current directory, as for execvp(). */
		if (try_dir(n > 0 ? p : ".", n > 0 ? n : 1, buf, len) == 0)
			return 0;
		if (colon == NULL)
			return JG_ERR_NOTFOUND;
	}
}

int jg_standin_exec(enum jg_standin kind, int argc, char **argv)
{
	const char *prog = jg_standin_program(kind), *me = argc > 0 ? argv[0] : "jumpgate-scp";
	char ssh[4096];
	char **run;

	if (prog == NULL)
		return JG_EXIT_FAILURE;
	if (jg_standin_find_ssh(me, ssh, sizeof(ssh)) != 0) {
		fprintf(stderr,
			"%s: cannot find %s %s%s: it is installed next to jumpgate by "
			"'make install' (or make the symlink: ln -s jumpgate %s)\n",
			me, JG_STANDIN_SSH_NAME, strchr(me, '/') != NULL ? "next to " : "on PATH",
			strchr(me, '/') != NULL ? me : "", JG_STANDIN_SSH_NAME);
		return JG_EXIT_FAILURE;
	}
	if ((run = calloc((size_t)argc + 3, sizeof(*run))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", me);
		return JG_EXIT_FAILURE;
	}
	if (jg_standin_argv(kind, ssh, argc, argv, run) == 0)
		execvp(prog, run);
	fprintf(stderr,
		"%s: cannot run %s: %s (it comes with OpenSSH's client: "
		"apt-get install openssh-client)\n",
		me, prog, strerror(errno));
	free(run);
	return JG_EXIT_FAILURE;
}
