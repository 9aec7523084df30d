/* The persistent client, the invoking side: find the master's socket, or start the master
 * under a lock (see client/mux.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/mux.h"
#include "config/paths.h"
#include "relay/clock.h"
#include "relay/log.h"
#include "relay/sha256.h"
#include "relay/spawn.h"

/* How long a racing invocation waits for the one that starts the master, beyond the
 * connect timeout that master has for the gateway. */
#define MUX_START_SLACK_MS 3000

/* The private directory: $XDG_RUNTIME_DIR/jumpgate, else $HOME/.cache/jumpgate, created
 * 0700; one that is not ours or that others may enter is not used.  0 or -1. */
static int mux_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	struct stat st;
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/jumpgate", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/jumpgate", home);
	else
		return -1;
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (jg_paths_mkdir_p(buf, 0700) != 0) {
		jg_log_debug("%s: %s: not using a persistent client", buf, strerror(errno));
		return -1;
	}
	if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
		jg_log_warn("%s is not a directory of ours: not using a persistent client", buf);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(buf, 0700) != 0)
		return -1;
	return 0;
}

/* "DIR/m-<first 16 hex digits of sha256(gateway, cert, key, ca)>" + SUFFIX; DIR NULL:
 * the private directory. */
static int mux_path(const struct jg_client *c, const char *dir, const char *suffix, char *buf,
		    size_t len)
{
	const char *parts[4] = {c->gateway, c->cert, c->key, c->ca};
	char mdir[PATH_MAX], real[PATH_MAX], hex[JG_SHA256_HEX_LEN];
	uint8_t digest[JG_SHA256_LEN];
	struct jg_sha256 h;
	int n;

	if (dir == NULL && mux_dir(mdir, sizeof(mdir)) != 0)
		return -1;
	if (dir == NULL)
		dir = mdir;
	jg_sha256_init(&h);
	for (int i = 0; i < 4; i++) {
		/* The same file named two ways is the same certificate. */
		const char *p = i > 0 && realpath(parts[i], real) != NULL ? real : parts[i];

		jg_sha256_update(&h, p, strlen(p) + 1);
	}
	jg_sha256_final(&h, digest);
	jg_sha256_hex(digest, hex);
	n = snprintf(buf, len, "%s/m-%.16s%s", dir, hex, suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int jg_mux_socket_path(const struct jg_client *c, char *buf, size_t len)
{
	if (len > sizeof(((struct sockaddr_un *)0)->sun_path))
		len = sizeof(((struct sockaddr_un *)0)->sun_path);
	return mux_path(c, NULL, ".sock", buf, len);
}

/* Connect to the master at PATH and make sure it runs as our uid.  The socket, or -1
 * with errno set (ECONNREFUSED also for a master of another uid). */
static int mux_connect(const struct jg_client *c, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {c->connect_timeout, 0};
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, err;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* A full listen queue makes a blocking connect wait: bounded by this. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
		goto fail;
	if (cred.uid != getuid()) {
		jg_log_warn("%s belongs to uid %u, not to us: not using it", path,
			    (unsigned)cred.uid);
		errno = ECONNREFUSED;
		goto fail;
	}
	if (jg_fd_prepare(fd) != 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Take the lock file, waiting at most until DEADLINE_MS.  Its fd, or -1. */
static int mux_lock(const char *path, uint64_t deadline_ms)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		struct timespec ts = {0, 2 * 1000 * 1000};

		if (errno != EWOULDBLOCK || jg_clock_ms() >= deadline_ms) {
			close(fd);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

/* Start the master for SOCK and wait (until DEADLINE_MS) for its first line: "ok", or
 * "fail: <why the gateway could not be reached>".  1, -1 (MSG filled), or 0. */
static int mux_start(const struct jg_client *c, const char *sock, uint64_t deadline_ms, char *msg,
		     size_t len)
{
	char exe[PATH_MAX], tbuf[16], pbuf[16], line[1200], err[256];
	char *argv[] = {exe,
			"-g",
			(char *)c->gateway,
			"--cert",
			(char *)c->cert,
			"--key",
			(char *)c->key,
			"--ca",
			(char *)c->ca,
			"--timeout",
			tbuf,
			"--persist",
			pbuf,
			JG_MUX_MASTER_CMD,
			(char *)sock,
			NULL};
	struct jg_spawn_opts opts = {.argv = argv};
	struct jg_child child;
	size_t got = 0;
	ssize_t n, r;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	snprintf(tbuf, sizeof(tbuf), "%d", c->timeout);
	snprintf(pbuf, sizeof(pbuf), "%d", c->persist);
	if (jg_spawn(&opts, &child, err, sizeof(err)) != 0) {
		jg_log_warn("cannot start the persistent client: %s", err);
		return 0;
	}
	close(child.in_fd);
	close(child.err_fd);
	while (got < sizeof(line) - 1 && memchr(line, '\n', got) == NULL) {
		struct pollfd pfd = {.fd = child.out_fd, .events = POLLIN};
		uint64_t now = jg_clock_ms();

		if (now >= deadline_ms || poll(&pfd, 1, (int)(deadline_ms - now)) <= 0)
			break;
		r = read(child.out_fd, line + got, sizeof(line) - 1 - got);
		if (r <= 0 && !(r < 0 && errno == EAGAIN))
			break;
		if (r > 0)
			got += (size_t)r;
	}
	close(child.out_fd);
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, "ok") == 0)
		return 1;
	if (strncmp(line, "fail: ", 6) == 0) {
		snprintf(msg, len, "%s", line + 6);
		return -1;
	}
	jg_log_warn("the persistent client did not start (%s): connecting directly",
		    got > 0 ? line : "no answer");
	return 0;
}

int jg_mux_attach(struct jg_client *c, int start, int *fd, char *msg, size_t len)
{
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)], lock[PATH_MAX];
	uint64_t deadline =
	    jg_clock_ms() + (uint64_t)c->connect_timeout * 1000 + MUX_START_SLACK_MS;
	int lfd, r;

	if (c->persist <= 0 || c->unix_path[0] != '\0')
		return 0;
	if (jg_mux_socket_path(c, sock, sizeof(sock)) != 0)
		return 0;
	if ((*fd = mux_connect(c, sock)) >= 0)
		return 1;
	if (!start)
		return 0;
	if (errno != ENOENT && errno != ECONNREFUSED) {
		jg_log_warn("cannot use the persistent client %s: %s", sock, strerror(errno));
		return 0;
	}
	/* The lock file is the socket's name with another ending. */
	snprintf(lock, sizeof(lock), "%.*s.lock", (int)(strlen(sock) - strlen(".sock")), sock);
	/* Whoever holds the lock is starting the master: wait for it, then try again. */
	if ((lfd = mux_lock(lock, deadline)) < 0) {
		jg_log_warn("%s: cannot take the lock: connecting directly", lock);
		return 0;
	}
	if ((*fd = mux_connect(c, sock)) >= 0) {
		close(lfd);
		return 1;
	}
	/* No master answers: what is there is stale (its master died without cleaning up). */
	if (unlink(sock) == 0)
		jg_log_info("replaced the stale persistent client socket %s", sock);
	r = mux_start(c, sock, deadline, msg, len);
	if (r == 1 && (*fd = mux_connect(c, sock)) < 0) {
		jg_log_warn("cannot connect to the persistent client %s: %s", sock,
			    strerror(errno));
		r = 0;
	}
	close(lfd);
	return r;
}
