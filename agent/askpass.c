/* --askpass-tty: a terminal for tools that read a password only from one
 * (doas), with our stdio left alone (trampoline.h).
 *
 * The password is the first line of stdin, read one byte at a time: the bytes
 * after the newline belong to the child, which inherits stdin as it is.  The
 * child gets its own session with a new pseudo-terminal as its controlling
 * terminal and nothing else: its stdin, stdout and stderr stay ours, so the
 * frames of the agent it ends up running never cross a line discipline.
 *
 * The parent watches the terminal.  When what it has shown since the last
 * answer ends in a prompt (a last line naming "password" or "passphrase" and
 * ending in ':' and optional spaces) the first time, the parent writes the
 * password and a newline; a second time, the password was refused.  All other
 * output goes to our stderr.  The parent holds the slave open too, so the
 * master never reads EIO (and poll never spins on POLLHUP) while the child has
 * closed /dev/tty between two prompts; the child's end comes as SIGCHLD. */
#include "config.h" /* _GNU_SOURCE: strcasestr, ptsname_r, explicit_bzero */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent/trampoline.h"
#include "relay/hop.h"
#include "relay/err.h"
#include "relay/spawn.h"

#define PW_MAX 1024	   /* bytes of password, newline not counted */
#define PW_WAIT_MS 120000  /* for the password line on stdin */
#define LINE_MAX_TAIL 512  /* bytes of the terminal's current line kept back */
#define TICK_MS 1000	   /* the parent re-checks its child at least this often */
#define WRITE_WAIT_MS 5000 /* for the terminal to take the answer */
#define TERM_GRACE_MS 2000 /* from SIGTERM to SIGKILL when refused */

/* One --askpass-tty run; every fd owned, -1 when closed. */
struct askpass {
	char pw[PW_MAX + 2]; /* the password and room for its newline; zeroed once used */
	size_t pwlen;
	int master, slave, sfd;
	pid_t pid;
	const char *tool;	      /* argv[0]'s last component, for the refusal */
	char line[LINE_MAX_TAIL + 1]; /* the terminal's current line, not yet copied */
	size_t linelen;
	int answered;	  /* the password was written */
	int after_answer; /* the next line is the Enter that ended the password */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void to_stderr(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to say it */
		p += w;
		n -= (size_t)w;
	}
}

/* The first line of stdin, never a byte past its newline. */
static int read_password(struct askpass *a)
{
	long long deadline = now_ms() + PW_WAIT_MS;
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	ssize_t n;
	char c;

	for (;;) {
		if ((n = read(STDIN_FILENO, &c, 1)) == 1) {
			if (c == '\n')
				return 0;
			if (a->pwlen == PW_MAX) {
				jg_tramp_fail("password",
					      "the password line is longer than %d bytes", PW_MAX);
				return JG_ERR_TOOBIG;
			}
			a->pw[a->pwlen++] = c;
		} else if (n == 0) {
			jg_tramp_fail("password", "no password line on standard input");
			return JG_ERR_CLOSED;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			long long left = deadline - now_ms();

			if (left <= 0 || poll(&p, 1, (int)left) == 0) {
				jg_tramp_fail("password", "no password line within %d s",
					      PW_WAIT_MS / 1000);
				return JG_ERR_IO;
			}
		} else if (errno != EINTR) {
			jg_tramp_fail("password", "cannot read the password: %s", strerror(errno));
			return JG_ERR_IO;
		}
	}
}

/* A new terminal: master non-blocking, slave held, no echo (nothing we write
 * can come back), no CR added before each newline. */
