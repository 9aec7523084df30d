/* The ssh onward method: OpenSSH client argv from options, and a sans-I/O
 * watcher that reads ssh's terminal and stderr output for prompts and for the
 * reasons it failed.
 *
 * Nothing here spawns: the gateway's pool runs the argv through relay/spawn
 * and feeds what ssh prints to the watcher. */
#ifndef JG_SSH_H
#define JG_SSH_H

#include <stddef.h>
#include <stdint.h>

#include "relay/argv.h" /* jg_argv_free */

enum jg_hostkeys {
	JG_HOSTKEYS_ENFORCE = 1, /* StrictHostKeyChecking=yes: unknown or changed keys fail */
	JG_HOSTKEYS_ACCEPT = 2,	 /* unknown keys are accepted and recorded; changed keys fail */
	JG_HOSTKEYS_IGNORE = 3,	 /* no checking at all, nothing recorded (test rigs only) */
};

/* Options of one ssh hop. Strings are owned by whoever owns the struct (config/target.c);
 * they were validated before they got here (no leading '-', no whitespace, control or
 * shell characters in user and host). */
struct jg_ssh_opts {
	char *host;	     /* required */
	char *user;	     /* NULL: ~/.ssh/config, else the gateway user */
	uint16_t port;	     /* 0: ~/.ssh/config, else 22 */
	char *identity_file; /* already tilde-expanded; NULL: ssh's defaults */
	enum jg_hostkeys check_host_keys;
	char *known_hosts;	       /* UserKnownHostsFile; NULL: ssh's default */
	uint32_t connect_timeout_s;    /* ConnectTimeout; 0: not set */
	uint32_t keepalive_interval_s; /* ServerAliveInterval; 0: not set */
	uint32_t keepalive_count;      /* ServerAliveCountMax; 0: not set */
	int compression;	       /* -C */
	char **ssh_args;     /* extra arguments placed before the host; NULL-terminated or NULL */
	char *ssh_path;	     /* NULL: "ssh" from PATH */
	char *ciphers;	     /* -o Ciphers=VALUE; NULL: ssh_config decides */
	int identities_only; /* IdentitiesOnly=yes */
	int debug_level;     /* 0-3: that many -v */
	char *password;	     /* NULL: BatchMode=yes; else a PTY answers the prompt */
	int raw;	     /* no agent: run the command itself (no bootstrap) */
};

/* Build the argv that runs REMOTE_COMMAND (one string, given to the remote user's shell)
 * on O's host: -T (no remote tty), -e none, BatchMode=yes without a password,
 * StrictHostKeyChecking from check_host_keys (0 counts as enforce), the options, then "--"
 * (ssh would otherwise parse options after the host), the host (re-checked never to start
 * with '-'), then REMOTE_COMMAND as one argument.  Refused: unsafe host or user, ssh_args
 * that set ProxyCommand, LocalCommand, PermitLocalCommand or KnownHostsCommand, paths ssh
 * would expand.  The password never appears.  Returns 0 and a NULL-terminated, heap-allocated
 * argv in *ARGV (free with jg_argv_free), or JG_ERR_INVAL (JG_ERR_NOMEM) with ERR. */
int jg_ssh_argv(const struct jg_ssh_opts *o, const char *remote_command, char ***argv, char *err,
		size_t errlen);

/* What the watcher saw at the end of ssh's terminal output. */
enum jg_ssh_prompt {
	JG_SSH_PROMPT_NONE = 0,
	JG_SSH_PROMPT_PASSWORD = 1, /* answer with the password and "\n" */
	JG_SSH_PROMPT_HOSTKEY =
	    2, /* "continue connecting (yes/no/[fingerprint])?": answer "yes\n" */
};

/* Failures recognised in ssh's output, in order of precedence. */
enum jg_ssh_failure {
	JG_SSH_FAIL_NONE = 0,
	JG_SSH_FAIL_AUTH, /* "Permission denied (...)", too many authentication failures */
	JG_SSH_FAIL_HOSTKEY_CHANGED, /* "REMOTE HOST IDENTIFICATION HAS CHANGED" */
	JG_SSH_FAIL_HOSTKEY_UNKNOWN, /* "Host key verification failed" with no change warning */
	JG_SSH_FAIL_REFUSED,	     /* "Connection refused" */
	JG_SSH_FAIL_TIMEOUT,	     /* "Connection timed out", "Operation timed out" */
	JG_SSH_FAIL_RESOLVE,	     /* "Could not resolve hostname" */
	JG_SSH_FAIL_UNREACHABLE,     /* "No route to host", "Network is unreachable" */
	JG_SSH_FAIL_OTHER,
};

/* Reads ssh's PTY output (prompts) and stderr (diagnostics); keeps the last non-empty
 * stderr line.  Bounded memory: only a tail of each stream is kept. */
struct jg_ssh_watch {
	char tty_tail[512];
	size_t tty_len;
	char err_partial[512];
	size_t err_len;
	char last_line[256]; /* last complete, non-empty stderr line (or tty line) */
	enum jg_ssh_failure failure;
	unsigned prompts_answered;
};

void jg_ssh_watch_init(struct jg_ssh_watch *w);
/* Terminal output. Returns the prompt the output now ends with (a banner that merely
 * contains "password" is not a prompt: it must end the output, as "...password: " or
 * "Password:" does). After an answer the caller calls jg_ssh_watch_answered(). */
enum jg_ssh_prompt jg_ssh_watch_tty(struct jg_ssh_watch *w, const void *data, size_t len);
/* The caller answered the prompt: forget the tail so it is not answered twice. */
void jg_ssh_watch_answered(struct jg_ssh_watch *w);
/* Stderr output: failure lines recognised, last line kept. */
void jg_ssh_watch_stderr(struct jg_ssh_watch *w, const void *data, size_t len);
/* A reason a person can act on, from what was seen and ssh's wait status (WSTATUS < 0:
 * still running), e.g. "authentication failed: deploy@web1: Permission denied (publickey).",
 * "host key of the target changed (possible man-in-the-middle; fix known_hosts): ...",
 * "ssh exited with status 255: Connection closed by 127.0.0.2 port 22". */
void jg_ssh_watch_reason(const struct jg_ssh_watch *w, int wstatus, char *buf, size_t len);
/* Short name of a failure ("authentication failed"). */
const char *jg_ssh_failure_name(enum jg_ssh_failure f);

#endif
