/* Tests for spawn and the reaper: real child processes, checked through /proc. */
#include "config.h" /* _GNU_SOURCE */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "relay/err.h"
#include "relay/frame.h"
#include "relay/link.h"
#include "relay/reaper.h"
#include "relay/spawn.h"
#include "relay/spec.h"
#include "tests/unit/suites.h"
#include "tests/unit/testutil.h"
static int count_zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], buf[512], *p;
		int fd, ppid;
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || (fd = open(path, O_RDONLY)) < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) S ppid ...": comm may contain spaces, so start after ')'. */
		if ((p = strrchr(buf, ')')) != NULL && sscanf(p + 2, "%*c %d", &ppid) == 1 &&
		    p[2] == 'Z' && ppid == getpid())
			n++;
	}
	if (d != NULL)
		closedir(d);
	return n;
}

static int spawn_argv(char *const *argv, struct jg_child *c, char *err, size_t errlen)
{
	struct jg_spawn_opts o = {.argv = argv};

	return jg_spawn(&o, c, err, errlen);
}

/* ---- spawn ---- */

static void test_spawn_echo_output_is_read(void)
{
	char *argv[] = {"echo", "hello", "world", NULL}, buf[256], err[256];
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(spawn_argv(argv, &c, err, sizeof(err)), 0);
	CU_ASSERT(c.pid > 0 && c.in_fd >= 0 && c.out_fd >= 0 && c.err_fd >= 0);
	tu_read_all(c.out_fd, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "hello world\n");
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	tu_close_child(&c);
}

static void test_spawn_exit_status_and_stderr_are_separate(void)
{
	char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7", NULL};
	char out[64], errb[64];
	struct jg_child c;
	int st;

	CU_ASSERT_EQUAL_FATAL(spawn_argv(argv, &c, NULL, 0), 0);
	tu_read_all(c.out_fd, out, sizeof(out));
	tu_read_all(c.err_fd, errb, sizeof(errb));
	CU_ASSERT_STRING_EQUAL(out, "out\n");
	CU_ASSERT_STRING_EQUAL(errb, "err\n");
	st = tu_wait_child(c.pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	tu_close_child(&c);
}

static void test_spawn_merge_stderr_uses_one_pipe(void)
{
	char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL}, out[64];
	struct jg_spawn_opts o = {.argv = argv, .merge_stderr = 1};
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.err_fd, -1);
	tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "out\nerr\n");
	tu_wait_child(c.pid);
	tu_close_child(&c);
}

static void test_spawn_stdin_reaches_child_and_env_and_cwd_apply(void)
{
	char *argv[] = {"sh", "-c", "read x; echo \"$x $FOO $(pwd)\"", NULL}, out[128];
	char *envp[] = {"FOO=bar", "PATH=/usr/bin:/bin", NULL};
	struct jg_spawn_opts o = {.argv = argv, .envp = envp, .cwd = "/tmp"};
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(write(c.in_fd, "hi\n", 3), 3);
	tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "hi bar /tmp\n");
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	tu_close_child(&c);
}

static void test_spawn_missing_program_gives_reason_and_leaves_no_zombie(void)
{
	char *argv[] = {"jumpgate-no-such-program", NULL}, err[256];
	struct jg_child c;

	CU_ASSERT_EQUAL(spawn_argv(argv, &c, err, sizeof(err)), JG_ERR_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(err,
			       "cannot run jumpgate-no-such-program: No such file or directory");
	CU_ASSERT_EQUAL(c.pid, -1);
	CU_ASSERT(c.in_fd == -1 && c.out_fd == -1 && c.err_fd == -1);
	CU_ASSERT_EQUAL(count_zombies(), 0);
}

static void test_spawn_not_executable_and_bad_cwd_give_reasons(void)
{
	char *argv[] = {"/etc/passwd", NULL}, *argv2[] = {"true", NULL}, err[256];
	struct jg_spawn_opts o = {.argv = argv2, .cwd = "/nonexistent-dir"};
	struct jg_child c;

	CU_ASSERT_EQUAL(spawn_argv(argv, &c, err, sizeof(err)), JG_ERR_IO);
	CU_ASSERT_STRING_EQUAL(err, "cannot run /etc/passwd: Permission denied");
	CU_ASSERT_EQUAL(jg_spawn(&o, &c, err, sizeof(err)), JG_ERR_NOTFOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot change directory to /nonexistent-dir"));
	CU_ASSERT_EQUAL(count_zombies(), 0);
}

/* exec_status (the agent's exec): the child says why on its stderr and exits 127 or 126,
 * as a shell does; the spawn itself succeeds. */
static void test_spawn_exec_status_exits_127_and_126(void)
{
	char *missing[] = {"jumpgate-no-such-program", NULL}, *noexec[] = {"/etc/passwd", NULL};
	struct jg_spawn_opts o = {.argv = missing, .exec_status = 1};
	struct jg_child c;
	char err[256], out[256];

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, err, sizeof(err)), 0);
	tu_read_all(c.err_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out,
			       "cannot run jumpgate-no-such-program: No such file or directory\n");
	CU_ASSERT_EQUAL(WEXITSTATUS(tu_wait_child(c.pid)), 127);
	tu_close_child(&c);
	o.argv = noexec;
	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, err, sizeof(err)), 0);
	tu_read_all(c.err_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "cannot run /etc/passwd: Permission denied\n");
	CU_ASSERT_EQUAL(WEXITSTATUS(tu_wait_child(c.pid)), 126);
	tu_close_child(&c);
	CU_ASSERT_EQUAL(count_zombies(), 0);
}

