/* The trampoline modes' shared pieces: dispatch, the error line, exec, and
 * the exit status of a waiting parent (trampoline.h). */
#include "config.h" /* _GNU_SOURCE: execvp semantics, vsnprintf */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/trampoline.h"
#include "relay/err.h"
#include "relay/log.h"

int jg_tramp_run(const struct jg_tramp *t)
{
	switch (t->mode) {
	case JG_TRAMP_NONE:
		return JG_TRAMP_CONTINUE;
	case JG_TRAMP_SETNS:
		return jg_setns_run(t);
	case JG_TRAMP_ASKPASS:
		return jg_askpass_run(t);
	}
	return JG_TRAMP_EXIT_FAIL;
}

void jg_tramp_fail(const char *word, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t len;
	int n;

	n = snprintf(line, sizeof(line), "jumpgate-stub: error %s ", word);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	len = (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len += (size_t)n < sizeof(line) - len - 1 ? (size_t)n : sizeof(line) - len - 2;
	/* One line, whatever the detail holds: the gateway reads up to the newline. */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	/* One write, past stdio: nothing buffered may reach stdout after it, and a
	 * forked child must not flush a copy of it. */
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDOUT_FILENO, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the reader is gone; the exit status still says it */
		off += (size_t)w;
	}
}

void jg_tramp_exec(char *const *argv)
{
	execvp(argv[0], argv);
	jg_log_error("cannot run %s: %s", argv[0], strerror(errno));
	_exit(JG_TRAMP_EXIT_NOEXEC);
}

int jg_tramp_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return JG_TRAMP_EXIT_FAIL;
}

int jg_tramp_block_signals(sigset_t *set, sigset_t *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	/* Inherited SIG_IGN for SIGCHLD would reap our child behind our back. */
	if (sigaction(SIGCHLD, &sa, NULL) != 0 || sigprocmask(SIG_BLOCK, set, old) != 0)
		return JG_ERR_IO;
	return 0;
}

void jg_tramp_child_signals(const sigset_t *old)
{
	/* Only the mask changed in the parent (see jg_tramp_block_signals); the
	 * command gets the mask we had. */
	sigprocmask(SIG_SETMASK, old, NULL);
}
