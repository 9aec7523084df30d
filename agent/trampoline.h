/* The agent's trampoline modes (docs/methods.md, "The agent's trampoline modes").
 *
 * With --setns=... or --askpass-tty, jumpgate-agent does one job before it is
 * the agent: it enters a container's namespaces (setns.c, with setns_pid.c and
 * setns_user.c), or gives a program a terminal to ask its password on
 * (askpass.c).  Then it execs the argv after "--", or, when there is none,
 * goes on as the agent in the process that did the job.
 *
 * A failure is ONE line on stdout, "jumpgate-stub: error WORD DETAIL", and
 * exit status 1: the gateway reads that line the way it reads the bootstrap
 * stub's, and turns DETAIL into the reason it reports.
 *
 * These run before the agent exists, single-threaded.  Their child must do
 * its job in this program before it execs (setns: enter the namespaces, or go
 * on as the agent; askpass: a new session on the terminal, our own stdio), so
 * they fork with jg_spawn_fork, not jg_spawn, and wait with jg_spawn_wait
 * (setns) or by watching the terminal (askpass).  Names of containers and
 * tools go through jg_spawn. */
#ifndef JG_TRAMPOLINE_H
#define JG_TRAMPOLINE_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

enum jg_tramp_mode {
	JG_TRAMP_NONE = 0,
	JG_TRAMP_SETNS,
	JG_TRAMP_ASKPASS,
};

/* What main() parsed; every string is borrowed from main()'s argv. */
struct jg_tramp {
	enum jg_tramp_mode mode;
	const char *setns_target;    /* "pid:N", "docker:NAME", "lxc:NAME", "machinectl:NAME" */
	const char *setns_user;	     /* NULL: root */
	const char *setns_tool_path; /* NULL: docker, lxc-info or machinectl from PATH */
	const char *setns_lxc_path;  /* lxc-info -P (containers outside the default lxc path) */
	char **argv;		     /* after "--", NULL-terminated; NULL: go on as the agent */
};

/* Returned in the one process that must go on as the agent. */
#define JG_TRAMP_CONTINUE (-1)

/* Exit statuses besides the command's own. */
#define JG_TRAMP_EXIT_FAIL 1	 /* an error line was printed */
#define JG_TRAMP_EXIT_NOEXEC 127 /* the command could not be run (said on stderr) */

/* trampoline.c */
/* Do T's job.  Returns JG_TRAMP_CONTINUE in the process that goes on as the
 * agent, else the status main() exits with (unless the mode _exits itself:
 * jg_setns_run); with T->argv, the command is exec'd in place of the process
 * that did the job. */
int jg_tramp_run(const struct jg_tramp *t);
/* Print "jumpgate-stub: error WORD DETAIL\n" on stdout in one write. */
void jg_tramp_fail(const char *word, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exec ARGV (looked up in PATH); on failure say why on stderr and _exit(127). */
void jg_tramp_exec(char *const *argv) __attribute__((noreturn));
/* The status a waiting parent exits with for a child's wait STATUS: its exit
 * code, or 128 + the signal that killed it. */
int jg_tramp_exit_status(int status);
/* Before forking: block SIGCHLD, SIGTERM, SIGINT and SIGHUP (into *SET, the
 * previous mask into *OLD) so the parent takes them synchronously, and make
 * sure SIGCHLD is not ignored (children must stay waitable).  0 or JG_ERR_IO. */
int jg_tramp_block_signals(sigset_t *set, sigset_t *old);
/* In a child after fork: back to the mask OLD, before it execs or becomes the agent. */
void jg_tramp_child_signals(const sigset_t *old);

/* setns.c */
/* --setns: enter the target's namespaces and root, fork; the child becomes
 * USER (and returns JG_TRAMP_CONTINUE without argv), the parent waits outside
 * and _exits with the child's status.  A failure returns 1 before any
 * namespace was entered, and _exits 1 after. */
int jg_setns_run(const struct jg_tramp *t);

/* setns_pid.c */
/* The PID of TARGET ("pid:N", or a container asked of its tool, run from
 * TOOL_PATH or PATH, bounded by 10 s; LXC_PATH, when not NULL, is lxc-info's -P).
 * 0 and *PID, or a negative JG_ERR_* with the error detail in WHY ("docker inspect
 * failed: ..."). */
int jg_setns_pid(const char *target, const char *tool_path, const char *lxc_path, pid_t *pid,
		 char *why, size_t whylen);

/* setns_user.c */
/* An account of the container, from its own /etc/passwd and /etc/group. */
#define JG_SETNS_GROUPS_MAX 256
struct jg_setns_user {
	char *name;  /* owned */
	char *home;  /* owned; "/" when the entry has none */
	char *shell; /* owned; "/bin/sh" when the entry has none */
	uid_t uid;
	gid_t gid;
	size_t ngroups; /* groups[0] is gid; then the supplementary groups */
	gid_t groups[JG_SETNS_GROUPS_MAX];
};
/* Look NAME up under the current root (after chroot).  0, or a negative
 * JG_ERR_* with the detail in WHY ("no user U in the container"). */
int jg_setns_user_lookup(const char *name, struct jg_setns_user *u, char *why, size_t whylen);
/* Free what a successful lookup allocated. */
void jg_setns_user_free(struct jg_setns_user *u);

/* askpass.c */
/* --askpass-tty: read the password line, run the command on a new controlling
 * terminal, answer its first prompt; returns the command's status. */
int jg_askpass_run(const struct jg_tramp *t);

#endif