static void test_spawn_pty_child_sees_a_terminal_of_the_given_size(void)
{
	char *argv[] = {"/bin/sh", "-c",
			"test -t 0 && test -t 1 && test -t 2 && echo tty; stty size", NULL};
	struct jg_spawn_opts o = {.argv = argv, .pty = 1, .rows = 33, .cols = 101};
	struct jg_child c;
	char out[256];

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.err_fd, -1);
	CU_ASSERT(c.in_fd >= 0 && c.out_fd >= 0 && c.in_fd != c.out_fd);
	tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "tty\r\n33 101\r\n");
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	tu_close_child(&c);
}

static void test_spawn_parent_fds_are_cloexec_and_nonblocking(void)
{
	char *argv[] = {"true", NULL};
	struct jg_spawn_opts o = {.argv = argv};
	struct jg_child c;

	for (int pty = 0; pty < 2; pty++) {
		o.pty = pty;
		CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
		int fds[] = {c.in_fd, c.out_fd, c.err_fd};

		for (int i = 0; i < 3; i++) {
			if (fds[i] < 0)
				continue;
			CU_ASSERT(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
			CU_ASSERT(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		}
		tu_wait_child(c.pid);
		tu_close_child(&c);
	}
}

static void test_spawn_fds_of_one_child_do_not_leak_into_the_next(void)
{
	char *cat[] = {"cat", NULL}, script[256], out[256];
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct jg_child a, b;
	int careless[2];

	/* Someone else's fd opened without O_CLOEXEC must not reach the program either. */
	CU_ASSERT_EQUAL_FATAL(pipe(careless), 0);
	CU_ASSERT_EQUAL_FATAL(spawn_argv(cat, &a, NULL, 0), 0);
	snprintf(script, sizeof(script),
		 "for f in %d %d %d %d; do [ -e /proc/$$/fd/$f ] && echo leak $f; done; echo ok",
		 a.in_fd, a.out_fd, a.err_fd, careless[0]);
	CU_ASSERT_EQUAL_FATAL(spawn_argv(argv, &b, NULL, 0), 0);
	tu_read_all(b.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "ok\n");
	close(careless[0]);
	close(careless[1]);
	tu_wait_child(b.pid);
	tu_close_child(&b);
	tu_close_child(&a); /* cat sees EOF */
	CU_ASSERT_EQUAL(tu_wait_child(a.pid), 0);
}

static void test_spawn_child_has_default_signals_and_own_session(void)
{
	char *argv[] = {"/bin/sh", "-c",
			"grep -E '^Sig(Ign|Blk)' /proc/self/status; "
			"read pid comm state ppid pgrp sid rest </proc/$$/stat; "
			"[ $pid = $pgrp ] && [ $pid = $sid ] && echo leader",
			NULL};
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigset_t usr1, oldmask;
	struct jg_child c;
	char out[512];

	/* Parent state a child must not inherit: an ignored and a blocked signal. */
	sigaction(SIGUSR2, &ign, &old);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &oldmask);
	CU_ASSERT_EQUAL_FATAL(spawn_argv(argv, &c, NULL, 0), 0);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	sigaction(SIGUSR2, &old, NULL);
	tu_read_all(c.out_fd, out, sizeof(out));
	{
		/* Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): sigaction() refuses
		 * to touch them, and make(1) runs us with them ignored, so they are left out. */
		const unsigned long long glibc_reserved = 3ULL << 31;
		unsigned long long blk = ~0ULL, ignored = ~0ULL;
		char leader[16] = "";

		CU_ASSERT_EQUAL(
		    sscanf(out, "SigBlk:\t%llx\nSigIgn:\t%llx\n%15s", &blk, &ignored, leader), 3);
		CU_ASSERT_EQUAL(blk, 0);
		CU_ASSERT_EQUAL(ignored & ~glibc_reserved, 0);
		CU_ASSERT_STRING_EQUAL(leader, "leader");
	}
	tu_wait_child(c.pid);
	tu_close_child(&c);
}

/* Read FD until WANT appears or 5 s pass.  A terminal master reads EIO while no
 * process has the terminal open (between the child's setup and its open of
 * /dev/tty), so EIO means "not yet" here. */
static int read_until(int fd, const char *want, char *buf, size_t cap)
{
	struct pollfd p = {fd, POLLIN, 0};
	long end = tu_now_ms() + 5000;
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (len + 1 < cap && tu_now_ms() < end && strstr(buf, want) == NULL) {
		if (poll(&p, 1, 100) < 0)
			break;
		n = read(fd, buf + len, cap - 1 - len);
		if (n > 0)
			buf[len += (size_t)n] = '\0';
		else if (n < 0 && errno == EIO)
			usleep(10000);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	return strstr(buf, want) != NULL;
}

static void test_spawn_ctty_child_answers_on_its_terminal_while_stdio_stay_pipes(void)
{
	/* As ssh's readpassphrase does: one open of /dev/tty, prompt, read. */
	char *argv[] = {"/bin/sh", "-c",
			"test -t 0 || test -t 1 || test -t 2 || echo pipes; "
			"exec 3<>/dev/tty; echo prompt: >&3; read x <&3; echo \"got $x\"; "
			"echo err >&2",
			NULL};
	struct jg_spawn_opts o = {.argv = argv, .ctty = 1};
	char tty[256], out[256], errb[64];
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	CU_ASSERT(c.in_fd >= 0 && c.out_fd >= 0 && c.err_fd >= 0 && c.tty_fd >= 0);
	CU_ASSERT(fcntl(c.tty_fd, F_GETFD) & FD_CLOEXEC);
	CU_ASSERT(fcntl(c.tty_fd, F_GETFL) & O_NONBLOCK);
	CU_ASSERT(read_until(c.tty_fd, "prompt:", tty, sizeof(tty)));
	CU_ASSERT_EQUAL(write(c.tty_fd, "the answer\n", 11), 11);
	tu_read_all(c.out_fd, out, sizeof(out));
	tu_read_all(c.err_fd, errb, sizeof(errb));
	CU_ASSERT_STRING_EQUAL(out, "pipes\ngot the answer\n");
	CU_ASSERT_STRING_EQUAL(errb, "err\n");
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	close(c.tty_fd);
	tu_close_child(&c);
}

static void test_spawn_closing_the_ctty_master_hangs_up_the_child(void)
{
	char *argv[] = {"sleep", "5", NULL};
	struct jg_spawn_opts o = {.argv = argv, .ctty = 1};
	struct jg_child c;
	int st;

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	close(c.tty_fd);
	st = tu_wait_child(c.pid);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);
	tu_close_child(&c);
}

static void test_spawn_without_ctty_has_no_terminal(void)
{
	char *argv[] = {"/bin/sh", "-c", "(: </dev/tty) 2>/dev/null && echo tty || echo none",
			NULL};
	char out[128];
	struct jg_spawn_opts o = {.argv = argv, .merge_stderr = 1};
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.tty_fd, -1);
	tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "none\n");
	tu_wait_child(c.pid);
	tu_close_child(&c);
}

