/* Helpers shared by the unit tests that run processes. */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

long tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read FD (non-blocking) until EOF (or EIO, a pty's EOF) into BUF; returns the length. */
size_t tu_read_all(int fd, char *buf, size_t cap)
{
	struct pollfd p = {fd, POLLIN, 0};
	size_t len = 0;
	long end = tu_now_ms() + 5000;
	ssize_t n;

	while (len + 1 < cap && tu_now_ms() < end) {
		if (poll(&p, 1, 100) < 0)
			break;
		n = read(fd, buf + len, cap - 1 - len);
		if (n > 0)
			len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	buf[len] = '\0';
	return len;
}

int tu_wait_child(pid_t pid)
{
	int st = -1;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

void tu_close_child(struct jg_child *c)
{
	int *fds[] = {&c->in_fd, &c->out_fd, &c->err_fd};

	for (int i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

