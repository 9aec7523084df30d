/* Spawning processes: vfork/exec with pipes or a pseudo-terminal.
 *
 * This is the only place that calls vfork() or fork() (jg_spawn_fork is the
 * agent trampolines' fork without exec).  Between vfork() and exec() the
 * child uses only async-signal-safe calls (plus execvp/execvpe, which glibc
 * implements with safe calls, as its posix_spawn does), and writes no memory
 * of the parent's (start_child), so it is correct in a threaded parent too. */
#include "config.h" /* _GNU_SOURCE: pipe2, execvpe, ptsname_r */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "relay/err.h"
#include "relay/spawn.h"

/* What the child reports through the exec-error pipe when it cannot exec. */
enum spawn_stage {
	STAGE_SETUP = 1, /* setsid, terminal or descriptor plumbing */
	STAGE_CHDIR = 2,
	STAGE_EXEC = 3,
};

struct spawn_report {
	int stage;
	int err;
};

/* Descriptors a spawn holds while it runs; -1 when unused. */
struct spawn_fds {
	int in[2], out[2], err[2];
	int report[2]; /* exec-error pipe, close-on-exec on both ends */
	int master;
	char slave[128];
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void close_all(struct spawn_fds *s)
{
	for (int i = 0; i < 2; i++) {
		close_fd(&s->in[i]);
		close_fd(&s->out[i]);
		close_fd(&s->err[i]);
		close_fd(&s->report[i]);
	}
	close_fd(&s->master);
}

int jg_fd_prepare(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFD)) < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return JG_ERR_IO;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return JG_ERR_IO;
	return 0;
}

ssize_t jg_fd_read_evbuffer(int fd, struct evbuffer *dst, size_t max)
{
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	int avail = 0, n, i, e;
	ssize_t r, got;

	if (ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0)
		avail = 4096; /* EOF, an error, or a kind of file without FIONREAD */
	if ((size_t)avail > max)
		avail = (int)max;
	if ((n = evbuffer_reserve_space(dst, avail, v, 2)) < 0) {
		errno = ENOMEM;
		return -1;
	}
	/* The space reserved may be larger than asked: read no more than AVAIL. */
	for (i = 0, r = avail; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len < (size_t)r ? v[i].iov_len : (size_t)r;
		r -= (ssize_t)iov[i].iov_len;
	}
	do
		got = r = readv(fd, iov, n);
	while (r < 0 && errno == EINTR);
	e = errno;
	for (i = 0; i < n && r > 0; i++) {
		v[i].iov_len = (size_t)r < v[i].iov_len ? (size_t)r : v[i].iov_len;
		r -= (ssize_t)v[i].iov_len;
	}
	evbuffer_commit_space(dst, v, got > 0 ? i : 0);
	errno = e;
	return got;
}

int jg_pipe_grow(int fd)
{
	int n = fcntl(fd, F_GETPIPE_SZ);

	if (n < 0 || n >= JG_PIPE_BULK)
		return 0;
	n = fcntl(fd, F_SETPIPE_SZ, JG_PIPE_BULK);
	return n < 0 ? 0 : n;
}