static void test_spawn_nofile_sets_soft_and_hard_limit_capped_to_ours(void)
{
	char *argv[] = {"/bin/sh", "-c", "ulimit -n; ulimit -Hn", NULL}, out[128], want[128];
	struct jg_spawn_opts o = {.argv = argv, .nofile = 64};
	struct rlimit rl;
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "64\n64\n");
	CU_ASSERT_EQUAL(tu_wait_child(c.pid), 0);
	tu_close_child(&c);

	/* Asking for more than our hard limit gets our hard limit. */
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1u << 30)
		return;
	o.nofile = (int)rl.rlim_max + 1000;
	snprintf(want, sizeof(want), "%llu\n%llu\n", (unsigned long long)rl.rlim_max,
		 (unsigned long long)rl.rlim_max);
	CU_ASSERT_EQUAL_FATAL(jg_spawn(&o, &c, NULL, 0), 0);
	tu_read_all(c.out_fd, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, want);
	tu_wait_child(c.pid);
	tu_close_child(&c);
}

/* ---- reaper ---- */

struct reaped {
	pid_t pid;
	int status;
	int calls;
	struct event_base *base;
};

static void on_reaped(pid_t pid, int wstatus, void *ud)
{
	struct reaped *r = ud;

	r->pid = pid;
	r->status = wstatus;
	r->calls++;
	event_base_loopbreak(r->base);
}

