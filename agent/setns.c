/* --setns: enter a process's namespaces and root natively (trampoline.h).
 *
 * The order (docs/methods.md): every /proc/PID/ns file and /proc/PID/root
 * are opened first, while the host's /proc is still ours; then the namespaces
 * are entered user, cgroup, ipc, uts, net, pid, mnt -- user first, so that
 * the capabilities it grants cover the rest; mnt last, because it replaces
 * our root and working directory -- skipping any we already share (entering
 * our own user namespace is an error).  Then fchdir to the process's root and
 * chroot ".", so a chrooted or pivoted container is seen as it sees itself.
 *
 * A PID namespace applies to children only, so we fork: the child takes the
 * container user's ids and runs the command (or goes on as the agent); the
 * parent stays outside the PID namespace, forwards SIGTERM, SIGINT and
 * SIGHUP, and exits with the child's status.  The parent keeps no copy of
 * stdin or stdout: the gateway sees EOF exactly when the child closes them. */
#include "config.h" /* _GNU_SOURCE: setns, CLONE_* */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/trampoline.h"
#include "relay/err.h"
#include "relay/log.h"
#include "relay/spawn.h"

#define CAP_SYS_ADMIN_BIT 21 /* linux/capability.h, without its header */
#define WAIT_TICK_S 1	     /* the parent re-checks its child at least this often */

static const struct {
	const char *name;
	int type;
} ns_order[] = {
    {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},	  {"pid", CLONE_NEWPID},
    {"mnt", CLONE_NEWNS},
};
#define NS_COUNT (sizeof(ns_order) / sizeof(ns_order[0]))
#define NS_USER 0 /* indexes into ns_order */
#define NS_PID 5

/* What one --setns run holds; every fd owned, -1 when not open. */
struct setns {
	pid_t pid;
	int ns[NS_COUNT]; /* -1: already ours (or unknown to this kernel): not entered */
	int root;
	char why[512];
};

static void setns_close(struct setns *s)
{
	for (size_t i = 0; i < NS_COUNT; i++)
		if (s->ns[i] >= 0) {
			close(s->ns[i]);
			s->ns[i] = -1;
		}
	if (s->root >= 0) {
		close(s->root);
		s->root = -1;
	}
}

/* Whether CAP_SYS_ADMIN is in our effective set, from /proc/self/status (no
 * libcap in a static agent).  Unknown counts as present: setns will tell. */
static int have_cap_sys_admin(void)
{
	unsigned long long eff = ~0ULL;
	char line[256];
	FILE *fp;

	if ((fp = fopen("/proc/self/status", "re")) == NULL)
		return 1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(fp);
	return (eff >> CAP_SYS_ADMIN_BIT) & 1;
}

