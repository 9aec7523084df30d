/* --setns: which process's namespaces to enter (trampoline.h).
 *
 * "pid:N" names it; a container name is turned into the PID of its first
 * process by asking the container manager's tool, run without a shell through
 * jg_spawn, with its stdout and stderr collected and the whole run bounded:
 *   docker:NAME      docker inspect --format {{.State.Pid}} NAME
 *   lxc:NAME         lxc-info [-P LXC_PATH] -H -p -n NAME
 *   machinectl:NAME  machinectl show --property Leader --value NAME */
#include "config.h" /* _GNU_SOURCE */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/trampoline.h"
#include "relay/err.h"
#include "relay/spawn.h"

#define TOOL_TIMEOUT_MS 10000
#define TOOL_OUT_MAX 4096 /* bytes kept of each of stdout and stderr (the end of stderr) */

/* What one tool run left behind. */
struct tool_run {
	char out[TOOL_OUT_MAX + 1];
	char err[TOOL_OUT_MAX + 1];
	size_t outlen, errlen;
	int status;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A decimal process ID above 0, nothing else; 0 when S is not one. */
static pid_t parse_pid(const char *s, size_t len)
{
	long long v = 0;

	if (len == 0 || len > 10)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 && v <= 0x3fffffff ? (pid_t)v : 0; /* PID_MAX_LIMIT is 2^22 */
}

/* Container names: the target grammar's allow-list (never a leading '-', so
 * the tool cannot take it for an option). */
static int name_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '-' || s[0] == '.' || strlen(s) > 255)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* Append N bytes to BUF (LEN used, TOOL_OUT_MAX room); with KEEP_END the oldest
 * bytes make way, else the newest are dropped. */
static void keep(char *buf, size_t *len, const char *p, size_t n, int keep_end)
{
	if (n > TOOL_OUT_MAX) {
		if (!keep_end)
			n = TOOL_OUT_MAX;
		else {
			p += n - TOOL_OUT_MAX;
			n = TOOL_OUT_MAX;
		}
	}
	if (*len + n > TOOL_OUT_MAX) {
		size_t drop = *len + n - TOOL_OUT_MAX;

		if (!keep_end)
			n -= drop < n ? drop : n;
		else {
			memmove(buf, buf + drop, *len - drop);
			*len -= drop;
		}
	}
	memcpy(buf + *len, p, n);
	*len += n;
	buf[*len] = '\0';
}

/* Run ARGV to its end within TOOL_TIMEOUT_MS.  0 with R filled, or a negative
 * JG_ERR_* with the reason in WHY (and the child killed and reaped). */
static int tool_run(char *const *argv, struct tool_run *r, char *why, size_t whylen)
{
	struct jg_spawn_opts o = {.argv = argv};
	struct jg_child c;
	long long deadline = now_ms() + TOOL_TIMEOUT_MS;
	struct pollfd p[2];
	char buf[1024];
	int e, timed_out = 0;

	memset(r, 0, sizeof(*r));
	if ((e = jg_spawn(&o, &c, why, whylen)) != 0)
		return e;
	close(c.in_fd); /* stdin: EOF at once */
	p[0] = (struct pollfd){.fd = c.out_fd, .events = POLLIN};
	p[1] = (struct pollfd){.fd = c.err_fd, .events = POLLIN};
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		long long left = deadline - now_ms();

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0 && i == 0)
				keep(r->out, &r->outlen, buf, (size_t)n, 0);
			else if (n > 0)
				keep(r->err, &r->errlen, buf, (size_t)n, 1);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	/* Output closed: the tool is exiting.  Wait for it within what is left. */
	while (!timed_out) {
		pid_t w = waitpid(c.pid, &r->status, WNOHANG);
		struct timespec tick = {0, 10 * 1000000};

		if (w == c.pid)
			return 0;
		if (w < 0 && errno != EINTR) {
			snprintf(why, whylen, "cannot wait for %s: %s", argv[0], strerror(errno));
			return JG_ERR_IO;
		}
		if (now_ms() >= deadline)
			timed_out = 1;
		else
			nanosleep(&tick, NULL);
	}
	/* jg_spawn gave it its own process group: take anything it started too. */
	jg_spawn_kill(c.pid);
	snprintf(why, whylen, "no answer within %d s", TOOL_TIMEOUT_MS / 1000);
	return JG_ERR_IO;
}