static int open_pty(struct spawn_fds *s, const struct jg_spawn_opts *opts)
{
	struct winsize ws;

	if ((s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	if (grantpt(s->master) != 0 || unlockpt(s->master) != 0)
		return -1;
	if ((errno = ptsname_r(s->master, s->slave, sizeof(s->slave))) != 0)
		return -1;
	/* A zero size confuses full-screen programs; 24x80 is what terminals assume. */
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = opts->rows ? opts->rows : 24;
	ws.ws_col = opts->cols ? opts->cols : 80;
	if (ioctl(s->master, TIOCSWINSZ, &ws) != 0)
		return -1;
	return 0;
}

static void child_fail(int fd, int stage)
{
	struct spawn_report rep = {stage, errno};

	(void)!write(fd, &rep, sizeof(rep));
	_exit(127);
}

/* exec_status: as a shell, 127 when there is no such program (ENOENT, ENOTDIR: also
 * "not in PATH"), 126 when there is one that cannot run (EACCES, ENOEXEC...).  The report
 * pipe closes with us, so the parent sees a started child that exits at once. */
static void __attribute__((noreturn)) child_exec_status(const char *argv0)
{
	int e = errno;
	const char *why = strerror(e);

	(void)!write(2, "cannot run ", 11);
	(void)!write(2, argv0, strlen(argv0));
	(void)!write(2, ": ", 2);
	(void)!write(2, why, strlen(why));
	(void)!write(2, "\n", 1);
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* Move FD to a number above 2 so that installing 0, 1, 2 cannot clobber it. */
static int child_lift(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* dup2 clears close-on-exec on the new descriptor, which is what the child needs. */
static int child_install(int fd, int target)
{
	return fd < 0 ? 0 : dup2(fd, target) < 0 ? -1 : 0;
}

static void __attribute__((noreturn))
child_run(const struct spawn_fds *s, const struct jg_spawn_opts *opts)
{
	struct sigaction sa;
	sigset_t none;
	int rep = s->report[1];
	int in, out, err;

	/* Dispositions first, mask second: a signal arriving in between must not run a
	 * handler of the parent's (libevent would write into its own socketpair). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
		child_fail(rep, STAGE_SETUP);

	/* Own session, so the parent can signal the whole process group (-pid). */
	if (setsid() < 0)
		child_fail(rep, STAGE_SETUP);

	if (opts->pty) {
		int slave;

		/* A session leader without a terminal acquires the first one it opens;
		 * TIOCSCTTY makes that explicit. */
		if ((slave = open(s->slave, O_RDWR | O_CLOEXEC)) < 0)
			child_fail(rep, STAGE_SETUP);
		if (ioctl(slave, TIOCSCTTY, 0) != 0)
			child_fail(rep, STAGE_SETUP);
		in = out = err = child_lift(slave);
		if (in < 0)
			child_fail(rep, STAGE_SETUP);
	} else {
		if (opts->ctty) {
			int slave;

			/* Controlling terminal only: /dev/tty works after the slave is
			 * closed, because the session keeps the terminal while the parent
			 * holds the master. */
			if ((slave = open(s->slave, O_RDWR | O_CLOEXEC)) < 0)
				child_fail(rep, STAGE_SETUP);
			if (ioctl(slave, TIOCSCTTY, 0) != 0)
				child_fail(rep, STAGE_SETUP);
			close(slave);
		}
		in = child_lift(s->in[0]);
		out = child_lift(s->out[1]);
		err = opts->merge_stderr ? out : opts->keep_stderr ? -1 : child_lift(s->err[1]);
		if (in < 0 || out < 0 || (err < 0 && !opts->keep_stderr && !opts->merge_stderr))
			child_fail(rep, STAGE_SETUP);
	}
	if (child_install(in, 0) || child_install(out, 1) || child_install(err, 2))
		child_fail(rep, STAGE_SETUP);
	if (opts->nofile > 0) {
		struct rlimit rl;

		/* Soft and hard alike: a program that closes every possible fd before
		 * exec (or loops up to the limit) stays fast even if it raises its soft
		 * limit.  Never above our hard limit, which only root could exceed. */
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
			child_fail(rep, STAGE_SETUP);
		if ((rlim_t)opts->nofile < rl.rlim_max) /* RLIM_INFINITY is the largest */
			rl.rlim_max = (rlim_t)opts->nofile;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			child_fail(rep, STAGE_SETUP);
	}
	/* Belt and braces: should any fd of the parent lack close-on-exec, it still
	 * does not leak into the program.  Old kernels say ENOSYS; cloexec then relies
	 * on every opener, as it must anyway. */
	(void)close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);

	if (opts->cwd != NULL && chdir(opts->cwd) != 0)
		child_fail(rep, STAGE_CHDIR);
	if (opts->envp != NULL)
		execvpe(opts->argv[0], opts->argv, opts->envp);
	else
		execvp(opts->argv[0], opts->argv);
	if (opts->exec_status)
		child_exec_status(opts->argv[0]);
	child_fail(rep, STAGE_EXEC);
	_exit(127);
}

/* The child, by vfork(): the parent is suspended, sharing its memory, until the
 * child execs or exits, so no page tables are copied (a process start here took
 * 3.9-4.2 ms with fork(), 2.6-2.9 ms with vfork(): a 1.7 MB agent, more for the
 * gateway).  The child only reads the parent's memory, writes to its own frames
 * below this one and to descriptors, and leaves by exec or _exit, never by
 * returning; its signal dispositions, mask, limits and directory are its own (no
 * CLONE_SIGHAND, CLONE_FS).  glibc's posix_spawn does the same.  Its own function,
 * never inlined, so no variable of the caller lives across the return twice.
 * The child's pid, or -1 (errno set). */
static pid_t __attribute__((noinline))
start_child(const struct spawn_fds *s, const struct jg_spawn_opts *opts)
{
	pid_t pid = vfork();

	if (pid == 0)
		child_run(s, opts);
	return pid;
}

/* Wait for the exec report: EOF means exec succeeded (the pipe closed on exec). */
static int read_report(int fd, struct spawn_report *rep)
{
	ssize_t n;

	do
		n = read(fd, rep, sizeof(*rep));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*rep);
}

static void format_failure(const struct jg_spawn_opts *opts, const struct spawn_report *rep,
			   char *err, size_t errlen)
{
	if (err == NULL || errlen == 0)
		return;
	switch ((enum spawn_stage)rep->stage) {
	case STAGE_CHDIR:
		snprintf(err, errlen, "cannot run %s: cannot change directory to %s: %s",
			 opts->argv[0], opts->cwd, strerror(rep->err));
		return;
	case STAGE_SETUP:
		snprintf(err, errlen, "cannot run %s: child setup failed: %s", opts->argv[0],
			 strerror(rep->err));
		return;
	case STAGE_EXEC:
		break;
	}
	snprintf(err, errlen, "cannot run %s: %s", opts->argv[0], strerror(rep->err));
}

int jg_spawn(const struct jg_spawn_opts *opts, struct jg_child *child, char *err, size_t errlen)
{
	struct spawn_fds s = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, -1, ""};
	struct spawn_report rep;
	sigset_t all, old;
	const char *what = "pipe";
	int r = JG_ERR_IO, masked = 0;
	pid_t pid = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	child->pid = -1;
	child->in_fd = child->out_fd = child->err_fd = child->tty_fd = -1;
	if (opts->argv == NULL || opts->argv[0] == NULL || opts->argv[0][0] == '\0') {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "cannot run: empty command");
		return JG_ERR_INVAL;
	}

	if (pipe2(s.report, O_CLOEXEC) != 0)
		goto sysfail;
	if (opts->pty) {
		what = "pseudo-terminal";
		if (open_pty(&s, opts) != 0)
			goto sysfail;
	} else {
		if (pipe2(s.in, O_CLOEXEC) != 0 || pipe2(s.out, O_CLOEXEC) != 0)
			goto sysfail;
		if (!opts->merge_stderr && !opts->keep_stderr && pipe2(s.err, O_CLOEXEC) != 0)
			goto sysfail;
		if (opts->ctty) {
			what = "pseudo-terminal";
			if (open_pty(&s, opts) != 0)
				goto sysfail;
		}
	}

	/* Block everything across fork() so the child starts with no handler of ours
	 * able to run; it installs defaults, then unblocks. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) != 0)
		goto sysfail;
	masked = 1;
	what = "fork";
	if ((pid = start_child(&s, opts)) < 0)
		goto sysfail;
	sigprocmask(SIG_SETMASK, &old, NULL);
	masked = 0;

	/* Parent: drop the child's ends, then learn whether exec worked. */
	close_fd(&s.in[0]);
	close_fd(&s.out[1]);
	close_fd(&s.err[1]);
	close_fd(&s.report[1]);
	if (read_report(s.report[0], &rep)) {
		/* Reap it here: the child is ours alone and must not linger as a zombie. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		format_failure(opts, &rep, err, errlen);
		r = rep.err == ENOENT || rep.err == ENOTDIR ? JG_ERR_NOTFOUND : JG_ERR_IO;
		goto out;
	}

	if (opts->pty) {
		child->in_fd = s.master;
		if ((child->out_fd = fcntl(s.master, F_DUPFD_CLOEXEC, 3)) < 0) {
			what = "dup";
			child->in_fd = -1;
			goto killfail;
		}
		s.master = -1;
	} else {
		child->in_fd = s.in[1];
		child->out_fd = s.out[0];
		child->err_fd = s.err[0];
		child->tty_fd = s.master; /* -1 without ctty */
		s.in[1] = s.out[0] = s.err[0] = s.master = -1;
	}
	if (jg_fd_prepare(child->in_fd) != 0 || jg_fd_prepare(child->out_fd) != 0 ||
	    (child->err_fd >= 0 && jg_fd_prepare(child->err_fd) != 0) ||
	    (child->tty_fd >= 0 && jg_fd_prepare(child->tty_fd) != 0)) {
		what = "fcntl";
		goto killfail;
	}
	child->pid = pid;
	r = 0;
	goto out;

killfail:
	/* Cannot hand the child over: do not leave it running or unreaped. */
	{
		int saved = errno;

		jg_spawn_kill(pid);
		close_fd(&child->in_fd);
		close_fd(&child->out_fd);
		close_fd(&child->err_fd);
		close_fd(&child->tty_fd);
		errno = saved;
	}
sysfail:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "cannot run %s: %s: %s", opts->argv[0], what,
			 strerror(errno));
	r = JG_ERR_IO;
out:
	if (masked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	close_all(&s);
	return r;
}

pid_t jg_spawn_fork(void)
{
	fflush(NULL); /* nothing buffered may be written twice */
	return fork();
}

int jg_spawn_wait(pid_t child, const sigset_t *set, int tick_ms)
{
	struct timespec tick = {tick_ms / 1000, (long)(tick_ms % 1000) * 1000000};
	siginfo_t si;
	int status, sig;

	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);

		if (w == child)
			return status;
		if (w < 0 && errno != EINTR)
			return -1;
		/* SIGCHLD or the tick: look again; the others are the child's. */
		if ((sig = sigtimedwait(set, &si, &tick)) > 0 && sig != SIGCHLD)
			kill(child, sig);
	}
}

void jg_spawn_kill(pid_t child)
{
	kill(-child, SIGKILL);
	kill(child, SIGKILL);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
}