/* Open the target's namespace files that differ from ours, and its root. */
static int setns_open(struct setns *s)
{
	char path[64];
	struct stat ours, theirs;

	snprintf(path, sizeof(path), "/proc/%ld", (long)s->pid);
	if (stat(path, &theirs) != 0) {
		snprintf(s->why, sizeof(s->why), "no process %ld", (long)s->pid);
		return JG_ERR_NOTFOUND;
	}
	for (size_t i = 0; i < NS_COUNT; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)s->pid, ns_order[i].name);
		if ((s->ns[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			goto fail;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_order[i].name);
		if (fstat(s->ns[i], &theirs) != 0 || stat(path, &ours) != 0)
			goto fail;
		if (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
			close(s->ns[i]);
			s->ns[i] = -1;
		}
	}
	snprintf(path, sizeof(path), "/proc/%ld/root", (long)s->pid);
	if ((s->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	return 0;
fail:
	/* A process that exits (or is a zombie) loses its namespaces before its
	 * /proc entry: ENOENT/ESRCH then means it is going away. */
	if (errno == ENOENT || errno == ESRCH)
		snprintf(s->why, sizeof(s->why), "namespace of %ld gone", (long)s->pid);
	else
		snprintf(s->why, sizeof(s->why), "cannot open %s: %s", path, strerror(errno));
	return JG_ERR_IO;
}

/* Enter the opened namespaces in ns_order, then the target's root. */
static int setns_enter(struct setns *s)
{
	/* Supplementary groups of the host must not follow us into a user
	 * namespace, where they could no longer be dropped. */
	if (s->ns[NS_USER] >= 0 && setgroups(0, NULL) != 0) {
		snprintf(s->why, sizeof(s->why), "cannot drop supplementary groups: %s",
			 strerror(errno));
		return JG_ERR_IO;
	}
	for (size_t i = 0; i < NS_COUNT; i++) {
		if (s->ns[i] < 0)
			continue;
		if (setns(s->ns[i], ns_order[i].type) != 0) {
			if (errno == EPERM)
				snprintf(s->why, sizeof(s->why), "missing CAP_SYS_ADMIN");
			else
				snprintf(s->why, sizeof(s->why),
					 "cannot enter the %s namespace of %ld: %s",
					 ns_order[i].name, (long)s->pid, strerror(errno));
			return JG_ERR_IO;
		}
	}
	if (fchdir(s->root) != 0 || chroot(".") != 0 || chdir("/") != 0) {
		snprintf(s->why, sizeof(s->why), "cannot enter the root of %ld: %s", (long)s->pid,
			 strerror(errno));
		return JG_ERR_IO;
	}
	return 0;
}

/* In the child: become U inside, then run ARGV or return to go on as the agent.
 * Failures here still reach the gateway as the error line: nothing else has
 * written to stdout yet. */
static int setns_child(const struct jg_setns_user *u, char **argv, pid_t parent,
		       const sigset_t *old, int entered_user_ns)
{
	pid_t pp;

	jg_tramp_child_signals(old);
	if (setgroups(u->ngroups, u->groups) != 0) {
		/* A user namespace may forbid setgroups ("deny" in /proc/PID/setgroups);
		 * the host's groups are already gone (setns_enter). */
		if (!(errno == EPERM && entered_user_ns)) {
			jg_tramp_fail("setns", "cannot set the groups of %s: %s", u->name,
				      strerror(errno));
			_exit(JG_TRAMP_EXIT_FAIL);
		}
	}
	if (setgid(u->gid) != 0 || setuid(u->uid) != 0) {
		jg_tramp_fail("setns", "cannot become %s (uid %lu) in the container: %s", u->name,
			      (unsigned long)u->uid, strerror(errno));
		_exit(JG_TRAMP_EXIT_FAIL);
	}
	/* After the id change, which clears it.  The parent is in an outer PID
	 * namespace, so getppid() says 0 while it lives (or the real PID if we
	 * share its namespace): anything else means it died before the prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
		jg_tramp_fail("setns", "cannot set the parent-death signal: %s", strerror(errno));
		_exit(JG_TRAMP_EXIT_FAIL);
	}
	if ((pp = getppid()) != 0 && pp != parent)
		_exit(JG_TRAMP_EXIT_FAIL);
	if (setenv("HOME", u->home, 1) != 0 || setenv("SHELL", u->shell, 1) != 0 ||
	    setenv("LOGNAME", u->name, 1) != 0 || setenv("USER", u->name, 1) != 0) {
		jg_tramp_fail("setns", "cannot set the environment: %s", strerror(errno));
		_exit(JG_TRAMP_EXIT_FAIL);
	}
	if (chdir(u->home) != 0 && chdir("/") != 0) {
		jg_tramp_fail("setns", "cannot change directory to /: %s", strerror(errno));
		_exit(JG_TRAMP_EXIT_FAIL);
	}
	if (argv != NULL)
		jg_tramp_exec(argv);
	return JG_TRAMP_CONTINUE;
}

/* In the parent: wait for CHILD, forwarding the signals in SET; its status. */
static int setns_wait(pid_t child, const sigset_t *set)
{
	int status = jg_spawn_wait(child, set, WAIT_TICK_S * 1000);

	if (status < 0) {
		jg_log_error("cannot wait for the child in the namespaces: %s", strerror(errno));
		return JG_TRAMP_EXIT_FAIL;
	}
	return jg_tramp_exit_status(status);
}

int jg_setns_run(const struct jg_tramp *t)
{
	struct setns s = {.root = -1};
	struct jg_setns_user u;
	const char *user = t->setns_user != NULL ? t->setns_user : "root";
	sigset_t set, old;
	pid_t child, self = getpid();
	int status, entered = 0;

	for (size_t i = 0; i < NS_COUNT; i++)
		s.ns[i] = -1;
	memset(&u, 0, sizeof(u));
	/* Most specific first: a non-root user without the capability is told
	 * that it is not root, which is what to fix. */
	if (!have_cap_sys_admin()) {
		jg_tramp_fail("setns", "%s",
			      geteuid() != 0 ? "not running as root" : "missing CAP_SYS_ADMIN");
		return JG_TRAMP_EXIT_FAIL;
	}
	if (jg_setns_pid(t->setns_target, t->setns_tool_path, t->setns_lxc_path, &s.pid, s.why,
			 sizeof(s.why)) != 0 ||
	    setns_open(&s) != 0)
		goto fail;
	/* From here this process is (partly) in the target's namespaces, its new
	 * children in the target's PID namespace, and it ends with _exit, never
	 * through exit handlers: a sanitizer's leak checker would clone its tracer
	 * into that PID namespace, where the tracer cannot see us, and wait for it
	 * forever.  Nothing is left buffered: stdio is flushed before the fork and
	 * the error line written past it. */
	entered = 1;
	if (setns_enter(&s) != 0)
		goto fail;
	/* Under the container's root now: its accounts. */
	if (jg_setns_user_lookup(user, &u, s.why, sizeof(s.why)) != 0)
		goto fail;
	if (jg_tramp_block_signals(&set, &old) != 0) {
		snprintf(s.why, sizeof(s.why), "cannot block signals: %s", strerror(errno));
		goto fail;
	}
	if ((child = jg_spawn_fork()) < 0) {
		/* A PID namespace whose init has died refuses new members. */
		if (errno == ENOMEM && s.ns[NS_PID] >= 0)
			snprintf(s.why, sizeof(s.why), "namespace of %ld gone", (long)s.pid);
		else
			snprintf(s.why, sizeof(s.why), "cannot fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto fail;
	}
	if (child == 0) {
		int entered_user_ns = s.ns[NS_USER] >= 0;

		setns_close(&s);
		status = setns_child(&u, t->argv, self, &old, entered_user_ns);
		jg_setns_user_free(&u);
		return status; /* JG_TRAMP_CONTINUE: the agent */
	}
	setns_close(&s);
	jg_setns_user_free(&u);
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	_exit(setns_wait(child, &set));
fail:
	jg_tramp_fail("setns", "%s", s.why);
	setns_close(&s);
	jg_setns_user_free(&u);
	if (entered)
		_exit(JG_TRAMP_EXIT_FAIL);
	return JG_TRAMP_EXIT_FAIL;
}
