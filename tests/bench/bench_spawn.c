/* bench_spawn [RUNS]: what one process start costs through relay/spawn.c (vfork,
 * the child's set-up, exec of true, waitpid) against fork() + exec of the same, as
 * ssh and sshd start theirs, in the same run, for a small parent (an agent) and
 * a 64 MiB one (a busy gateway): fork() copies the parent's page tables, vfork()
 * does not.  Prints figures and ratios only (make bench-spawn). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay/spawn.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int by_spawn(char *const *argv)
{
	struct jg_spawn_opts o = {.argv = argv};
	struct jg_child c;
	char err[256];

	if (jg_spawn(&o, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_spawn: %s\n", err);
		return -1;
	}
	close(c.in_fd);
	close(c.out_fd);
	if (c.err_fd >= 0)
		close(c.err_fd);
	return waitpid(c.pid, NULL, 0) == c.pid ? 0 : -1;
}

static int by_fork(char *const *argv)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

/* Milliseconds per start, or -1. */
static double per_start(int (*start)(char *const *), int runs)
{
	char *argv[] = {"true", NULL};
	double t0 = now_ms();

	for (int i = 0; i < runs; i++)
		if (start(argv) != 0)
			return -1;
	return (now_ms() - t0) / runs;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 200;
	size_t sizes[] = {0, 64};
	char *grown = NULL;

	if (runs <= 0) {
		fprintf(stderr, "usage: bench_spawn [RUNS > 0]\n");
		return 2;
	}
	printf("== one process start (true), %d each, alternating; ms per start\n", runs);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		double s = 0, f = 0;

		if (sizes[k] > 0) {
			if ((grown = malloc(sizes[k] << 20)) == NULL)
				return 1;
			memset(grown, 1, sizes[k] << 20); /* resident: page tables to copy */
		}
		for (int round = 0; round < 2; round++) {
			double a = per_start(by_fork, runs / 2), b = per_start(by_spawn, runs / 2);

			if (a < 0 || b < 0)
				return 1;
			f += a / 2;
			s += b / 2;
		}
		printf("  parent +%3zu MiB: jg_spawn (vfork) %6.3f ms   fork()+exec %6.3f ms   "
		       "ratio %.2f\n",
		       sizes[k], s, f, s / f);
	}
	free(grown);
	return 0;
}