static void test_reaper_calls_back_with_the_exit_status(void)
{
	char *argv[] = {"/bin/sh", "-c", "exit 5", NULL}, *quick[] = {"true", NULL};
	struct event_base *base = event_base_new();
	struct jg_reaper *rp = jg_reaper_new(base);
	struct reaped r = {.base = base};
	struct timeval tv = {5, 0};
	struct jg_child c, u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rp);
	/* An unwatched child exiting first must be collected without a callback. */
	CU_ASSERT_EQUAL_FATAL(spawn_argv(quick, &u, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(spawn_argv(argv, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_reaper_watch(rp, c.pid, on_reaped, &r), 0);
	CU_ASSERT_EQUAL(jg_reaper_count(rp), 1);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.pid, c.pid);
	CU_ASSERT(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 5);
	CU_ASSERT_EQUAL(jg_reaper_count(rp), 0);
	usleep(50000);
	jg_reaper_poll(rp);
	CU_ASSERT_EQUAL(count_zombies(), 0);
	tu_close_child(&c);
	tu_close_child(&u);
	jg_reaper_free(rp);
	event_base_free(base);
}

static void test_reaper_forget_means_no_callback(void)
{
	char *argv[] = {"true", NULL};
	struct event_base *base = event_base_new();
	struct jg_reaper *rp = jg_reaper_new(base);
	struct reaped r = {.base = base};
	struct jg_child c;

	CU_ASSERT_EQUAL_FATAL(spawn_argv(argv, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(jg_reaper_watch(rp, c.pid, on_reaped, &r), 0);
	jg_reaper_forget(rp, c.pid);
	CU_ASSERT_EQUAL(jg_reaper_count(rp), 0);
	for (int i = 0; i < 50 && count_zombies() == 0; i++)
		usleep(10000);
	jg_reaper_poll(rp);
	CU_ASSERT_EQUAL(r.calls, 0);
	CU_ASSERT_EQUAL(count_zombies(), 0);
	tu_close_child(&c);
	jg_reaper_free(rp);
	event_base_free(base);
}

static void test_pipe_grow_once_to_the_bulk_size_and_never_a_socket(void)
{
	int p[2], sp[2];

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT(fcntl(p[1], F_GETPIPE_SZ) < JG_PIPE_BULK);
	/* Either end grows the one pipe. */
	CU_ASSERT_EQUAL(jg_pipe_grow(p[1]), JG_PIPE_BULK);
	CU_ASSERT_EQUAL(fcntl(p[0], F_GETPIPE_SZ), JG_PIPE_BULK);
	CU_ASSERT_EQUAL(jg_pipe_grow(p[0]), 0);
	close(p[0]);
	close(p[1]);
	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	CU_ASSERT_EQUAL(jg_pipe_grow(sp[0]), 0);
	close(sp[0]);
	close(sp[1]);
}
/* What the kernel holds, up to MAX, lands in the evbuffer; then EAGAIN; then EOF. */
static void test_fd_read_evbuffer_takes_what_is_there_up_to_max_then_eof(void)
{
	static uint8_t in[200000];
	struct evbuffer *b = evbuffer_new();
	int p[2];

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(pipe2(p, O_NONBLOCK), 0);
	CU_ASSERT_EQUAL(jg_pipe_grow(p[1]), JG_PIPE_BULK);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	CU_ASSERT_EQUAL_FATAL(write(p[1], in, sizeof(in)), (ssize_t)sizeof(in));
	CU_ASSERT_EQUAL(jg_fd_read_evbuffer(p[0], b, 65536), 65536);
	CU_ASSERT_EQUAL(jg_fd_read_evbuffer(p[0], b, 1 << 20), (ssize_t)sizeof(in) - 65536);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), sizeof(in));
	CU_ASSERT_EQUAL(memcmp(evbuffer_pullup(b, -1), in, sizeof(in)), 0);
	errno = 0;
	CU_ASSERT_EQUAL(jg_fd_read_evbuffer(p[0], b, 1 << 20), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
	close(p[1]);
	CU_ASSERT_EQUAL(jg_fd_read_evbuffer(p[0], b, 1 << 20), 0);
	CU_ASSERT_EQUAL(evbuffer_get_length(b), sizeof(in)); /* nothing committed at EOF */
	close(p[0]);
	evbuffer_free(b);
}

/* jg_spawn_fork: the child goes on in this program (no exec); jg_spawn_wait gives its
 * status and reaps it. */
static void test_spawn_fork_child_goes_on_and_wait_gives_its_status(void)
{
	sigset_t set, old;
	pid_t pid;
	int st;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	CU_ASSERT_EQUAL_FATAL(sigprocmask(SIG_BLOCK, &set, &old), 0);
	pid = jg_spawn_fork();
	if (pid == 0)
		_exit(7);
	CU_ASSERT_FATAL(pid > 0);
	st = jg_spawn_wait(pid, &set, 100);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	CU_ASSERT_EQUAL(waitpid(pid, NULL, WNOHANG), -1); /* reaped */
}

/* A signal the waiting parent takes (SIGTERM here) is the child's: forwarded, it ends
 * the child (which would otherwise sleep 10 s and exit 3). */
static void test_spawn_wait_forwards_signals_to_the_child(void)
{
	sigset_t set, old;
	pid_t pid;
	int st;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	CU_ASSERT_EQUAL_FATAL(sigprocmask(SIG_BLOCK, &set, &old), 0);
	pid = jg_spawn_fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		sleep(10);
		_exit(3);
	}
	CU_ASSERT_FATAL(pid > 0);
	kill(getpid(), SIGTERM);
	st = jg_spawn_wait(pid, &set, 100);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CU_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

/* jg_spawn_kill takes the child's whole process group and reaps the child. */
static void test_spawn_kill_takes_the_group_and_reaps(void)
{
	pid_t pid = jg_spawn_fork();

	if (pid == 0) {
		setpgid(0, 0);
		sleep(10);
		_exit(3);
	}
	CU_ASSERT_FATAL(pid > 0);
	setpgid(pid, pid); /* either side may win the race: both set the same group */
	jg_spawn_kill(pid);
	CU_ASSERT_EQUAL(waitpid(pid, NULL, WNOHANG), -1);
	CU_ASSERT_EQUAL(errno, ECHILD);
}

int jg_test_register_spawn(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("spawn", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_spawn_echo_output_is_read) ||
	    !CU_ADD_TEST(s, test_spawn_exec_status_exits_127_and_126) ||
	    !CU_ADD_TEST(s, test_spawn_exit_status_and_stderr_are_separate) ||
	    !CU_ADD_TEST(s, test_spawn_merge_stderr_uses_one_pipe) ||
	    !CU_ADD_TEST(s, test_spawn_stdin_reaches_child_and_env_and_cwd_apply) ||
	    !CU_ADD_TEST(s, test_spawn_missing_program_gives_reason_and_leaves_no_zombie) ||
	    !CU_ADD_TEST(s, test_spawn_not_executable_and_bad_cwd_give_reasons) ||
	    !CU_ADD_TEST(s, test_spawn_pty_child_sees_a_terminal_of_the_given_size) ||
	    !CU_ADD_TEST(s, test_spawn_parent_fds_are_cloexec_and_nonblocking) ||
	    !CU_ADD_TEST(s, test_spawn_fds_of_one_child_do_not_leak_into_the_next) ||
	    !CU_ADD_TEST(s, test_spawn_child_has_default_signals_and_own_session) ||
	    !CU_ADD_TEST(s, test_spawn_ctty_child_answers_on_its_terminal_while_stdio_stay_pipes) ||
	    !CU_ADD_TEST(s, test_spawn_closing_the_ctty_master_hangs_up_the_child) ||
	    !CU_ADD_TEST(s, test_spawn_without_ctty_has_no_terminal) ||
	    !CU_ADD_TEST(s, test_spawn_nofile_sets_soft_and_hard_limit_capped_to_ours) ||
	    !CU_ADD_TEST(s, test_pipe_grow_once_to_the_bulk_size_and_never_a_socket) ||
	    !CU_ADD_TEST(s, test_fd_read_evbuffer_takes_what_is_there_up_to_max_then_eof) ||
	    !CU_ADD_TEST(s, test_spawn_fork_child_goes_on_and_wait_gives_its_status) ||
	    !CU_ADD_TEST(s, test_spawn_wait_forwards_signals_to_the_child) ||
	    !CU_ADD_TEST(s, test_spawn_kill_takes_the_group_and_reaps))
		return -1;
	if ((s = CU_add_suite("reaper", NULL, NULL)) == NULL ||
	    !CU_ADD_TEST(s, test_reaper_calls_back_with_the_exit_status) ||
	    !CU_ADD_TEST(s, test_reaper_forget_means_no_callback))
		return -1;
	return 0;
}