/* The last non-empty line of S, trimmed, in place. */
static const char *last_line(char *s)
{
	char *end = s + strlen(s), *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	while (*start == ' ' || *start == '\t' || *start == '\r')
		start++;
	return start;
}

/* The container managers: how to ask each for the PID of a container. */
static const struct container_kind {
	const char *prefix;  /* of the --setns target */
	const char *tool;    /* run from PATH without --setns-tool-path */
	const char *what;    /* names the tool in messages */
	const char *args[5]; /* between the tool and NAME, NULL-terminated */
} kinds[] = {
    {"docker:", "docker", "docker inspect", {"inspect", "--format", "{{.State.Pid}}"}},
    {"lxc:", "lxc-info", "lxc-info", {"-H", "-p", "-n"}},
    {"machinectl:", "machinectl", "machinectl show", {"show", "--property", "Leader", "--value"}},
};

/* Ask K's tool (TOOL_PATH, or from PATH) for the PID of container NAME. */
static int container_pid(const struct container_kind *k, const char *name, const char *tool_path,
			 const char *lxc_path, pid_t *pid, char *why, size_t whylen)
{
	char *argv[10], err[512];
	struct tool_run *r;
	const char *msg, *o;
	size_t n = 0, olen;
	int e;

	argv[n++] = (char *)(tool_path != NULL ? tool_path : k->tool);
	if (lxc_path != NULL && strcmp(k->prefix, "lxc:") == 0) {
		argv[n++] = (char *)"-P";
		argv[n++] = (char *)lxc_path;
	}
	for (size_t i = 0; k->args[i] != NULL; i++)
		argv[n++] = (char *)k->args[i];
	argv[n++] = (char *)name;
	argv[n] = NULL;
	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(why, whylen, "%s failed: out of memory", k->what);
		return JG_ERR_NOMEM;
	}
	if ((e = tool_run(argv, r, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "%s failed: %s", k->what, err);
		goto out;
	}
	e = JG_ERR_NOTFOUND;
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
		if (*(msg = last_line(r->err)) != '\0')
			snprintf(why, whylen, "%s failed: %s", k->what, msg);
		else if (WIFEXITED(r->status))
			snprintf(why, whylen, "%s failed: exit status %d", k->what,
				 WEXITSTATUS(r->status));
		else
			snprintf(why, whylen, "%s failed: killed by signal %d", k->what,
				 WTERMSIG(r->status));
		goto out;
	}
	o = last_line(r->out);
	olen = strlen(o);
	if ((*pid = parse_pid(o, olen)) == 0) {
		/* docker says 0 for a stopped container, lxc-info nothing. */
		if (olen == 0 || strcmp(o, "0") == 0)
			snprintf(why, whylen, "%s failed: container %s is not running", k->what,
				 name);
		else
			snprintf(why, whylen, "%s failed: unexpected answer '%.64s'", k->what, o);
		goto out;
	}
	e = 0;
out:
	free(r);
	return e;
}

int jg_setns_pid(const char *target, const char *tool_path, const char *lxc_path, pid_t *pid,
		 char *why, size_t whylen)
{
	const char *name;

	if (strncmp(target, "pid:", 4) == 0 || (target[0] >= '0' && target[0] <= '9')) {
		const char *n = target + (target[0] == 'p' ? 4 : 0);

		if ((*pid = parse_pid(n, strlen(n))) == 0) {
			snprintf(why, whylen, "bad process ID '%s'", n);
			return JG_ERR_INVAL;
		}
		return 0;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (strncmp(target, kinds[k].prefix, strlen(kinds[k].prefix)) != 0)
			continue;
		name = target + strlen(kinds[k].prefix);
		if (!name_ok(name)) {
			snprintf(why, whylen, "bad container name '%s'", name);
			return JG_ERR_INVAL;
		}
		return container_pid(&kinds[k], name, tool_path, lxc_path, pid, why, whylen);
	}
	snprintf(why, whylen, "bad target '%s': expected %s", target,
		 "pid:N, docker:NAME, lxc:NAME or machinectl:NAME");
	return JG_ERR_INVAL;
}
