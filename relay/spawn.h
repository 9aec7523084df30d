/* Spawning processes: the only module that calls vfork() or fork() (jg_spawn; jg_spawn_fork for
 * the agent's trampolines).
 *
 * The child gets pipes for stdin/stdout/stderr (or one pseudo-terminal for
 * all three), its own session (setsid) so that signals can reach its whole
 * process group, default signal dispositions and an empty signal mask.
 * With ctty it keeps its pipes but also gets a pseudo-terminal as its
 * controlling terminal only: ssh reads a password from /dev/tty while the
 * frame protocol on its stdio never passes through a line discipline.  Every
 * parent-side fd is close-on-exec and non-blocking.  An exec failure is
 * reported to the parent through a close-on-exec pipe, so the caller gets
 * "no such file: foo" instead of a child that exits 127. */
#ifndef JG_SPAWN_H
#define JG_SPAWN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct jg_spawn_opts {
	char *const *argv; /* argv[0] is looked up in PATH when it has no '/' */
	char *const *envp; /* NULL: inherit */
	const char *cwd;   /* NULL: do not change directory */
	int pty;	   /* non-zero: one pseudo-terminal for stdin, stdout and stderr */
	uint16_t rows, cols;
	int merge_stderr; /* without pty: stderr goes to the stdout pipe */
	int keep_stderr;  /* without pty: the child inherits our stderr (for agent processes) */
	int ctty;	  /* without pty: give the child a new pseudo-terminal as its controlling
			   * terminal (not its stdio) */
	int nofile;	  /* > 0: RLIMIT_NOFILE (soft and hard capped to the current hard) for the
			   * child */
	int exec_status;  /* non-zero: an exec failure is not reported to the caller; the child
			   * says "cannot run ARGV0: REASON" on its stderr and exits 127 (no
			   * such program) or 126 (found but not runnable), as shells and ssh
			   * do, for programs a person asked for by name */
};

struct jg_child {
	pid_t pid;
	int in_fd;  /* write end of the child's stdin (the pty master with pty) */
	int out_fd; /* read end of the child's stdout (a dup of the pty master with pty) */
	int err_fd; /* read end of the child's stderr; -1 with pty, merge_stderr or keep_stderr */
	int tty_fd; /* ctty: master of the child's controlling terminal, or -1.  While no process
		     * has the terminal open, reads fail with EIO and poll reports POLLHUP (a
		     * level-triggered read event would spin).  Closing it hangs the terminal
		     * up: the child gets SIGHUP. */
};

/* Start a child. 0 and *child filled, or a negative JG_ERR_* with a reason in ERR
 * ("cannot run nosuch: No such file or directory"). */
int jg_spawn(const struct jg_spawn_opts *opts, struct jg_child *child, char *err, size_t errlen);
/* Fork without exec, for the agent's trampolines (--setns, --askpass-tty), whose child
 * must enter namespaces or a new session in this program before it execs or goes on as
 * the agent.  Stdio is flushed first, so nothing buffered is written twice; the signal
 * mask and dispositions are the caller's in both.  0 in the child, the child's pid in
 * the parent, -1 with errno. */
pid_t jg_spawn_fork(void);
/* In the parent of jg_spawn_fork: wait for CHILD, forwarding every signal of SET but
 * SIGCHLD to it (the caller blocked SET, so they are taken here synchronously) and
 * looking at least every TICK_MS.  Its wait status, or -1 with errno (not EINTR). */
int jg_spawn_wait(pid_t child, const sigset_t *set, int tick_ms);
/* SIGKILL CHILD's process group and CHILD, then reap it: a child that cannot be handed
 * over or outlived its time. */
void jg_spawn_kill(pid_t child);
/* Set FD close-on-exec and non-blocking. 0 or JG_ERR_IO. */
int jg_fd_prepare(int fd);
/* FD (either end of a pipe) was found full or drained a full read: grow the pipe to
 * JG_PIPE_BULK bytes, so a bulk stream costs fewer wake-ups.  Pipes start at 64 KiB
 * and most carry little, so they grow only under load, once (best effort: a full
 * per-user pipe budget or a non-pipe leaves it as it is).  Returns the new size or 0.
 * Not larger: past /proc/sys/fs/pipe-user-pages-soft (64 MiB) of pipes, Linux gives
 * an unprivileged user's NEW pipes one page, so 256 grown pipes is where it stops. */
int jg_pipe_grow(int fd);

struct evbuffer;
/* One read(2) from FD straight into DST's own memory (no bounce buffer): as many
 * bytes as the kernel holds (FIONREAD), at least 4 KiB, at most MAX.  Bytes
 * read, 0 at end of file, -1 with errno (EAGAIN included).  DST must not be
 * frozen at its end (a bufferevent's input is: thaw it around the call). */
ssize_t jg_fd_read_evbuffer(int fd, struct evbuffer *dst, size_t max);
#define JG_PIPE_BULK (256 * 1024)

#endif