static int pty_open(struct askpass *a)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	struct termios t;
	char name[128];

	if ((a->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    grantpt(a->master) != 0 || unlockpt(a->master) != 0 ||
	    (errno = ptsname_r(a->master, name, sizeof(name))) != 0 ||
	    (a->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    tcgetattr(a->slave, &t) != 0)
		goto fail;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_oflag &= ~(tcflag_t)ONLCR;
	if (tcsetattr(a->slave, TCSANOW, &t) != 0 || ioctl(a->master, TIOCSWINSZ, &ws) != 0 ||
	    fcntl(a->master, F_SETFL, fcntl(a->master, F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	return 0;
fail:
	jg_tramp_fail("password", "cannot create a pseudo-terminal: %s", strerror(errno));
	return JG_ERR_IO;
}

/* Whether the current line is a password prompt. */
static int is_prompt(struct askpass *a)
{
	size_t n = a->linelen;

	while (n > 0 && (a->line[n - 1] == ' ' || a->line[n - 1] == '\r'))
		n--;
	if (n == 0 || a->line[n - 1] != ':')
		return 0;
	a->line[a->linelen] = '\0';
	return strcasestr(a->line, "password") != NULL || strcasestr(a->line, "passphrase") != NULL;
}

/* Write the password and a newline to the terminal, then forget it. */
static int answer(struct askpass *a)
{
	long long deadline = now_ms() + WRITE_WAIT_MS;
	struct pollfd p = {.fd = a->master, .events = POLLOUT};
	size_t off = 0, len;
	int r = 0;

	a->pw[a->pwlen] = '\n';
	len = a->pwlen + 1;
	while (off < len) {
		ssize_t w = write(a->master, a->pw + off, len - off);

		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			long long left = deadline - now_ms();

			if (left <= 0 || poll(&p, 1, (int)left) == 0) {
				jg_tramp_fail("password", "%s does not read its terminal", a->tool);
				r = JG_ERR_IO;
				break;
			}
		} else {
			jg_tramp_fail("password", "cannot answer %s: %s", a->tool, strerror(errno));
			r = JG_ERR_IO;
			break;
		}
	}
	explicit_bzero(a->pw, sizeof(a->pw));
	a->answered = 1;
	a->after_answer = 1;
	return r;
}

/* The current line is complete (or too long to keep back): copy it to stderr,
 * except the blank line that follows an answer. */
static void flush_line(struct askpass *a)
{
	size_t i = 0;

	if (a->after_answer) {
		while (i < a->linelen &&
		       (a->line[i] == ' ' || a->line[i] == '\r' || a->line[i] == '\n'))
			i++;
		a->after_answer = 0;
	}
	if (i < a->linelen)
		to_stderr(a->line, a->linelen);
	a->linelen = 0;
}

/* Take N bytes the terminal showed.  0, or JG_ERR_STATE for a second prompt,
 * or another JG_ERR_* (the error line printed). */
static int feed(struct askpass *a, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a->linelen == LINE_MAX_TAIL)
			flush_line(a);
		a->line[a->linelen++] = p[i];
		if (p[i] == '\n')
			flush_line(a);
	}
	if (!is_prompt(a))
		return 0;
	a->linelen = 0; /* the prompt itself is not copied */
	if (!a->answered)
		return answer(a);
	return JG_ERR_STATE;
}

/* Read what the terminal has; EIO (no slave open) is not an error. */
static int pty_read(struct askpass *a)
{
	char buf[4096];
	ssize_t n;
	int r;

	while ((n = read(a->master, buf, sizeof(buf))) > 0)
		if ((r = feed(a, buf, (size_t)n)) != 0)
			return r;
	return 0;
}

/* Refused: SIGTERM the child's session, SIGKILL what outlives the grace. */
static int stop_child(struct askpass *a)
{
	long long deadline = now_ms() + TERM_GRACE_MS;
	struct timespec tick = {0, 20 * 1000000};

	kill(-a->pid, SIGTERM);
	kill(a->pid, SIGTERM);
	close_fd(&a->master); /* hangs the terminal up as well */
	while (waitpid(a->pid, NULL, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			jg_spawn_kill(a->pid);
			break;
		}
		nanosleep(&tick, NULL);
	}
	return JG_TRAMP_EXIT_FAIL;
}

/* Watch the terminal and the signals until the child ends; its exit status. */
static int supervise(struct askpass *a)
{
	struct signalfd_siginfo si;
	int status, r;

	for (;;) {
		struct pollfd p[2] = {{.fd = a->master, .events = POLLIN},
				      {.fd = a->sfd, .events = POLLIN}};
		pid_t w;

		if (poll(p, 2, TICK_MS) < 0 && errno != EINTR) {
			jg_tramp_fail("password", "poll: %s", strerror(errno));
			return stop_child(a);
		}
		while (read(a->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo != SIGCHLD)
				kill(a->pid, (int)si.ssi_signo); /* the child's to handle */
		if ((r = pty_read(a)) == JG_ERR_STATE) {
			jg_tramp_fail("password", "%s asked for the password again: it was refused",
				      a->tool);
			return stop_child(a);
		} else if (r != 0) {
			return stop_child(a);
		}
		if ((w = waitpid(a->pid, &status, WNOHANG)) == a->pid)
			break;
		if (w < 0 && errno != EINTR) {
			jg_tramp_fail("password", "cannot wait for %s: %s", a->tool,
				      strerror(errno));
			return JG_TRAMP_EXIT_FAIL;
		}
	}
	/* What it wrote just before exiting, then any partial last line. */
	(void)pty_read(a);
	a->after_answer = 0;
	if (a->linelen > 0)
		flush_line(a);
	return jg_tramp_exit_status(status);
}

int jg_askpass_run(const struct jg_tramp *t)
{
	struct askpass *a;
	sigset_t set, old;
	int status = JG_TRAMP_EXIT_FAIL;

	/* Heap, not stack: the password must not linger in a frame we cannot clear. */
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		jg_tramp_fail("password", "out of memory");
		return JG_TRAMP_EXIT_FAIL;
	}
	a->master = a->slave = a->sfd = -1;
	a->tool = "jumpgate-agent";
	if (t->argv != NULL)
		a->tool =
		    strrchr(t->argv[0], '/') != NULL ? strrchr(t->argv[0], '/') + 1 : t->argv[0];
	/* /bin/sh -c JG_HOP_TOOL_SEARCH doas ...: the tool is doas */
	if (t->argv != NULL && t->argv[1] != NULL && t->argv[2] != NULL && t->argv[3] != NULL &&
	    strcmp(t->argv[2], JG_HOP_TOOL_SEARCH) == 0)
		a->tool = t->argv[3];
	if (read_password(a) != 0 || pty_open(a) != 0)
		goto out;
	if (jg_tramp_block_signals(&set, &old) != 0 ||
	    (a->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		jg_tramp_fail("password", "cannot watch signals: %s", strerror(errno));
		goto out;
	}
	if ((a->pid = jg_spawn_fork()) < 0) {
		jg_tramp_fail("password", "cannot fork: %s", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	if (a->pid == 0) {
		jg_tramp_child_signals(&old);
		close_fd(&a->sfd);
		close_fd(&a->master);
		/* A new session, whose controlling terminal the slave becomes. */
		if (setsid() < 0 || ioctl(a->slave, TIOCSCTTY, 0) != 0) {
			jg_tramp_fail("password", "cannot give %s a terminal: %s", a->tool,
				      strerror(errno));
			_exit(JG_TRAMP_EXIT_FAIL);
		}
		close_fd(&a->slave); /* /dev/tty still reaches it: the session holds it */
		explicit_bzero(a->pw, sizeof(a->pw));
		free(a);
		if (t->argv != NULL)
			jg_tramp_exec(t->argv);
		return JG_TRAMP_CONTINUE;
	}
	close(STDIN_FILENO); /* the rest of stdin is the child's */
	status = supervise(a);
out:
	close_fd(&a->master);
	close_fd(&a->slave);
	close_fd(&a->sfd);
	explicit_bzero(a->pw, sizeof(a->pw));
	free(a);
	return status;
}
