/* The argv of an ssh client, as rsync -e, scp -S, git (GIT_SSH_COMMAND), Ansible's ssh
 * connection plugin and Mitogen's ssh method build it, turned into a jumpgate exec.
 *
 * Sans-I/O: strings in, a struct out; no file, terminal or socket is touched, so every
 * spelling is pinned by tests/unit/test_rshargs.c.
 *
 * Syntax is ssh's own (OpenSSH 9 ssh.c): single-letter options, bundled (-tt, -Cq) and
 * with values attached (-p2222, -oUser=x) or separate; options may also follow the host
 * (ssh restarts option parsing after it) until the first other word or "--"; then the
 * command words, joined with single spaces and no quoting added, exactly as ssh sends
 * them.  The joined command runs as ["/bin/sh", "-c", COMMAND] on the target.
 *
 * Honoured: the user (-l, -o User, user@host: the first one given wins, as in ssh), the
 * port (-p, -o Port), -o HostName, the terminal (-t, -tt, -T, -o RequestTTY), -n and -o
 * StdinNull, -s and -o SessionType=subsystem (sftp only), -o RemoteCommand, -o SendEnv
 * and -o SetEnv (the caller exports them with env(1)), -v and -q, -V, -G (git runs
 * "ssh -G" to learn whether it may pass -p and SendEnv), -O check/exit/stop.  Refused:
 * -Q, -N, -W, subsystems other than sftp.  Every other option of ssh is accepted and
 * ignored.
 *
 * The target: when a user or a port is given and HOST is a plain name or an address, the
 * spec "ssh:[USER@]HOST[:PORT]" (the gateway's ssh_defaults apply, not an inventory entry
 * of that name); without either, HOST is passed as written (an inventory name, or a host
 * the gateway reaches over ssh).  HOST may also be a spec itself ("local", "ssh:...",
 * "a/b"), which cannot take a user or a port from the options; it may not start with
 * '-' nor hold whitespace, control or non-ASCII bytes (the gateway would refuse it too,
 * but our own messages print the target).
 *
 * Refusals quote every word they name (jg_rshargs_quote): the argv may come from a
 * hostile repository URL or inventory, and the reason lands on a terminal. */
#ifndef JG_RSHARGS_H
#define JG_RSHARGS_H

#include <stddef.h>

enum jg_rshargs_action {
	JG_RSHARGS_RUN = 0,	/* run argv on target */
	JG_RSHARGS_VERSION,	/* -V: print a version line on stderr, exit 0 */
	JG_RSHARGS_HELP,	/* --help: print the manual page, exit 0 */
	JG_RSHARGS_CTL_STOPPED, /* -O exit|stop: no master to stop, exit 0 */
	JG_RSHARGS_CTL_NONE,	/* -O check: no master runs, say so and exit 255 */
	JG_RSHARGS_CONFIG,	/* -G: print user, hostname, port as ssh would, exit 0 */
};

/* Which terminal the command gets. */
enum jg_rshargs_tty {
	JG_RSHARGS_TTY_NO = 0,	    /* default (a command is always given), -T */
	JG_RSHARGS_TTY_IF_TERMINAL, /* -t: a pty when our stdin is a terminal */
	JG_RSHARGS_TTY_FORCE,	    /* -tt: a pty even when it is not */
};

/* At most this many SendEnv patterns and SetEnv variables each. */
#define JG_RSHARGS_ENV_MAX 32

struct jg_rshargs {
	enum jg_rshargs_action action;
	char target[600]; /* the jumpgate target: "web1", "ssh:deploy@db7:2222", "local" */
	char host[300];	  /* the host as given (after user@ and URI parts are taken off) */
	char user[72];	  /* "" when none was given */
	unsigned port;	  /* 0 when none was given */
	char *command;	  /* the joined command words (owned), NULL for the actions */
	char *argv[4];	  /* {"/bin/sh", "-c", command or the sftp starter, NULL} */
	enum jg_rshargs_tty tty;
	int stdin_null;	   /* -n, -f, StdinNull: the remote stdin is /dev/null */
	int verbose;	   /* the number of -v */
	int quiet;	   /* -q */
	int forward_agent; /* -A or -o ForwardAgent=yes: 1 (relay our ssh-agent); -a, =no: 0 */
	char *setenv[JG_RSHARGS_ENV_MAX + 1]; /* "NAME=VALUE" of -o SetEnv (owned) */
	size_t nsetenv;
	char *sendenv[JG_RSHARGS_ENV_MAX + 1]; /* patterns of -o SendEnv (owned) */
	size_t nsendenv;
};

/* Parse ARGV[0..ARGC) (the words after "rsh"; ARGV is borrowed and must outlive A).
 * 0 and A filled, or JG_ERR_INVAL with a one-line reason in ERR naming the offending
 * option or word ("unknown option -Z", "-p 'x': not a port number"), or JG_ERR_NOMEM.
 * A must be released with jg_rshargs_clear() either way. */
int jg_rshargs_parse(struct jg_rshargs *a, int argc, char *const *argv, char *err, size_t errlen);

/* Free what A owns; A may be parsed into again. */
void jg_rshargs_clear(struct jg_rshargs *a);

/* W for a message, at most MAX of its bytes into BUF (SIZE bytes, NUL-terminated): a
 * backslash doubled, bytes that are not printable ASCII as \xNN (control characters,
 * DEL, and every byte >= 0x80, 8-bit C1 escapes included), "..." when cut.  Every word of
 * the controller's argv that a refusal names goes through it.  The length written. */
size_t jg_rshargs_quote(char *buf, size_t size, const char *w, size_t max);

/* The shell words that start the sftp server on a target ("-s sftp"). */
extern const char jg_rshargs_sftp_starter[];

#endif
